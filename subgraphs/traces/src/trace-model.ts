import { create, toBinary } from '@bufbuild/protobuf';
import { type ExportTraceServiceRequest, type KeyValue, anyValueJson, hexId, otlp } from '@heimdall/shared/otlp';

/**
 * The traces subgraph's model of a trace, built from OTLP: what Jaeger's v3 API returns, and what jaeger-json.ts
 * makes of its v1 search results. Field names follow the GraphQL types (SPEC §2); times are nanoseconds since
 * the epoch so that nothing is rounded before the schema renders them.
 */

export type SpanKind = 'UNSPECIFIED' | 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';
export type StatusCode = 'UNSET' | 'OK' | 'ERROR';

/**
 * An attribute's type. ARRAY and MAP values read back from Jaeger's badger and Elasticsearch storage come as
 * STRING holding JSON: those stores flatten them on write.
 */
export type TagType = 'STRING' | 'BOOL' | 'INT' | 'DOUBLE' | 'BYTES' | 'ARRAY' | 'MAP';

/**
 * A typed attribute with its value rendered as text: INT in decimal (all 64 bits), DOUBLE as JavaScript prints
 * it, BOOL `true`/`false`, BYTES in base64, ARRAY and MAP as JSON. One shape for every type, so clients need
 * no fragment per type and no 64-bit integer passes through a JSON number.
 */
export interface Tag {
  readonly key: string;
  readonly type: TagType;
  readonly value: string;
}

/** A span event, as Jaeger shows it: its name is also the first field, `event`. */
export interface SpanLog {
  readonly timestamp: bigint;
  readonly name: string;
  readonly fields: readonly Tag[];
}

export type ReferenceType = 'CHILD_OF' | 'FOLLOWS_FROM';

/** The parent (CHILD_OF) and the span's links (FOLLOWS_FROM unless the link says `opentracing.ref_type=child_of`). */
export interface SpanReference {
  readonly refType: ReferenceType;
  readonly traceId: string;
  readonly spanId: string;
  readonly traceState: string;
  readonly tags: readonly Tag[];
}

export interface SpanStatus {
  readonly code: StatusCode;
  readonly message: string;
}

export interface InstrumentationScope {
  readonly name: string;
  readonly version: string;
  readonly attributes: readonly Tag[];
}

export interface SpanModel {
  readonly traceId: string;
  readonly spanId: string;
  /** Null for a root span. */
  readonly parentSpanId: string | null;
  readonly operationName: string;
  /** `service.name` of the span's resource. */
  readonly service: string;
  readonly kind: SpanKind;
  readonly status: SpanStatus;
  readonly startTime: bigint;
  readonly endTime: bigint;
  readonly durationMs: number;
  readonly tags: readonly Tag[];
  readonly logs: readonly SpanLog[];
  readonly references: readonly SpanReference[];
  /** Attributes of the span's resource, `service.name` included. */
  readonly resource: readonly Tag[];
  readonly scope: InstrumentationScope;
  readonly traceState: string;
  /** What Jaeger noted about the span (`@jaeger@warnings`), such as a duplicate span id. */
  readonly warnings: readonly string[];
}

export interface TraceModel {
  readonly traceId: string;
  /** By start time. */
  readonly spans: readonly SpanModel[];
  /** The earliest span whose parent is not in the trace. */
  readonly rootSpan: SpanModel;
  /** Sorted by name. */
  readonly services: readonly string[];
  readonly startTime: bigint;
  readonly endTime: bigint;
  readonly durationMs: number;
  readonly spanCount: number;
  /** Spans whose status is ERROR. */
  readonly errorCount: number;
}

const UNKNOWN_SERVICE = 'unknown_service';
/**
 * Jaeger's storage keeps a scope's name and version but not its attributes: they are stored on each of its spans
 * under this prefix and given back to the scope on read.
 */
const SCOPE_ATTRIBUTE_PREFIX = 'heimdall.scope.';
const WARNINGS_ATTRIBUTE = '@jaeger@warnings';
const REF_TYPE_ATTRIBUTE = 'opentracing.ref_type';

const KINDS: Record<otlp.Span_SpanKind, SpanKind> = {
  [otlp.Span_SpanKind.UNSPECIFIED]: 'UNSPECIFIED',
  [otlp.Span_SpanKind.INTERNAL]: 'INTERNAL',
  [otlp.Span_SpanKind.SERVER]: 'SERVER',
  [otlp.Span_SpanKind.CLIENT]: 'CLIENT',
  [otlp.Span_SpanKind.PRODUCER]: 'PRODUCER',
  [otlp.Span_SpanKind.CONSUMER]: 'CONSUMER',
};

