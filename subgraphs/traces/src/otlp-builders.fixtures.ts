import { randomBytes } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { type AnyValue, type ExportTraceServiceRequest, type KeyValue, otlp } from '@heimdall/shared/otlp';

/** Test builders for OTLP trace exports, shared by the unit and integration tests of this workspace. */

export const text = (value: string): AnyValue => create(otlp.AnyValueSchema, { value: { case: 'stringValue', value } });

export function attribute(key: string, value: AnyValue['value']): KeyValue {
  return create(otlp.KeyValueSchema, { key, value: create(otlp.AnyValueSchema, { value }) });
}

export const randomTraceId = (): Uint8Array => new Uint8Array(randomBytes(16));
export const randomSpanId = (): Uint8Array => new Uint8Array(randomBytes(8));

export const NS_PER_MS = 1_000_000n;

/** Nanoseconds since the epoch of a time in ms. */
export const nanos = (ms: number): bigint => BigInt(Math.round(ms * 1000)) * 1000n;

export interface SpanInit {
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  parentSpanId?: Uint8Array;
  name?: string;
  kind?: otlp.Span_SpanKind;
  /** ms since the epoch. */
  startMs?: number;
  /** ms since the epoch. */
  endMs?: number;
  attributes?: KeyValue[];
  status?: { code: otlp.Status_StatusCode; message?: string };
  events?: { timeMs: number; name: string; attributes?: KeyValue[] }[];
  links?: { traceId: Uint8Array; spanId: Uint8Array; traceState?: string; attributes?: KeyValue[] }[];
  traceState?: string;
}

export function makeSpan(init: SpanInit = {}): otlp.Span {
  const startMs = init.startMs ?? Date.now() - 10;
  return create(otlp.SpanSchema, {
    traceId: init.traceId ?? randomTraceId(),
    spanId: init.spanId ?? randomSpanId(),
    parentSpanId: init.parentSpanId ?? new Uint8Array(),
    name: init.name ?? 'GET /checkout',
    kind: init.kind ?? otlp.Span_SpanKind.SERVER,
    startTimeUnixNano: nanos(startMs),
    endTimeUnixNano: nanos(init.endMs ?? startMs + 5),
    attributes: init.attributes ?? [],
    status: init.status,
    traceState: init.traceState ?? '',
    events: (init.events ?? []).map((e) => ({
      timeUnixNano: nanos(e.timeMs),
      name: e.name,
      attributes: e.attributes ?? [],
    })),
    links: init.links ?? [],
  });
}

export interface ResourceInit {
  service: string;
  attributes?: KeyValue[];
  scope?: { name: string; version?: string; attributes?: KeyValue[] };
  spans: otlp.Span[];
}

/** One export with a resource per entry, each with one scope holding its spans. */
export function makeExport(...resources: ResourceInit[]): ExportTraceServiceRequest {
  return create(otlp.ExportTraceServiceRequestSchema, {
    resourceSpans: resources.map((r) => ({
      resource: {
        attributes: [attribute('service.name', { case: 'stringValue', value: r.service }), ...(r.attributes ?? [])],
      },
      scopeSpans: [{ scope: r.scope ?? { name: 'heimdall-test' }, spans: r.spans }],
    })),
  });
}
