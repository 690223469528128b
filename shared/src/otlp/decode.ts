/**
 * Decodes OTLP/HTTP export requests (protobuf or OTLP/JSON) into the typed messages of schema.ts, and encodes
 * the export responses and `google.rpc.Status` error bodies.
 *
 * Output shape: `@bufbuild/protobuf` v2 message objects, typed as protoc-gen-es would type them. Field names are
 * lowerCamelCase; 64-bit integers (`timeUnixNano`, `count`, `bucketCounts`, `asInt`, `intValue`...) are `bigint`;
 * ids and `bytesValue` are `Uint8Array` (see `hexId`); enums are numbers (TypeScript enums in schema.ts); oneofs
 * are `{ case, value }` (`metric.data.case === 'histogram'`, `point.value.case === 'asInt'`); message fields are
 * optional (`resource?`, `scope?`), as are proto3 `optional` scalars (`HistogramDataPoint.sum/min/max`).
 * Every field of the schema is present; the types are generated from the same descriptors that decode.
 */
import type { DescField, DescMessage, JsonValue, MessageShape } from '@bufbuild/protobuf';
import { create, fromBinary, fromJson, toBinary, toJsonString } from '@bufbuild/protobuf';
import {
  type ExportLogsServiceRequest,
  ExportLogsServiceRequestSchema,
  ExportLogsServiceResponseSchema,
  type ExportMetricsServiceRequest,
  ExportMetricsServiceRequestSchema,
  ExportMetricsServiceResponseSchema,
  type ExportTraceServiceRequest,
  ExportTraceServiceRequestSchema,
  ExportTraceServiceResponseSchema,
  RpcStatusSchema,
} from './schema.js';

export type OtlpSignal = 'metrics' | 'logs' | 'traces';

/** The wire format of a request, chosen by its Content-Type; the response uses the same. */
export type OtlpEncoding = 'protobuf' | 'json';

/** The decoded export request of each signal. */
export interface OtlpRequestBySignal {
  metrics: ExportMetricsServiceRequest;
  logs: ExportLogsServiceRequest;
  traces: ExportTraceServiceRequest;
}

export type OtlpRequest<S extends OtlpSignal> = OtlpRequestBySignal[S];

export type DecodeResult<S extends OtlpSignal> = { ok: true; request: OtlpRequest<S> } | { ok: false; message: string };

const REQUEST_SCHEMAS: { [S in OtlpSignal]: DescMessage } = {
  metrics: ExportMetricsServiceRequestSchema,
  logs: ExportLogsServiceRequestSchema,
  traces: ExportTraceServiceRequestSchema,
};

/**
 * Decodes a (decompressed) request body. Malformed input is an expected failure, returned with a message fit
 * for a 400 response.
 */
export function decodeOtlpRequest<S extends OtlpSignal>(
  signal: S,
  encoding: OtlpEncoding,
  body: Uint8Array,
): DecodeResult<S> {
  const schema = REQUEST_SCHEMAS[signal];
  try {
    // Unknown protobuf fields (from a newer OTLP) are not kept: nothing re-encodes the decoded message.
    // The cast is sound because REQUEST_SCHEMAS maps each signal to that signal's schema.
    const request =
      encoding === 'protobuf' ? fromBinary(schema, body, { readUnknownFields: false }) : decodeJson(schema, body);
    return { ok: true, request: request as OtlpRequest<S> };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `invalid OTLP ${encoding === 'protobuf' ? 'protobuf' : 'JSON'} body: ${reason}` };
  }
}

/** Lower-case hex of a trace or span id, as OTLP/JSON and W3C trace context write it; `''` for an absent id. */
export function hexId(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeJson(schema: DescMessage, body: Uint8Array) {
  const json = JSON.parse(quoteLongIntegers(utf8.decode(body))) as JsonValue;
  hexIdsToBase64(schema, json, schema.name);
  // OTLP/JSON requires receivers to ignore unknown fields, so newer clients can talk to older servers.
  return fromJson(schema, json, { ignoreUnknownFields: true });
}

/**
 * JSON.parse turns integers above 2^53 into rounded doubles, and nanosecond timestamps (~1.7e18) are such
 * integers. OTLP/JSON allows 64-bit fields as numbers, so integer literals of 16+ digits are quoted before
 * parsing: proto3 JSON accepts every numeric field as a string, so the value then reaches the field exactly.
 * A hand-written scan rather than a regular expression: V8's backtracking overflows its stack on strings
 * with millions of escapes, which a 20 MiB body can hold.
 */
function quoteLongIntegers(text: string): string {
  if (!/[:[,]\s*-?\d{16}/.test(text)) return text; // the common case: SDKs send 64-bit values as strings
  const parts: string[] = [];
  let copied = 0;
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      // Skip the string literal so that digits inside it stay as they are.
      for (i++; i < text.length && text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === BACKSLASH) i++;
      i++;
    } else if (code === MINUS || isDigit(code)) {
      const start = i;
      let integer = true;
      for (i++; i < text.length && isNumberCode(text.charCodeAt(i)); i++) integer &&= isDigit(text.charCodeAt(i));
      const digits = i - start - (code === MINUS ? 1 : 0);
      if (integer && digits >= 16) {
        parts.push(text.slice(copied, start), '"', text.slice(start, i), '"');
        copied = i;
      }
    } else {
      i++;
    }
  }
  parts.push(text.slice(copied));
  return parts.join('');
}