const STATUS_CODES: Record<otlp.Status_StatusCode, StatusCode> = {
  [otlp.Status_StatusCode.UNSET]: 'UNSET',
  [otlp.Status_StatusCode.OK]: 'OK',
  [otlp.Status_StatusCode.ERROR]: 'ERROR',
};

export const durationMs = (start: bigint, end: bigint): number => Number(end - start) / 1e6;

/**
 * The traces of an OTLP export, one per trace id, newest first. A span stored twice with the same id and the
 * same content (a retried export that the store kept twice) counts once; spans that share an id but differ are
 * all kept, as Jaeger keeps them.
 */
export function tracesFromOtlp(request: ExportTraceServiceRequest): TraceModel[] {
  const byTrace = new Map<string, SpanModel[]>();
  // Spans by trace and span id, with what makes them the same span: computed only when an id comes again (a retry
  // stored twice), since encoding every span to compare it would cost more than building the whole model.
  const byId = new Map<string, { identity?: string; readonly identify: () => string }[]>();
  for (const rs of request.resourceSpans) {
    let resourceKey: string | undefined;
    const resource = () =>
      (resourceKey ??= rs.resource === undefined ? '' : bytesKey(toBinary(otlp.ResourceSchema, rs.resource)));
    const resourceTags = (rs.resource?.attributes ?? []).map(toTag);
    const service = resourceTags.find((t) => t.key === 'service.name')?.value ?? UNKNOWN_SERVICE;
    for (const ss of rs.scopeSpans) {
      const scope = {
        name: ss.scope?.name ?? '',
        version: ss.scope?.version ?? '',
        attributes: (ss.scope?.attributes ?? []).map(toTag),
      };
      for (const span of ss.spans) {
        const model = spanModel(span, service, resourceTags, scope);
        const id = `${model.traceId}/${model.spanId}`;
        const identify = () =>
          `${resource()}|${scope.name}|${scope.version}|${bytesKey(toBinary(otlp.SpanSchema, span))}`;
        const sameId = byId.get(id);
        if (sameId === undefined) byId.set(id, [{ identify }]);
        else {
          const identity = identify();
          if (sameId.some((other) => (other.identity ??= other.identify()) === identity)) continue;
          sameId.push({ identity, identify });
        }
        const spans = byTrace.get(model.traceId);
        if (spans === undefined) byTrace.set(model.traceId, [model]);
        else spans.push(model);
      }
    }
  }
  return [...byTrace.entries()]
    .map(([traceId, spans]) => traceModel(traceId, spans))
    .sort((a, b) => compareBigInt(b.startTime, a.startTime));
}

function traceModel(traceId: string, unsorted: SpanModel[]): TraceModel {
  const spans = unsorted.sort((a, b) => compareBigInt(a.startTime, b.startTime) || a.spanId.localeCompare(b.spanId));
  const ids = new Set(spans.map((s) => s.spanId));
  // spans is non-empty: a trace exists because one of its spans does.
  const rootSpan = spans.find((s) => s.parentSpanId === null || !ids.has(s.parentSpanId)) ?? spans[0]!;
  const startTime = spans[0]!.startTime;
  const endTime = spans.reduce((end, s) => (s.endTime > end ? s.endTime : end), startTime);
  return {
    traceId,
    spans,
    rootSpan,
    services: [...new Set(spans.map((s) => s.service))].sort(),
    startTime,
    endTime,
    durationMs: durationMs(startTime, endTime),
    spanCount: spans.length,
    errorCount: spans.filter((s) => s.status.code === 'ERROR').length,
  };
}

