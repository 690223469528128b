import { create } from '@bufbuild/protobuf';
import { type ExportTraceServiceRequest, type KeyValue, otlp } from '@heimdall/shared/otlp';

/**
 * Jaeger's v1 JSON model, which its search API (`/api/traces?service=...`) answers in, turned back into OTLP
 * with the rules Jaeger's own v3 API applies to stored spans (opentelemetry-collector-contrib
 * pkg/translator/jaeger): `span.kind` becomes the kind; `error=true`, else `otel.status_code`, else an HTTP
 * status of 5xx (4xx for clients) becomes the status; `otel.scope.*` the scope; `w3c.tracestate` the trace
 * state; the first CHILD_OF reference within the trace (else the first FOLLOWS_FROM) the parent; a log's
 * `event` field its name. Search results thus reach the same model as a trace read by id, only with times in
 * microseconds, the precision of this model.
 */

export interface JaegerJsonTag {
  readonly key: string;
  readonly type: 'string' | 'bool' | 'int64' | 'float64' | 'binary';
  /** int64 above 2^53 comes as a string; binary as base64. */
  readonly value: string | number | boolean;
}

export interface JaegerJsonSpan {
  readonly traceID: string;
  readonly spanID: string;
  readonly operationName: string;
  readonly references:
    | readonly { readonly refType: 'CHILD_OF' | 'FOLLOWS_FROM'; readonly traceID: string; readonly spanID: string }[]
    | null;
  /** Microseconds since the epoch. */
  readonly startTime: number;
  /** Microseconds. */
  readonly duration: number;
  readonly tags: readonly JaegerJsonTag[] | null;
  readonly logs: readonly { readonly timestamp: number; readonly fields: readonly JaegerJsonTag[] | null }[] | null;
  readonly processID: string;
  readonly warnings: readonly string[] | null;
}

export interface JaegerJsonTrace {
  readonly traceID: string;
  readonly spans: readonly JaegerJsonSpan[];
  readonly processes: Readonly<
    Record<string, { readonly serviceName: string; readonly tags: readonly JaegerJsonTag[] | null }>
  >;
}

const KINDS: Readonly<Record<string, otlp.Span_SpanKind>> = {
  client: otlp.Span_SpanKind.CLIENT,
  server: otlp.Span_SpanKind.SERVER,
  producer: otlp.Span_SpanKind.PRODUCER,
  consumer: otlp.Span_SpanKind.CONSUMER,
  internal: otlp.Span_SpanKind.INTERNAL,
};

/** One trace of Jaeger's v1 JSON as an OTLP export: a resource per process, a scope per instrumentation scope. */
export function otlpFromJaegerJson(trace: JaegerJsonTrace): ExportTraceServiceRequest {
  const groups = new Map<string, { processID: string; scope: { name: string; version: string }; spans: otlp.Span[] }>();
  for (const jspan of trace.spans) {
    const tags = new Map((jspan.tags ?? []).map((t) => [t.key, t]));
    const scope = { name: takeString(tags, 'otel.scope.name'), version: takeString(tags, 'otel.scope.version') };
    const span = toSpan(jspan, tags);
    const key = JSON.stringify([jspan.processID, scope.name, scope.version]);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, { processID: jspan.processID, scope, spans: [span] });
    else group.spans.push(span);
  }
  const byProcess = new Map<string, otlp.ScopeSpans[]>();
  for (const { processID, scope, spans } of groups.values()) {
    const scopeSpans = create(otlp.ScopeSpansSchema, { scope, spans });
    byProcess.set(processID, [...(byProcess.get(processID) ?? []), scopeSpans]);
  }
  return create(otlp.ExportTraceServiceRequestSchema, {
    resourceSpans: [...byProcess].map(([processID, scopeSpans]) => {
      const process = trace.processes[processID];
      const service = keyValue({ key: 'service.name', type: 'string', value: process?.serviceName ?? '' });
      return { resource: { attributes: [service, ...(process?.tags ?? []).map(keyValue)] }, scopeSpans };
    }),
  });
}

