import type { ExportMetricsServiceRequest, ExportTraceServiceRequest, OtlpExportResult } from '@heimdall/shared/otlp';
import { spanMetrics } from './red-metrics.js';
import { DEFAULT_SPAN_LIMITS, type SpanLimits, TRUNCATED_ATTRIBUTE, validateSpans } from './span-validation.js';
import type { JaegerStore, RawExport } from './store.js';
import { withScopeAttributesOnSpans } from './trace-model.js';

/**
 * `POST /v1/traces`: the spans that pass validation go to Jaeger, cut to the span limits, and the push is answered
 * once Jaeger has stored them; rejected spans are reported as partial success, cuts as its warning. RED metrics are derived from the stored spans and handed to
 * the forwarder, which sends them to the metrics subgraph in the background.
 *
 * A retried push is stored again by Jaeger; reads show each span once (identical spans count once, trace-model.ts),
 * and the retry's RED points carry the same series and times as the first ones, which the metrics ingest drops.
 */
export class TraceIngest {
  constructor(
    private readonly store: Pick<JaegerStore, 'write'>,
    private readonly red: { submit(request: ExportMetricsServiceRequest): void },
    private readonly now: () => number = Date.now,
    private readonly limits: SpanLimits = DEFAULT_SPAN_LIMITS,
  ) {}

  /** `raw`: the request as the client sent it in protobuf, forwarded as it is when no span is rejected or cut and no scope has attributes. */
  async handle(request: ExportTraceServiceRequest, raw?: RawExport): Promise<OtlpExportResult> {
    const now = this.now();
    const validation = validateSpans(request, now, this.limits);
    const errors = [...validation.errors];
    if (validation.truncated > 0)
      errors.push(
        `cut to the span limits: ${validation.truncated} values or items (counted in ${TRUNCATED_ATTRIBUTE})`,
      );
    let rejected = validation.rejected;
    if (validation.accepted.resourceSpans.length > 0) {
      const toStore = withScopeAttributesOnSpans(validation.accepted);
      const asSent =
        rejected === 0 && validation.truncated === 0 && toStore === validation.accepted && raw !== undefined;
      const stored = await this.store.write(toStore, asSent ? { raw } : {});
      rejected += stored.rejected;
      if (stored.errorMessage !== '') errors.push(`Jaeger: ${stored.errorMessage}`);
      this.red.submit(spanMetrics(validation.accepted, now));
    }
    return errors.length === 0 ? { rejected } : { rejected, errorMessage: errors.join('; ') };
  }
}
