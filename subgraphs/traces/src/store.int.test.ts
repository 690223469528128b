import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExportTraceServiceRequest, hexId, otlp } from '@heimdall/shared/otlp';
import { ResilienceMetrics, createResiliencePolicy } from '@heimdall/shared/resilience';
import { ServiceMetrics } from '@heimdall/shared/telemetry';
import { type PrivateStack, privateStack } from '@heimdall/stack';
import { JaegerStore } from './store.js';
import { attribute, makeExport, makeSpan, randomSpanId, randomTraceId } from './otlp-builders.fixtures.js';
import { dependenciesFromTraces, mergeDependencies } from './service-map.js';
import { type SpanModel, type TraceModel, tracesFromOtlp } from './trace-model.js';

const policy = createResiliencePolicy(
  'jaeger',
  undefined,
  new ResilienceMetrics(new ServiceMetrics({ service: 'test', instance: 'test' }).registry),
);
// A Jaeger of the tests' own, empty but for their traces: searches with a duration bound and the service map read
// badger's indexes over everything stored, seconds on a long-lived local stack's Jaeger.
let jaeger: PrivateStack;
let client: JaegerStore;
beforeAll(async () => {
  jaeger = await privateStack(['jaeger'], process.env);
  client = new JaegerStore({
    queryUrl: jaeger.endpoints.jaegerQueryUrl,
    otlpUrl: `${jaeger.endpoints.jaegerOtlpHttpUrl}/v1/traces`,
    readPolicy: policy,
    searchPolicy: policy,
    dependenciesPolicy: policy,
    writePolicy: policy,
  });
}, 120_000);
afterAll(() => jaeger?.remove());

const { Span_SpanKind: Kind, Status_StatusCode: Code } = otlp;
const uniqueService = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;
const anyValue = (value: otlp.AnyValue['value']) => create(otlp.AnyValueSchema, { value });

/** Jaeger answers a write once the spans are stored: every read after it sees them. */
async function push(request: ExportTraceServiceRequest): Promise<void> {
  expect(await client.write(request)).toEqual({ rejected: 0, errorMessage: '' });
}

const byKey = <T extends { key: string }>(tags: readonly T[]) => [...tags].sort((a, b) => a.key.localeCompare(b.key));

/** A span as comparable: tags in key order, as Jaeger's storage does not promise their order. */
function comparable(span: SpanModel) {
  return {
    ...span,
    tags: byKey(span.tags),
    resource: byKey(span.resource),
    logs: span.logs.map((l) => ({ ...l, fields: byKey(l.fields) })),
  };
}

/**
 * What Jaeger (badger) keeps of a span: arrays and maps as JSON strings, links without their trace state and
 * attributes.
 */
function asStoredByJaeger(span: SpanModel): SpanModel {
  return {
    ...span,
    tags: span.tags.map((t) => (t.type === 'ARRAY' || t.type === 'MAP' ? { ...t, type: 'STRING' } : t)),
    references: span.references.map((r) => ({ ...r, traceState: '', tags: [] })),
  };
}