function toSpan(jspan: JaegerJsonSpan, tags: Map<string, JaegerJsonTag>): otlp.Span {
  const kind = KINDS[takeString(tags, 'span.kind')] ?? otlp.Span_SpanKind.UNSPECIFIED;
  const traceState = takeString(tags, 'w3c.tracestate');
  const status = takeStatus(tags, kind);
  const references = jspan.references ?? [];
  const parent =
    references.find((r) => r.traceID === jspan.traceID && r.refType === 'CHILD_OF') ??
    references.find((r) => r.traceID === jspan.traceID && r.refType === 'FOLLOWS_FROM');
  const start = BigInt(jspan.startTime) * 1000n;
  const warnings = jspan.warnings ?? [];
  const warningsAttribute = create(otlp.KeyValueSchema, {
    key: '@jaeger@warnings',
    value: {
      value: {
        case: 'arrayValue',
        value: { values: warnings.map((w) => ({ value: { case: 'stringValue' as const, value: w } })) },
      },
    },
  });
  return create(otlp.SpanSchema, {
    traceId: hexBytes(jspan.traceID, 16),
    spanId: hexBytes(jspan.spanID, 8),
    parentSpanId: parent === undefined ? new Uint8Array() : hexBytes(parent.spanID, 8),
    traceState,
    name: jspan.operationName,
    kind,
    startTimeUnixNano: start,
    endTimeUnixNano: start + BigInt(jspan.duration) * 1000n,
    attributes: [...[...tags.values()].map(keyValue), ...(warnings.length > 0 ? [warningsAttribute] : [])],
    events: (jspan.logs ?? []).map((log) => {
      const fields = new Map((log.fields ?? []).map((f) => [f.key, f]));
      const name = takeString(fields, 'event');
      return { timeUnixNano: BigInt(log.timestamp) * 1000n, name, attributes: [...fields.values()].map(keyValue) };
    }),
    links: references
      .filter((r) => r !== parent)
      .map((r) => ({
        traceId: hexBytes(r.traceID, 16),
        spanId: hexBytes(r.spanID, 8),
        attributes: [
          keyValue({
            key: 'opentracing.ref_type',
            type: 'string',
            value: r.refType === 'CHILD_OF' ? 'child_of' : 'follows_from',
          }),
        ],
      })),
    status,
  });
}

function takeStatus(
  tags: Map<string, JaegerJsonTag>,
  kind: otlp.Span_SpanKind,
): { code: otlp.Status_StatusCode; message: string } | undefined {
  const error = tags.get('error');
  const code = tags.get('otel.status_code');
  tags.delete('otel.status_code');
  if (error?.type === 'bool' && error.value === true) {
    tags.delete('error');
    const message = tags.has('otel.status_description')
      ? takeString(tags, 'otel.status_description')
      : String(tags.get('http.status_message')?.value ?? '');
    return { code: otlp.Status_StatusCode.ERROR, message };
  }
  if (code !== undefined) {
    const upper = String(code.value).toUpperCase();
    const statusCode =
      upper === 'OK'
        ? otlp.Status_StatusCode.OK
        : upper === 'ERROR'
          ? otlp.Status_StatusCode.ERROR
          : otlp.Status_StatusCode.UNSET;
    return { code: statusCode, message: takeString(tags, 'otel.status_description') };
  }
  const http = Number(tags.get('http.status_code')?.value);
  if (!Number.isInteger(http)) return undefined;
  // As the OTel HTTP conventions say: a 4xx is the client's error, not the server's.
  if (http >= 400 && http < 500 && kind === otlp.Span_SpanKind.SERVER) return undefined;
  if (http >= 100 && http < 399) return undefined;
  return { code: otlp.Status_StatusCode.ERROR, message: String(tags.get('http.status_message')?.value ?? '') };
}

/** Removes a tag and answers its value as text; '' when absent. */
function takeString(tags: Map<string, JaegerJsonTag>, key: string): string {
  const tag = tags.get(key);
  tags.delete(key);
  return tag === undefined ? '' : String(tag.value);
}

function keyValue(tag: JaegerJsonTag): KeyValue {
  return create(otlp.KeyValueSchema, { key: tag.key, value: { value: anyValue(tag) } });
}

function anyValue(tag: JaegerJsonTag): otlp.AnyValue['value'] {
  switch (tag.type) {
    case 'bool':
      return { case: 'boolValue', value: tag.value === true || tag.value === 'true' };
    case 'int64':
      return { case: 'intValue', value: BigInt(tag.value) };
    case 'float64':
      return { case: 'doubleValue', value: Number(tag.value) };
    case 'binary':
      return { case: 'bytesValue', value: new Uint8Array(Buffer.from(String(tag.value), 'base64')) };
    default:
      return { case: 'stringValue', value: String(tag.value) };
  }
}

/** Jaeger's v1 JSON writes a trace id whose high half is zero (a legacy 64-bit id) in 16 digits. */
function hexBytes(hex: string, size: number): Uint8Array {
  return new Uint8Array(Buffer.from(hex.padStart(size * 2, '0'), 'hex'));
}
