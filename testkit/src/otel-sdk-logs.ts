// Log records pushed the way applications push them: the OpenTelemetry JS logs SDK with its OTLP exporters (protobuf
// and JSON), for the logs subgraph's tests and the e2e tests: they push with the SDK versions declared here.
import { ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import type { AnyValue, SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtobufLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';

export type SdkEncoding = 'protobuf' | 'json';

export interface SdkLogRecord {
  readonly body: AnyValue;
  readonly severityNumber?: SeverityNumber;
  readonly severityText?: string;
  readonly attributes?: Record<string, AnyValue>;
  /** Epoch ms; the SDK's clock when absent. */
  readonly timestamp?: number;
  /** Written inside this span (32 and 16 hex digits). */
  readonly span?: { readonly traceId: string; readonly spanId: string };
}

/**
 * Emits the records through a LoggerProvider of `service` (resource attributes `resource` besides) whose exporter
 * posts to `url` (a full /v1/logs URL) in `encoding` with `headers` (the caller's credentials); resolves once the SDK has exported them (shutdown flushes).
 */
export async function pushWithSdk(
  url: string,
  encoding: SdkEncoding,
  service: string,
  records: readonly SdkLogRecord[],
  resource: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<void> {
  const exporter =
    encoding === 'protobuf' ? new ProtobufLogExporter({ url, headers }) : new JsonLogExporter({ url, headers });
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': service, ...resource }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('heimdall.sdk-test', '1.0.0');
  for (const record of records) {
    logger.emit({
      body: record.body,
      ...(record.severityNumber === undefined ? {} : { severityNumber: record.severityNumber }),
      ...(record.severityText === undefined ? {} : { severityText: record.severityText }),
      ...(record.attributes === undefined ? {} : { attributes: record.attributes }),
      ...(record.timestamp === undefined ? {} : { timestamp: record.timestamp }),
      ...(record.span === undefined
        ? {}
        : {
            context: trace.setSpanContext(ROOT_CONTEXT, {
              traceId: record.span.traceId,
              spanId: record.span.spanId,
              traceFlags: TraceFlags.SAMPLED,
            }),
          }),
    });
  }
  await provider.shutdown();
}