/** A two-service trace with every kind, every attribute type, events, links, statuses and resource attributes. */
function makeRichTrace(front: string, back: string) {
  const traceId = randomTraceId();
  const t0 = Date.now() - 1000;
  const root = makeSpan({
    traceId,
    name: 'GET /checkout',
    kind: Kind.SERVER,
    startMs: t0,
    endMs: t0 + 40,
    traceState: 'vendor=1',
    status: { code: Code.ERROR, message: 'payment failed' },
    attributes: [
      attribute('s', { case: 'stringValue', value: 'text' }),
      attribute('b', { case: 'boolValue', value: true }),
      attribute('i', { case: 'intValue', value: 9_007_199_254_740_993n }),
      attribute('d', { case: 'doubleValue', value: 2.25 }),
      attribute('bytes', { case: 'bytesValue', value: new Uint8Array([1, 2, 3, 250]) }),
      attribute('arr', {
        case: 'arrayValue',
        value: create(otlp.ArrayValueSchema, {
          values: [anyValue({ case: 'stringValue', value: 'a' }), anyValue({ case: 'intValue', value: 2n })],
        }),
      }),
      attribute('map', {
        case: 'kvlistValue',
        value: create(otlp.KeyValueListSchema, { values: [attribute('inner', { case: 'boolValue', value: false })] }),
      }),
    ],
    events: [
      {
        timeMs: t0 + 5.5,
        name: 'cache miss',
        attributes: [
          attribute('key', { case: 'stringValue', value: 'cart:1' }),
          attribute('tries', { case: 'intValue', value: 3n }),
        ],
      },
    ],
    links: [
      {
        traceId: randomTraceId(),
        spanId: randomSpanId(),
        traceState: 'l=1',
        attributes: [attribute('why', { case: 'stringValue', value: 'batch' })],
      },
    ],
  });
  const internal = makeSpan({
    traceId,
    parentSpanId: root.spanId,
    name: 'render',
    kind: Kind.INTERNAL,
    startMs: t0 + 1,
    endMs: t0 + 3,
  });
  const unspecified = makeSpan({
    traceId,
    parentSpanId: root.spanId,
    name: 'legacy',
    kind: Kind.UNSPECIFIED,
    startMs: t0 + 2,
    endMs: t0 + 4,
  });
  const call = makeSpan({
    traceId,
    parentSpanId: root.spanId,
    name: 'POST /pay',
    kind: Kind.CLIENT,
    startMs: t0 + 5,
    endMs: t0 + 35,
    status: { code: Code.ERROR, message: 'HTTP 502' },
  });
  const produce = makeSpan({
    traceId,
    parentSpanId: root.spanId,
    name: 'publish order',
    kind: Kind.PRODUCER,
    startMs: t0 + 6,
    endMs: t0 + 7,
    status: { code: Code.OK },
  });
  const served = makeSpan({
    traceId,
    parentSpanId: call.spanId,
    name: 'POST /pay',
    kind: Kind.SERVER,
    startMs: t0 + 6,
    endMs: t0 + 34,
    status: { code: Code.ERROR, message: 'upstream down' },
  });
  const consume = makeSpan({
    traceId,
    parentSpanId: produce.spanId,
    name: 'consume order',
    kind: Kind.CONSUMER,
    startMs: t0 + 8,
    endMs: t0 + 20,
  });
  const request = makeExport(
    {
      service: front,
      scope: { name: 'shop-lib', version: '1.4.0' },
      attributes: [
        attribute('host.name', { case: 'stringValue', value: 'web-1' }),
        attribute('process.pid', { case: 'intValue', value: 4242n }),
      ],
      spans: [root, internal, unspecified, call, produce],
    },
    {
      service: back,
      attributes: [attribute('deployment.environment', { case: 'stringValue', value: 'test' })],
      spans: [served, consume],
    },
  );
  return { traceId: hexId(traceId), request, spanCount: 7 };
}

