import { randomBytes } from 'node:crypto';
import {
  type AttributeValue,
  type Attributes,
  type HrTime,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';

/**
 * Test fixtures: a trace recorded by the real OpenTelemetry JS SDK and sent by a real exporter (the caller's), with
 * what the traces subgraph must answer for it through GraphQL. Shared by the traces subgraph's integration tests
 * and the end-to-end tests.
 */

export interface RecordedTrace {
  readonly traceId: string;
  /** As the SDK recorded them, by start time. */
  readonly spans: readonly ReadableSpan[];
}

/** Every field of a trace the traces subgraph answers, as `trace(traceId) { … }` selects it. */
export const TRACE_FIELDS = `traceId spanCount errorCount startTime endTime durationMs rootSpan { spanId } services { name }
  spans { traceId spanId parentSpanId operationName service { name } kind status { code message } startTime endTime durationMs
    tags { key type value } events { timestamp name fields { key type value } }
    references { refType traceId spanId traceState tags { key type value } } resource { key type value } scope { name version } traceState }`;

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
/** An HrTime `ns` nanoseconds after `base` (ms since the epoch): the SDK keeps nanoseconds only from HrTime. */
const at = (base: number, ns: number): HrTime => {
  const total = BigInt(base) * 1_000_000n + BigInt(ns);
  return [Number(total / 1_000_000_000n), Number(total % 1_000_000_000n)];
};

/**
 * Records one trace of `service` with every span kind and status, attributes of every type the JS API has
 * (string, boolean, integer, double and their arrays), events, a link and resource attributes, and exports it with
 * `exporter` in one request.
 */
export async function recordTrace(exporter: SpanExporter, service: string): Promise<RecordedTrace> {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': service,
      'host.name': 'web-1',
      'process.pid': 4242,
      'deployment.canary': true,
      'host.load': 0.75,
    }),
    spanProcessors: [new SimpleSpanProcessor(memory), new BatchSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('shop-lib', '1.4.0');
  const t0 = Date.now() - 2000;
  const root = tracer.startSpan(
    'GET /checkout',
    {
      kind: SpanKind.SERVER,
      startTime: at(t0, 123),
      attributes: {
        'http.route': '/checkout',
        'cart.paid': true,
        'cart.items': 3,
        'cart.total': 42.5,
        tags: ['new', 'vip'],
        sizes: [1, 2],
        flags: [true, false],
      },
      links: [
        { context: { traceId: hex(16), spanId: hex(8), traceFlags: TraceFlags.SAMPLED }, attributes: { why: 'batch' } },
      ],
    },
    ROOT_CONTEXT,
  );
  root.addEvent('cache miss', { key: 'cart:1', tries: 2 }, at(t0, 5_500_001));
  const inRoot = trace.setSpan(ROOT_CONTEXT, root);
  const call = tracer.startSpan(
    'POST /pay',
    { kind: SpanKind.CLIENT, startTime: at(t0, 5_000_000), attributes: { 'peer.service': 'payments' } },
    inRoot,
  );
  call.setStatus({ code: SpanStatusCode.ERROR, message: 'HTTP 502' });
  call.end(at(t0, 35_000_000));
  const render = tracer.startSpan('render', { kind: SpanKind.INTERNAL, startTime: at(t0, 1_000_000) }, inRoot);
  render.end(at(t0, 3_000_007));
  const publish = tracer.startSpan('publish order', { kind: SpanKind.PRODUCER, startTime: at(t0, 36_000_000) }, inRoot);
  publish.setStatus({ code: SpanStatusCode.OK });
  publish.end(at(t0, 37_000_000));
  const consume = tracer.startSpan(
    'consume order',
    { kind: SpanKind.CONSUMER, startTime: at(t0, 38_000_000) },
    trace.setSpan(ROOT_CONTEXT, publish),
  );
  consume.end(at(t0, 60_000_000));
  root.setStatus({ code: SpanStatusCode.ERROR, message: 'payment failed' });
  root.end(at(t0, 40_000_000));
  await provider.forceFlush();
  // Read before shutdown, which empties the in-memory exporter.
  const spans = [...memory.getFinishedSpans()].sort((a, b) => compareHrTime(a.startTime, b.startTime));
  await provider.shutdown();
  return { traceId: root.spanContext().traceId, spans };
}

const KINDS: Record<SpanKind, string> = {
  [SpanKind.INTERNAL]: 'INTERNAL',
  [SpanKind.SERVER]: 'SERVER',
  [SpanKind.CLIENT]: 'CLIENT',
  [SpanKind.PRODUCER]: 'PRODUCER',
  [SpanKind.CONSUMER]: 'CONSUMER',
};
const STATUSES: Record<SpanStatusCode, string> = {
  [SpanStatusCode.UNSET]: 'UNSET',
  [SpanStatusCode.OK]: 'OK',
  [SpanStatusCode.ERROR]: 'ERROR',
};

