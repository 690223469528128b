import { create, toBinary } from '@bufbuild/protobuf';
import { type ExportTraceServiceRequest, otlp } from '@heimdall/shared';

/** Spans must lie within [now − 7 days, now + 10 minutes] (SPEC §4). */
export const MAX_SPAN_AGE_MS = 7 * 86_400_000;
export const MAX_SPAN_FUTURE_MS = 10 * 60_000;

export interface SpanValidation {
  /** The request with only the valid spans; scopes and resources left without spans are dropped. */
  readonly accepted: ExportTraceServiceRequest;
  /** Spans left out, for `partialSuccess.rejectedSpans`. */
  readonly rejected: number;
  /** Why spans were left out, each reason once, for `partialSuccess.errorMessage`. */
  readonly errors: string[];
}

const NS_PER_MS = 1_000_000n;

/**
 * Splits an export into the spans Jaeger should store and the ones rejected one by one: ids of the wrong size
 * or all zero, an end before the start, or a span not wholly within 7 days back and 10 minutes ahead of `now`
 * (ms since the epoch).
 */
export function validateSpans(request: ExportTraceServiceRequest, now: number): SpanValidation {
  const oldest = BigInt(now - MAX_SPAN_AGE_MS) * NS_PER_MS;
  const newest = BigInt(now + MAX_SPAN_FUTURE_MS) * NS_PER_MS;
  const errors = new Set<string>();
  let rejected = 0;

  const keep = (span: otlp.Span): boolean => {
    const problem = spanProblem(span, oldest, newest);
    if (problem === undefined) return true;
    rejected++;
    errors.add(problem);
    return false;
  };
  const resourceSpans = request.resourceSpans
    .map((rs) => {
      const scopeSpans = rs.scopeSpans
        .map((ss) => create(otlp.ScopeSpansSchema, { scope: ss.scope, schemaUrl: ss.schemaUrl, spans: ss.spans.filter(keep) }))
        .filter((ss) => ss.spans.length > 0);
      return create(otlp.ResourceSpansSchema, { resource: rs.resource, schemaUrl: rs.schemaUrl, scopeSpans });
    })
    .filter((rs) => rs.scopeSpans.length > 0);

  const accepted = create(otlp.ExportTraceServiceRequestSchema, { resourceSpans });
  return { accepted, rejected, errors: [...errors] };
}

function spanProblem(span: otlp.Span, oldest: bigint, newest: bigint): string | undefined {
  if (!isValidId(span.traceId, 16)) return 'trace ids must be 16 bytes and not all zero';
  if (!isValidId(span.spanId, 8)) return 'span ids must be 8 bytes and not all zero';
  if (span.parentSpanId.length !== 0 && span.parentSpanId.length !== 8) return 'parent span ids must be empty or 8 bytes';
  if (span.endTimeUnixNano < span.startTimeUnixNano) return 'spans must not end before they start';
  if (span.startTimeUnixNano < oldest || span.endTimeUnixNano > newest) {
    return 'spans must be at most 7 days old and at most 10 minutes ahead';
  }
  return undefined;
}

function isValidId(id: Uint8Array, size: number): boolean {
  return id.length === size && id.some((byte) => byte !== 0);
}

/** The request as OTLP protobuf, the body Jaeger's OTLP/HTTP receiver takes. */
export function encodeForJaeger(request: ExportTraceServiceRequest): Uint8Array {
  return toBinary(otlp.ExportTraceServiceRequestSchema, request);
}