describe('reading traces from Jaeger', () => {
  it('gives a trace back by id with every field Jaeger stores intact', async () => {
    const { traceId, request } = makeRichTrace(uniqueService('shop'), uniqueService('payments'));
    await push(request);

    const trace = await client.trace(traceId);
    const [sent] = tracesFromOtlp(request);
    expect(trace?.spans.map(comparable)).toEqual(sent!.spans.map(asStoredByJaeger).map(comparable));
    expect({ ...trace, spans: undefined, rootSpan: undefined }).toEqual({
      ...sent,
      spans: undefined,
      rootSpan: undefined,
    });
    expect(trace?.rootSpan.operationName).toBe('GET /checkout');
  });

  it('finds the same trace by search as by id', async () => {
    const shop = uniqueService('shop');
    const { traceId, request } = makeRichTrace(shop, uniqueService('payments'));
    await push(request);
    const byId = await client.trace(traceId);

    const found = await client.findTraces({
      service: shop,
      start: Date.now() - 60_000,
      end: Date.now() + 60_000,
      limit: 10,
    });
    expect(found.map((t) => t.traceId)).toEqual([traceId]);
    expect(found[0]?.spans.map(comparable)).toEqual(byId?.spans.map(comparable));
  });

  it('does not show a span twice when an export is retried', async () => {
    const { traceId, request, spanCount } = makeRichTrace(uniqueService('shop'), uniqueService('payments'));
    await push(request);
    await push(request);
    const trace = await client.trace(traceId);
    expect(trace?.spanCount).toBe(spanCount);
  });

  it('answers undefined for a trace Jaeger does not have', async () => {
    expect(await client.trace(hexId(randomTraceId()))).toBeUndefined();
  });

  describe('search', () => {
    const service = uniqueService('search');
    const t0 = Date.now() - 10_000;
    const fast = makeSpan({
      name: 'GET /a',
      startMs: t0,
      endMs: t0 + 5,
      attributes: [attribute('http.route', { case: 'stringValue', value: '/a' })],
    });
    const failed = makeSpan({
      name: 'GET /b',
      startMs: t0 + 1000,
      endMs: t0 + 1050,
      status: { code: Code.ERROR, message: 'boom' },
    });
    const slow = makeSpan({
      name: 'GET /a',
      startMs: t0 + 2000,
      endMs: t0 + 2200,
      attributes: [attribute('http.route', { case: 'stringValue', value: '/c' })],
    });
    const ids = (traces: TraceModel[]) => traces.map((t) => t.traceId);
    const [fastId, failedId, slowId] = [fast, failed, slow].map((s) => hexId(s.traceId));
    const range = { service, start: t0 - 1000, end: t0 + 60_000, limit: 20 };

    beforeAll(() => push(makeExport({ service, spans: [fast, failed, slow] })));

    it('answers the service’s traces newest first, each with its root span, duration, span and error counts', async () => {
      const found = await client.findTraces(range);
      expect(ids(found)).toEqual([slowId, failedId, fastId]);
      expect(found[1]).toMatchObject({
        rootSpan: { operationName: 'GET /b', status: { code: 'ERROR', message: 'boom' } },
        durationMs: 50,
        spanCount: 1,
        errorCount: 1,
      });
    });

    it('filters by operation, tag, duration and error', async () => {
      expect(ids(await client.findTraces({ ...range, operation: 'GET /a' }))).toEqual([slowId, fastId]);
      expect(ids(await client.findTraces({ ...range, tags: { 'http.route': '/c' } }))).toEqual([slowId]);
      expect(ids(await client.findTraces({ ...range, minDurationMs: 40 }))).toEqual([slowId, failedId]);
      expect(ids(await client.findTraces({ ...range, maxDurationMs: 10 }))).toEqual([fastId]);
      expect(ids(await client.findTraces({ ...range, minDurationMs: 40, maxDurationMs: 100 }))).toEqual([failedId]);
      expect(ids(await client.findTraces({ ...range, errorsOnly: true }))).toEqual([failedId]);
    });

    it('keeps to the time range and the limit', async () => {
      expect(await client.findTraces({ ...range, start: t0 - 60_000, end: t0 - 1000 })).toEqual([]);
      expect(ids(await client.findTraces({ ...range, start: t0 + 500 }))).toEqual([slowId, failedId]);
      expect(ids(await client.findTraces({ ...range, limit: 1 }))).toHaveLength(1);
    });
  });

  it('lists operations of a service with their span kinds, which badger leaves to the spans to tell', async () => {
    const service = uniqueService('ops');
    await push(
      makeExport({
        service,
        spans: [makeSpan({ name: 'GET /in', kind: Kind.SERVER }), makeSpan({ name: 'SELECT', kind: Kind.CLIENT })],
      }),
    );
    const all = await client.operations(service);
    expect(all).toEqual([
      { name: 'GET /in', spanKind: 'SERVER' },
      { name: 'SELECT', spanKind: 'CLIENT' },
    ]);
    expect(await client.operations(service, { spanKind: 'CLIENT' })).toEqual([{ name: 'SELECT', spanKind: 'CLIENT' }]);
  });

  it("reads Jaeger's service map, which counts spans whose parent is in another service, as the traces do", async () => {
    const [shop, payments] = [uniqueService('shop'), uniqueService('payments')];
    await push(makeRichTrace(shop, payments).request);

    const links = (await client.dependencies(Date.now() + 60_000, 3 * 60_000)).filter(
      (l) => l.parent === shop || l.child === shop,
    );
    expect(links).toEqual([{ parent: shop, child: payments, callCount: 2 }]);

    const computed = dependenciesFromTraces(
      await client.findTraces({ service: shop, start: Date.now() - 60_000, end: Date.now(), limit: 10 }),
    );
    expect(mergeDependencies(links, computed)).toEqual([
      { parent: shop, child: payments, callCount: 2, errorCount: 1 },
    ]);
  });
});