const nanos = (time: HrTime): bigint => BigInt(time[0]) * 1_000_000_000n + BigInt(time[1]);
const compareHrTime = (a: HrTime, b: HrTime) => (nanos(a) < nanos(b) ? -1 : nanos(a) > nanos(b) ? 1 : 0);
const iso = (time: HrTime) =>
  `${new Date(time[0] * 1000).toISOString().slice(0, 19)}.${String(time[1]).padStart(9, '0')}Z`;

export interface GraphQLTag {
  key: string;
  type: string;
  value: string;
}

/** An attribute as the traces subgraph answers it once Jaeger stored it: arrays come back as JSON text. */
function tag(key: string, value: AttributeValue | undefined): GraphQLTag {
  if (Array.isArray(value)) return { key, type: 'STRING', value: JSON.stringify(value) };
  if (typeof value === 'boolean') return { key, type: 'BOOL', value: String(value) };
  if (typeof value === 'number') return { key, type: Number.isInteger(value) ? 'INT' : 'DOUBLE', value: String(value) };
  return { key, type: 'STRING', value: String(value) };
}

/** Tags in key order: Jaeger's storage does not keep their order. */
export const byKey = <T extends { key: string }>(tags: readonly T[]): T[] =>
  [...tags].sort((a, b) => a.key.localeCompare(b.key));
const tags = (attributes: Attributes) => byKey(Object.entries(attributes).map(([key, value]) => tag(key, value)));

/**
 * What `trace(traceId) { ${TRACE_FIELDS} }` answers for a recorded trace, tags in key order. Badger keeps a link's
 * ids but neither its attributes nor its trace state.
 */
export function expectedTrace(recorded: RecordedTrace) {
  const { spans } = recorded;
  const spanIds = new Set(spans.map((s) => s.spanContext().spanId));
  const root = spans.find((s) => s.parentSpanContext === undefined || !spanIds.has(s.parentSpanContext.spanId))!;
  const start = spans.map((s) => nanos(s.startTime)).reduce((a, b) => (a < b ? a : b));
  const end = spans.map((s) => nanos(s.endTime)).reduce((a, b) => (a > b ? a : b));
  const isoNs = (ns: bigint) => iso([Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)]);
  return {
    traceId: recorded.traceId,
    spanCount: spans.length,
    errorCount: spans.filter((s) => s.status.code === SpanStatusCode.ERROR).length,
    startTime: isoNs(start),
    endTime: isoNs(end),
    durationMs: Number(end - start) / 1e6,
    rootSpan: { spanId: root.spanContext().spanId },
    services: [...new Set(spans.map((s) => String(s.resource.attributes['service.name'])))]
      .sort()
      .map((name) => ({ name })),
    spans: spans.map((s) => ({
      traceId: recorded.traceId,
      spanId: s.spanContext().spanId,
      parentSpanId: s.parentSpanContext?.spanId ?? null,
      operationName: s.name,
      service: { name: String(s.resource.attributes['service.name']) },
      kind: KINDS[s.kind],
      status: { code: STATUSES[s.status.code], message: s.status.message ?? '' },
      startTime: iso(s.startTime),
      endTime: iso(s.endTime),
      durationMs: Number(nanos(s.endTime) - nanos(s.startTime)) / 1e6,
      tags: tags(s.attributes),
      events: s.events.map((e) => ({
        timestamp: iso(e.time),
        name: e.name,
        fields: byKey([{ key: 'event', type: 'STRING', value: e.name }, ...tags(e.attributes ?? {})]),
      })),
      references: [
        ...(s.parentSpanContext === undefined
          ? []
          : [
              {
                refType: 'CHILD_OF',
                traceId: recorded.traceId,
                spanId: s.parentSpanContext.spanId,
                traceState: '',
                tags: [],
              },
            ]),
        ...s.links.map((l) => ({
          refType: 'FOLLOWS_FROM',
          traceId: l.context.traceId,
          spanId: l.context.spanId,
          traceState: '',
          tags: [],
        })),
      ],
      resource: tags(s.resource.attributes),
      scope: { name: s.instrumentationScope.name, version: s.instrumentationScope.version ?? '' },
      traceState: '',
    })),
  };
}

/** A trace answer with its tags in key order, to compare with `expectedTrace`. */
export function comparableTrace<
  T extends { spans: { tags: GraphQLTag[]; resource: GraphQLTag[]; events: { fields: GraphQLTag[] }[] }[] },
>(answer: T): T {
  return {
    ...answer,
    spans: answer.spans.map((s) => ({
      ...s,
      tags: byKey(s.tags),
      resource: byKey(s.resource),
      events: s.events.map((e) => ({ ...e, fields: byKey(e.fields) })),
    })),
  };
}
