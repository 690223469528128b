import { describe, expect, it } from 'vitest';
import { HeimdallError } from '@heimdall/shared/errors';
import { otlp } from '@heimdall/shared/otlp';
import { makeExport, makeSpan, randomTraceId } from './otlp-builders.fixtures.js';
import type { JaegerDependencyLink, TraceQuery } from './store.js';
import { DEFAULT_SEARCH_LIMITS, searchTraces, serviceMap } from './trace-search.js';
import { type TraceModel, tracesFromOtlp } from './trace-model.js';

const NOW = Date.parse('2026-11-22T10:00:00Z');
const range = { from: new Date(NOW - 3_600_000).toISOString(), to: new Date(NOW).toISOString() };

/** A trace of one span of `service` started at `startMs`. */
function makeTrace(service: string, startMs: number): TraceModel {
  return tracesFromOtlp(makeExport({ service, spans: [makeSpan({ startMs })] }))[0]!;
}

/** A Jaeger that knows `traces` by service and remembers the searches it was asked. */
function makeStore(
  byService: Record<string, TraceModel[]>,
  dependencies: () => Promise<JaegerDependencyLink[]> = () => Promise.resolve([]),
) {
  const searches: TraceQuery[] = [];
  return {
    searches,
    store: {
      services: () => Promise.resolve(Object.keys(byService)),
      findTraces: (query: TraceQuery) => {
        searches.push(query);
        return Promise.resolve((byService[query.service] ?? []).slice(0, query.limit));
      },
      dependencies,
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<HeimdallError> {
  const error: unknown = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(HeimdallError);
  return error as HeimdallError;
}

describe('trace search', () => {
  it('passes the filter to Jaeger with the range in ms', async () => {
    const { store, searches } = makeStore({ checkout: [] });
    await searchTraces(
      store,
      {
        service: 'checkout',
        operation: 'GET /cart',
        tags: [{ key: 'http.route', value: '/cart' }],
        minDurationMs: 5,
        maxDurationMs: 50,
        errorsOnly: true,
        range,
        limit: 7,
      },
      DEFAULT_SEARCH_LIMITS,
    );
    expect(searches).toEqual([
      {
        service: 'checkout',
        operation: 'GET /cart',
        tags: { 'http.route': '/cart' },
        minDurationMs: 5,
        maxDurationMs: 50,
        errorsOnly: true,
        start: NOW - 3_600_000,
        end: NOW,
        limit: 7,
      },
    ]);
  });

  it('searches every service when none is named and answers each trace once, newest first, up to the limit', async () => {
    const shared = makeTrace('checkout', NOW - 1000);
    const [a, b, c] = [
      makeTrace('checkout', NOW - 5000),
      makeTrace('payments', NOW - 2000),
      makeTrace('payments', NOW - 9000),
    ];
    const { store, searches } = makeStore({ checkout: [shared, a], payments: [shared, b, c] });
    const found = await searchTraces(store, { range, limit: 3 }, DEFAULT_SEARCH_LIMITS);
    expect(found.map((t) => t.traceId)).toEqual([shared.traceId, b.traceId, a.traceId]);
    expect(searches.map((s) => s.service).sort()).toEqual(['checkout', 'payments']);
  });

  it('asks for a service when too many report traces to search them all', async () => {
    const { store, searches } = makeStore({ a: [], b: [], c: [] });
    const error = await failure(
      searchTraces(store, { range, limit: 20 }, { ...DEFAULT_SEARCH_LIMITS, maxServices: 2 }),
    );
    expect(error.code).toBe('LIMIT_EXCEEDED');
    expect(error.message).toBe('filter.service is required when more than 2 services report traces (3 do)');
    expect(searches).toEqual([]);
  });

  it('refuses a range that is malformed, reversed or too long, and bad durations, naming the argument', async () => {
    const { store } = makeStore({});
    const search = (filter: Partial<Parameters<typeof searchTraces>[1]>) =>
      failure(searchTraces(store, { service: 'checkout', range, limit: 20, ...filter }, DEFAULT_SEARCH_LIMITS)).then(
        (e) => [e.code, e.message],
      );
    expect(await search({ range: { from: 'yesterday', to: range.to } })).toEqual([
      'BAD_USER_INPUT',
      'filter.range.from: "yesterday" is not a time with a zone such as 2026-11-22T10:00:00Z (RFC 3339)',
    ]);
    expect(await search({ range: { from: range.to, to: range.from } })).toEqual([
      'BAD_USER_INPUT',
      'filter.range: from must be before to',
    ]);
    expect(await search({ range: { from: '2026-11-01T00:00:00Z', to: '2026-11-22T00:00:00Z' } })).toEqual([
      'BAD_USER_INPUT',
      'filter.range: longer than the 7 days allowed',
    ]);
    expect(await search({ minDurationMs: -1 })).toEqual([
      'BAD_USER_INPUT',
      'filter.minDurationMs: must not be negative',
    ]);
    expect(await search({ minDurationMs: 10, maxDurationMs: 5 })).toEqual([
      'BAD_USER_INPUT',
      'filter.maxDurationMs: must not be less than minDurationMs',
    ]);
    expect(await search({ tags: [{ key: '', value: 'x' }] })).toEqual([
      'BAD_USER_INPUT',
      'filter.tags[0].key: must not be empty',
    ]);
  });

  it('answers 1 to 1,000 traces: another limit is BAD_USER_INPUT before Jaeger is asked', async () => {
    const { store, searches } = makeStore({ checkout: [] });
    const search = (limit: number) =>
      failure(searchTraces(store, { service: 'checkout', range, limit }, DEFAULT_SEARCH_LIMITS)).then((e) => [
        e.code,
        e.message,
      ]);
    expect(await search(0)).toEqual(['BAD_USER_INPUT', 'filter.limit: must be from 1 to 1000, not 0']);
    expect(await search(-5)).toEqual(['BAD_USER_INPUT', 'filter.limit: must be from 1 to 1000, not -5']);
    expect(await search(1001)).toEqual(['BAD_USER_INPUT', 'filter.limit: must be from 1 to 1000, not 1001']);
    expect(searches).toEqual([]);
    await searchTraces(store, { service: 'checkout', range, limit: 1000 }, DEFAULT_SEARCH_LIMITS);
    expect(searches).toHaveLength(1);
  });

  it('refuses a filter longer than Jaeger’s request line takes: over 32 tags or 64 KiB of text', async () => {
    const { store, searches } = makeStore({ checkout: [] });
    const search = (filter: Partial<Parameters<typeof searchTraces>[1]>) =>
      failure(searchTraces(store, { service: 'checkout', range, limit: 20, ...filter }, DEFAULT_SEARCH_LIMITS)).then(
        (e) => [e.code, e.message],
      );
    expect(await search({ tags: Array.from({ length: 33 }, (_, i) => ({ key: `k${i}`, value: 'v' })) })).toEqual([
      'BAD_USER_INPUT',
      'filter.tags: at most 32 tags',
    ]);
    expect(
      await search({ operation: 'o'.repeat(40_000), tags: [{ key: 'http.url', value: 'u'.repeat(30_000) }] }),
    ).toEqual(['BAD_USER_INPUT', 'filter: service, operation and tags together at most 65536 bytes']);
    expect(searches).toEqual([]);
  });
});

describe('service map', () => {
  /** checkout → payments (in error) in one trace, payments → ledger in another. */
  function makeCalls() {
    const [first, second] = [randomTraceId(), randomTraceId()];
    const root = makeSpan({ traceId: first, startMs: NOW - 5000, endMs: NOW - 4000 });
    const call = makeSpan({
      traceId: first,
      parentSpanId: root.spanId,
      startMs: NOW - 4900,
      endMs: NOW - 4100,
      status: { code: otlp.Status_StatusCode.ERROR },
    });
    const pay = makeSpan({ traceId: second, startMs: NOW - 3000, endMs: NOW - 2000 });
    const book = makeSpan({ traceId: second, parentSpanId: pay.spanId, startMs: NOW - 2900, endMs: NOW - 2100 });
    const traces = tracesFromOtlp(
      makeExport(
        { service: 'checkout', spans: [root] },
        { service: 'payments', spans: [call, pay] },
        { service: 'ledger', spans: [book] },
      ),
    );
    const byId = new Map(traces.map((t) => [t.traceId, t]));
    const withFirst = byId.get(Buffer.from(first).toString('hex'))!;
    const withSecond = byId.get(Buffer.from(second).toString('hex'))!;
    return { checkout: [withFirst], payments: [withFirst, withSecond], ledger: [withSecond] };
  }

  it('merges Jaeger’s map with the one computed from traces, which alone counts errors', async () => {
    const { store } = makeStore(makeCalls(), () =>
      Promise.resolve([{ parent: 'checkout', child: 'payments', callCount: 3 }]),
    );
    expect(await serviceMap(store, range, DEFAULT_SEARCH_LIMITS)).toEqual([
      { parent: 'checkout', child: 'payments', callCount: 3, errorCount: 1 },
      { parent: 'payments', child: 'ledger', callCount: 1, errorCount: 0 },
    ]);
  });

  it('answers from traces alone when Jaeger’s dependencies API fails', async () => {
    const { store } = makeStore(makeCalls(), () => Promise.reject(new Error('HTTP 500')));
    expect(await serviceMap(store, range, DEFAULT_SEARCH_LIMITS)).toEqual([
      { parent: 'checkout', child: 'payments', callCount: 1, errorCount: 1 },
      { parent: 'payments', child: 'ledger', callCount: 1, errorCount: 0 },
    ]);
  });

  it('gives a service the edges into and out of it, from its own traces', async () => {
    const { store, searches } = makeStore(makeCalls());
    expect(await serviceMap(store, range, DEFAULT_SEARCH_LIMITS, 'ledger')).toEqual([
      { parent: 'payments', child: 'ledger', callCount: 1, errorCount: 0 },
    ]);
    expect(searches.map((s) => [s.service, s.limit])).toEqual([['ledger', 100]]);
  });
});