const QUOTE = 0x22; // "
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const isDigit = (code: number): boolean => code >= 0x30 && code <= 0x39;
/** Characters that can continue a JSON number after its first one: digits, `.`, `e`/`E`, `+`/`-`. */
const isNumberCode = (code: number): boolean =>
  isDigit(code) || code === 0x2e || (code | 0x20) === 0x65 || code === 0x2b || code === MINUS;

/** Fields that OTLP/JSON writes as hex although proto3 JSON would write base64 (OTLP spec, "JSON Protobuf Encoding"). */
const HEX_ID_FIELDS = new Set(['trace_id', 'span_id', 'parent_span_id']);
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

const fieldsByJsonKey = new WeakMap<DescMessage, Map<string, DescField>>();

/** A message's fields by every key proto3 JSON accepts for them: the lowerCamelCase JSON name and the proto name. */
function jsonKeys(desc: DescMessage): Map<string, DescField> {
  let keys = fieldsByJsonKey.get(desc);
  if (keys === undefined) {
    keys = new Map(desc.fields.flatMap((field) => [[field.jsonName, field] as const, [field.name, field] as const]));
    fieldsByJsonKey.set(desc, keys);
  }
  return keys;
}

/**
 * Rewrites, in place, the hex trace/span ids of a parsed OTLP/JSON message as base64 so that the standard
 * proto3 JSON reader decodes them. Walks only along message-typed fields of the schema, so an attribute that
 * happens to be called `traceId` is untouched. Throws on an invalid hex id, naming where it is.
 */
function hexIdsToBase64(desc: DescMessage, json: JsonValue, path: string): void {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return; // fromJson reports the type error
  const keys = jsonKeys(desc);
  for (const [key, value] of Object.entries(json)) {
    const field = keys.get(key);
    if (field === undefined || value === null) continue;
    const at = `${path}.${key}`;
    if (field.fieldKind === 'scalar' && HEX_ID_FIELDS.has(field.name) && typeof value === 'string') {
      if (!HEX.test(value))
        throw new Error(`${at} must be a hex-encoded id, got ${JSON.stringify(value.slice(0, 64))}`);
      json[key] = Buffer.from(value, 'hex').toString('base64');
    } else if (field.fieldKind === 'message') {
      hexIdsToBase64(field.message, value, at);
    } else if (field.fieldKind === 'list' && field.listKind === 'message' && Array.isArray(value)) {
      value.forEach((item, index) => hexIdsToBase64(field.message, item, `${at}[${index}]`));
    }
  }
}

/** What a handler reports about a request it accepted (OTLP partial success). */
export interface OtlpExportResult {
  /** Items (data points, log records or spans) not stored; 0 when all were. */
  readonly rejected: number;
  /** Why items were rejected, or a warning for the client; omitted when there is nothing to say. */
  readonly errorMessage?: string;
}

/** An encoded response body with its Content-Type. */
export interface EncodedBody {
  readonly contentType: string;
  readonly body: Uint8Array | string;
}

export const OTLP_CONTENT_TYPES: { readonly [E in OtlpEncoding]: string } = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

/** Encodes the `Export<Signal>ServiceResponse`; `partialSuccess` is set only when there is something to report. */
export function encodeOtlpResponse(signal: OtlpSignal, encoding: OtlpEncoding, result: OtlpExportResult): EncodedBody {
  const errorMessage = result.errorMessage ?? '';
  const report = result.rejected > 0 || errorMessage !== '';
  const rejected = BigInt(result.rejected);
  switch (signal) {
    case 'metrics': {
      const partialSuccess = report ? { rejectedDataPoints: rejected, errorMessage } : undefined;
      return encode(
        ExportMetricsServiceResponseSchema,
        create(ExportMetricsServiceResponseSchema, { partialSuccess }),
        encoding,
      );
    }
    case 'logs': {
      const partialSuccess = report ? { rejectedLogRecords: rejected, errorMessage } : undefined;
      return encode(
        ExportLogsServiceResponseSchema,
        create(ExportLogsServiceResponseSchema, { partialSuccess }),
        encoding,
      );
    }
    case 'traces': {
      const partialSuccess = report ? { rejectedSpans: rejected, errorMessage } : undefined;
      return encode(
        ExportTraceServiceResponseSchema,
        create(ExportTraceServiceResponseSchema, { partialSuccess }),
        encoding,
      );
    }
  }
}

/** Encodes a `google.rpc.Status`, the body OTLP/HTTP requires for every error response. */
export function encodeRpcStatus(encoding: OtlpEncoding, code: number, message: string): EncodedBody {
  return encode(RpcStatusSchema, create(RpcStatusSchema, { code, message }), encoding);
}

function encode<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
  encoding: OtlpEncoding,
): EncodedBody {
  return {
    contentType: OTLP_CONTENT_TYPES[encoding],
    body: encoding === 'protobuf' ? toBinary(schema, message) : toJsonString(schema, message),
  };
}
