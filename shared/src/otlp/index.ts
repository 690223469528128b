/** OTLP in: the one decoder (protobuf and JSON), the receiver route every signal uses, and the message types. */
export {
  type DecodeResult,
  type OtlpEncoding,
  type OtlpExportResult,
  type OtlpRequest,
  type OtlpSignal,
  decodeOtlpRequest,
  hexId,
} from './decode.js';
export { type Json, anyValueJson, anyValueText } from './any-value.js';
export {
  DEFAULT_MAX_BODY_BYTES,
  type OtlpErrorAnswer,
  type OtlpHandlerContext,
  type OtlpRouteOptions,
  encodeOtlpError,
  registerOtlpRoute,
} from './receiver.js';
export type {
  AnyValue,
  ExportLogsServiceRequest,
  ExportMetricsServiceRequest,
  ExportTraceServiceRequest,
  KeyValue,
  Metric,
} from './schema.js';
import * as otlp from './schema.js';

/** The OTLP message types and their descriptors: `otlp.ExportMetricsServiceRequestSchema`, `otlp.Metric`, ... */
export { otlp };