function spanModel(span: otlp.Span, service: string, resource: Tag[], storedScope: InstrumentationScope): SpanModel {
  const traceId = hexId(span.traceId);
  const carried = span.attributes.filter((a) => a.key.startsWith(SCOPE_ATTRIBUTE_PREFIX));
  const scope =
    carried.length === 0
      ? storedScope
      : {
          ...storedScope,
          attributes: [
            ...storedScope.attributes,
            ...carried.map((a) => toTag({ ...a, key: a.key.slice(SCOPE_ATTRIBUTE_PREFIX.length) })),
          ],
        };
  const parentSpanId = span.parentSpanId.some((b) => b !== 0) ? hexId(span.parentSpanId) : null;
  const parent: SpanReference[] =
    parentSpanId === null ? [] : [{ refType: 'CHILD_OF', traceId, spanId: parentSpanId, traceState: '', tags: [] }];
  return {
    traceId,
    spanId: hexId(span.spanId),
    parentSpanId,
    operationName: span.name,
    service,
    kind: KINDS[span.kind] ?? 'UNSPECIFIED',
    status: {
      code: STATUS_CODES[span.status?.code ?? otlp.Status_StatusCode.UNSET] ?? 'UNSET',
      message: span.status?.message ?? '',
    },
    startTime: span.startTimeUnixNano,
    endTime: span.endTimeUnixNano,
    durationMs: durationMs(span.startTimeUnixNano, span.endTimeUnixNano),
    tags: span.attributes
      .filter((a) => a.key !== WARNINGS_ATTRIBUTE && !a.key.startsWith(SCOPE_ATTRIBUTE_PREFIX))
      .map(toTag),
    logs: span.events.map((e) => ({
      timestamp: e.timeUnixNano,
      name: e.name,
      fields: [{ key: 'event', type: 'STRING', value: e.name }, ...e.attributes.map(toTag)],
    })),
    references: [...parent, ...span.links.map(linkReference)],
    resource,
    scope,
    traceState: span.traceState,
    warnings: warnings(span.attributes),
  };
}

/** The request as Jaeger is to store it: each span carries its scope's attributes. The request itself when no scope has any. */
export function withScopeAttributesOnSpans(request: ExportTraceServiceRequest): ExportTraceServiceRequest {
  if (request.resourceSpans.every((rs) => rs.scopeSpans.every((ss) => (ss.scope?.attributes.length ?? 0) === 0)))
    return request;
  return create(otlp.ExportTraceServiceRequestSchema, {
    resourceSpans: request.resourceSpans.map((rs) =>
      create(otlp.ResourceSpansSchema, {
        ...rs,
        scopeSpans: rs.scopeSpans.map((ss) => {
          const carried = (ss.scope?.attributes ?? []).map((a) =>
            create(otlp.KeyValueSchema, { key: `${SCOPE_ATTRIBUTE_PREFIX}${a.key}`, value: a.value }),
          );
          if (carried.length === 0) return ss;
          return create(otlp.ScopeSpansSchema, {
            ...ss,
            spans: ss.spans.map((span) =>
              create(otlp.SpanSchema, { ...span, attributes: [...span.attributes, ...carried] }),
            ),
          });
        }),
      }),
    ),
  });
}

function linkReference(link: otlp.Span_Link): SpanReference {
  const refType = link.attributes.find((a) => a.key === REF_TYPE_ATTRIBUTE)?.value?.value;
  return {
    refType: refType?.case === 'stringValue' && refType.value === 'child_of' ? 'CHILD_OF' : 'FOLLOWS_FROM',
    traceId: hexId(link.traceId),
    spanId: hexId(link.spanId),
    traceState: link.traceState,
    tags: link.attributes.filter((a) => a.key !== REF_TYPE_ATTRIBUTE).map(toTag),
  };
}

function warnings(attributes: readonly KeyValue[]): string[] {
  const value = attributes.find((a) => a.key === WARNINGS_ATTRIBUTE)?.value?.value;
  if (value?.case === 'arrayValue')
    return value.value.values.map((v) => (v.value.case === 'stringValue' ? v.value.value : ''));
  return value?.case === 'stringValue' ? [value.value] : [];
}

/** An OTLP attribute as a typed tag. */
export function toTag(kv: KeyValue): Tag {
  const v = kv.value?.value;
  switch (v?.case) {
    case 'boolValue':
      return { key: kv.key, type: 'BOOL', value: String(v.value) };
    case 'intValue':
      return { key: kv.key, type: 'INT', value: v.value.toString() };
    case 'doubleValue':
      return { key: kv.key, type: 'DOUBLE', value: String(v.value) };
    case 'bytesValue':
      return { key: kv.key, type: 'BYTES', value: Buffer.from(v.value).toString('base64') };
    case 'arrayValue':
      return { key: kv.key, type: 'ARRAY', value: JSON.stringify(anyValueJson(kv.value)) };
    case 'kvlistValue':
      return { key: kv.key, type: 'MAP', value: JSON.stringify(anyValueJson(kv.value)) };
    case 'stringValue':
      return { key: kv.key, type: 'STRING', value: v.value };
    default:
      return { key: kv.key, type: 'STRING', value: '' };
  }
}

function bytesKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function compareBigInt(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
