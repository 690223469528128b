import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExportTraceServiceRequest, hexId, otlp } from '@heimdall/shared/otlp';
import { serviceAuthHeaders } from '@heimdall/testkit';
import { type PrivateStack, localStack, privateStack } from '@heimdall/stack';
import { attribute, makeExport, makeSpan, randomTraceId } from './otlp-builders.fixtures.js';
import { encodeForJaeger } from './span-validation.js';
import { type TracesServer, startTracesServer } from './traces-server.fixtures.js';

const local = localStack(process.env);
const { Span_SpanKind: Kind, Status_StatusCode: Code } = otlp;
const uniqueService = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;
/** The last 3 minutes: Jaeger's service map on badger costs in proportion to the traces of the range. */
const range = () =>
  `{ from: "${new Date(Date.now() - 180_000).toISOString()}", to: "${new Date(Date.now() + 60_000).toISOString()}" }`;

let server: TracesServer;

/** The state of a policy's breaker on a server's /metrics: 0 closed, 1 half-open, 2 open. */
async function breaker(on: TracesServer, policy: string): Promise<string | undefined> {
  return (await (await fetch(`${on.url}/metrics`)).text()).match(
    new RegExp(`heimdall_circuit_breaker_state\\{policy="${policy}"[^}]*\\} (\\d)`),
  )?.[1];
}

async function push(request: ExportTraceServiceRequest): Promise<void> {
  const response = await fetch(`${server.url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', ...(await server.agentHeaders()) },
    body: encodeForJaeger(request),
  });
  expect(response.status).toBe(200);
}

async function query<T>(text: string): Promise<T> {
  const result = await server.graphql<T>(text);
  expect(result.errors).toBeUndefined();
  return result.data!;
}

/**
 * A trace with a known critical path (ms from t0):
 *
 *   A front  SERVER   [0, 100]
 *   ├ F front INTERNAL [-5, 5]   starts before its parent (clock skew): cut to [0, 5]
 *   ├ B front CLIENT   [10, 40]  runs beside D, ends before D: not on the path
 *   │ └ C back SERVER  [12, 38]  in error
 *   ├ D front INTERNAL [30, 90]
 *   │ └ E back CONSUMER [50, 120] outlives its parent and the root: cut to [50, 90]
 *   └ G front CLIENT   [91, 95]  to an uninstrumented database (peer.service)
 *
 * From A's end back: A [95, 100], G [91, 95], A [90, 91], E [50, 90] (D had nothing of its own after E ended),
 * D [30, 50], A [5, 30] (B ends after 30: not before the point D started), F [0, 5].
 */
function makeCriticalPathTrace(front: string, back: string, database: string) {
  const traceId = randomTraceId();
  const t0 = Date.now() - 10_000;
  const span = (
    name: string,
    kind: otlp.Span_SpanKind,
    from: number,
    to: number,
    parent?: otlp.Span,
    extra: Partial<Parameters<typeof makeSpan>[0]> = {},
  ) =>
    makeSpan({
      traceId,
      name,
      kind,
      startMs: t0 + from,
      endMs: t0 + to,
      ...(parent === undefined ? {} : { parentSpanId: parent.spanId }),
      ...extra,
    });
  const a = span('A', Kind.SERVER, 0, 100);
  const f = span('F', Kind.INTERNAL, -5, 5, a);
  const b = span('B', Kind.CLIENT, 10, 40, a, {
    attributes: [attribute('peer.service', { case: 'stringValue', value: back })],
  });
  const c = span('C', Kind.SERVER, 12, 38, b, { status: { code: Code.ERROR, message: 'boom' } });
  const d = span('D', Kind.INTERNAL, 30, 90, a);
  const e = span('E', Kind.CONSUMER, 50, 120, d);
  const g = span('G', Kind.CLIENT, 91, 95, a, {
    attributes: [attribute('peer.service', { case: 'stringValue', value: database })],
  });
  return {
    traceId: hexId(traceId),
    t0,
    request: makeExport({ service: front, spans: [a, f, b, d, g] }, { service: back, spans: [c, e] }),
  };
}

interface PathAnswer {
  criticalPath:
    | {
        span: { operationName: string };
        selfTimeMs: number;
        sections: { startTime: string; endTime: string; durationMs: number }[];
      }[]
    | null;
}

describe('trace queries through the traces subgraph', () => {
  beforeAll(async () => {
    await local.require('consul', 'jaeger');
    server = await startTracesServer(local);
  });
  afterAll(() => server?.stop());

  it('answers the critical path Jaeger’s UI would draw, each span with its self time on the path', async () => {
    const { traceId, t0, request } = makeCriticalPathTrace(
      uniqueService('front'),
      uniqueService('back'),
      uniqueService('db'),
    );
    await push(request);
    const { criticalPath } = await query<PathAnswer>(
      `{ criticalPath(traceId: "${traceId}") { span { operationName } selfTimeMs sections { startTime endTime durationMs } } }`,
    );
    const at = (ms: number) => new Date(t0 + ms).toISOString().replace('Z', '000000Z');
    const section = (from: number, to: number) => ({ startTime: at(from), endTime: at(to), durationMs: to - from });
    expect(criticalPath).toEqual([
      { span: { operationName: 'F' }, selfTimeMs: 5, sections: [section(0, 5)] },
      { span: { operationName: 'A' }, selfTimeMs: 31, sections: [section(5, 30), section(90, 91), section(95, 100)] },
      { span: { operationName: 'D' }, selfTimeMs: 20, sections: [section(30, 50)] },
      { span: { operationName: 'E' }, selfTimeMs: 40, sections: [section(50, 90)] },
      { span: { operationName: 'G' }, selfTimeMs: 4, sections: [section(91, 95)] },
    ]);
    expect(await query<PathAnswer>(`{ criticalPath(traceId: "${hexId(randomTraceId())}") { selfTimeMs } }`)).toEqual({
      criticalPath: null,
    });
  });

  it('draws the service map of a service: calls into other services with their errors, and to uninstrumented peers', async () => {
    const [front, back, database] = [uniqueService('front'), uniqueService('back'), uniqueService('db')];
    await push(makeCriticalPathTrace(front, back, database).request);
    await push(makeCriticalPathTrace(front, back, database).request);
    const edges = async (service: string) =>
      (
        await query<{ _entities: { dependencies: unknown[] }[] }>(
          `{ _entities(representations: [{ __typename: "Service", name: "${service}" }]) { ... on Service { dependencies(range: ${range()}) { parent child callCount errorCount } } } }`,
        )
      )._entities[0]?.dependencies;
    // Per trace: C (back) under B (front), in error; E (back) under D (front); G to the database.
    expect(await edges(front)).toEqual([
      { parent: front, child: back, callCount: 4, errorCount: 2 },
      { parent: front, child: database, callCount: 2, errorCount: 0 },
    ]);
    expect(await edges(database)).toEqual([]);

    const { dependencies } = await query<{ dependencies: { parent: string; child: string; callCount: number }[] }>(
      `{ dependencies(range: ${range()}) { parent child callCount } }`,
    );
    expect(dependencies.filter((d) => d.parent === front)).toContainEqual({ parent: front, child: back, callCount: 4 });
  });

  describe('traces(filter)', () => {
    const service = uniqueService('search');
    const t0 = Date.now() - 60_000;
    const ids: string[] = [];
    beforeAll(async () => {
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
      const child = makeSpan({
        traceId: failed.traceId,
        parentSpanId: failed.spanId,
        name: 'SELECT',
        kind: Kind.CLIENT,
        startMs: t0 + 1010,
        endMs: t0 + 1040,
      });
      const slow = makeSpan({
        name: 'GET /a',
        startMs: t0 + 2000,
        endMs: t0 + 2200,
        attributes: [attribute('http.route', { case: 'stringValue', value: '/c' })],
      });
      await push(makeExport({ service, spans: [fast, failed, child, slow] }));
      ids.push(...[fast, failed, slow].map((s) => hexId(s.traceId)));
    });

    const search = async (filter: string) =>
      (
        await query<{ traces: { traceId: string }[] }>(
          `{ traces(filter: { service: "${service}", range: ${range()} ${filter} }) { traceId } }`,
        )
      ).traces.map((t) => t.traceId);

    it('answers newest first, each trace with its root span, duration, span and error counts', async () => {
      const { traces } = await query<{ traces: unknown[] }>(
        `{ traces(filter: { service: "${service}", range: ${range()} }) { traceId rootSpan { operationName status { code message } } durationMs spanCount errorCount } }`,
      );
      const [fast, failed, slow] = ids;
      expect(traces).toEqual([
        {
          traceId: slow,
          rootSpan: { operationName: 'GET /a', status: { code: 'UNSET', message: '' } },
          durationMs: 200,
          spanCount: 1,
          errorCount: 0,
        },
        {
          traceId: failed,
          rootSpan: { operationName: 'GET /b', status: { code: 'ERROR', message: 'boom' } },
          durationMs: 50,
          spanCount: 2,
          errorCount: 1,
        },
        {
          traceId: fast,
          rootSpan: { operationName: 'GET /a', status: { code: 'UNSET', message: '' } },
          durationMs: 5,
          spanCount: 1,
          errorCount: 0,
        },
      ]);
    });

    it('filters by operation, tags, duration and errors, and keeps to the limit', async () => {
      const [fast, failed, slow] = ids;
      expect(await search('operation: "GET /a"')).toEqual([slow, fast]);
      expect(await search('tags: [{ key: "http.route", value: "/c" }]')).toEqual([slow]);
      expect(await search('minDurationMs: 40, maxDurationMs: 100')).toEqual([failed]);
      expect(await search('errorsOnly: true')).toEqual([failed]);
      expect(await search('limit: 1')).toEqual([slow]);
    });

    it('answers a search Jaeger refuses for what it asks as BAD_USER_INPUT with Jaeger’s reason, not counted against Jaeger', async () => {
      for (let i = 0; i < 6; i++) {
        const refused = await server.graphql(
          `{ traces(filter: { service: "${service}", range: ${range()}, minDurationMs: 1e300 }) { traceId } }`,
        );
        expect(refused.errors).toEqual([
          expect.objectContaining({
            message: expect.stringMatching(/^Jaeger refused the query: unable to parse param 'minDuration'/) as unknown,
            extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) as unknown,
          }),
        ]);
      }
      expect(await breaker(server, 'jaeger_search')).toBe('0');
      expect(await search('')).toHaveLength(3);
    });

    it('answers a search that runs past its deadline in Jaeger as LIMIT_EXCEEDED, not counted against Jaeger', async () => {
      // 10,000 spans for a duration filter to scan: badger looks at each span of the range (about 6 ms here, where
      // Jaeger lists its services in 1 or 2), past a deadline of 2 ms.
      for (let part = 0; part < 2; part++) {
        const t = Date.now() - 120_000;
        await push(
          makeExport({
            service: uniqueService('bulk'),
            spans: Array.from({ length: 5000 }, (_, i) => makeSpan({ name: `op ${i % 50}`, startMs: t + i })),
          }),
        );
      }
      const strict = await startTracesServer(local, { JAEGER_SEARCH_DEADLINE_MS: '2' });
      try {
        const week = `{ from: "${new Date(Date.now() - 7 * 86_400_000 + 60_000).toISOString()}", to: "${new Date().toISOString()}" }`;
        for (let i = 0; i < 6; i++) {
          const expensive = await strict.graphql(
            `{ traces(filter: { service: "${service}", range: ${week}, minDurationMs: 0.001, tags: [{ key: "http.route", value: "/c" }] }) { traceId } }`,
          );
          expect(expensive.errors).toEqual([
            expect.objectContaining({
              message:
                'the search ran past 2 ms in Jaeger (JAEGER_SEARCH_DEADLINE_MS): narrow the range, or name a service, an operation or a tag',
              extensions: expect.objectContaining({ code: 'LIMIT_EXCEEDED' }) as unknown,
            }),
          ]);
        }
        expect(await breaker(strict, 'jaeger_search')).toBe('0');
        expect((await strict.graphql(`{ trace(traceId: "${ids[0]!}") { traceId } }`)).data).toEqual({
          trace: { traceId: ids[0] },
        });
      } finally {
        await strict.stop();
      }
    });

    it('refuses a reversed or unbounded range as BAD_USER_INPUT naming the argument', async () => {
      const reversed = await server.graphql(
        `{ traces(filter: { service: "${service}", range: { from: "2026-11-22T11:00:00Z", to: "2026-11-22T10:00:00Z" } }) { traceId } }`,
      );
      expect(reversed.errors).toEqual([
        expect.objectContaining({
          message: 'filter.range: from must be before to',
          extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', argument: 'filter.range' }) as unknown,
        }),
      ]);
      const missing = await server.graphql(`{ traces(filter: { service: "${service}" }) { traceId } }`);
      expect(missing.errors?.[0]?.message).toBe(
        'Field "TraceFilter.range" of required type "TimeRangeInput!" was not provided.',
      );
    });
  });

  it('answers at most 8 MiB of span text for a trace, marking the spans cut and the trace, with every span counted', async () => {
    // 6 spans of 128 attributes of 16 KiB: 12 MiB of values.
    const root = makeSpan({ name: 'GET /huge' });
    const value = 'v'.repeat(16_384);
    const attributes = Array.from({ length: 128 }, (_, i) =>
      attribute(`a${String(i).padStart(3, '0')}`, { case: 'stringValue', value }),
    );
    const spans = [
      root,
      ...Array.from({ length: 5 }, (_, i) =>
        makeSpan({ traceId: root.traceId, parentSpanId: root.spanId, name: `part ${i}`, startMs: Date.now() - 9 + i }),
      ),
    ].map((span) => ({ ...span, attributes }));
    await push(makeExport({ service: uniqueService('huge'), spans }));
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await serviceAuthHeaders()) },
      body: JSON.stringify({
        query: `{ trace(traceId: "${hexId(root.traceId)}") { truncated spanCount rootSpan { truncated } spans { truncated tags { value } } } }`,
      }),
    });
    const body = await response.text();
    expect(body.length).toBeLessThan(8.5 * 1024 * 1024);
    const { trace } = (
      JSON.parse(body) as {
        data: {
          trace: {
            truncated: boolean;
            spanCount: number;
            rootSpan: { truncated: boolean };
            spans: { truncated: boolean; tags: unknown[] }[];
          };
        };
      }
    ).data;
    expect(trace).toMatchObject({ truncated: true, spanCount: 6, rootSpan: { truncated: false } });
    // About 2 MiB a span: three whole, the fourth cut, the last two left out.
    expect(trace.spans.map((s) => s.truncated)).toEqual([false, false, false, true]);
    expect(trace.spans.map((s) => s.tags.length).slice(0, 3)).toEqual([128, 128, 128]);
    expect(trace.spans[3]!.tags.length).toBeLessThan(128);
  });

  it('gives back a span’s instrumentation scope whole, its attributes with their types, by id and by search', async () => {
    const service = uniqueService('scoped');
    // Sorted by key: Jaeger's search answers a span's tags so.
    const scopeAttributes = [
      attribute('library.beta', { case: 'boolValue', value: true }),
      attribute('library.build', { case: 'intValue', value: 9_007_199_254_740_993n }),
      attribute('library.language', { case: 'stringValue', value: 'typescript' }),
    ];
    const span = makeSpan({
      name: 'GET /scoped',
      attributes: [attribute('http.route', { case: 'stringValue', value: '/scoped' })],
    });
    await push(
      makeExport({
        service,
        scope: { name: 'shop-lib', version: '3.1.4', attributes: scopeAttributes },
        spans: [span],
      }),
    );
    const scope = {
      name: 'shop-lib',
      version: '3.1.4',
      attributes: [
        { key: 'library.beta', type: 'BOOL', value: 'true' },
        { key: 'library.build', type: 'INT', value: '9007199254740993' },
        { key: 'library.language', type: 'STRING', value: 'typescript' },
      ],
    };
    const fields = 'spans { scope { name version attributes { key type value } } tags { key } }';
    const byId = await query<{ trace: { spans: unknown[] } }>(
      `{ trace(traceId: "${hexId(span.traceId)}") { ${fields} } }`,
    );
    expect(byId.trace.spans).toEqual([{ scope, tags: [{ key: 'http.route' }] }]);
    const found = await query<{ traces: { spans: unknown[] }[] }>(
      `{ traces(filter: { service: "${service}", range: ${range()} }) { ${fields} } }`,
    );
    expect(found.traces.map((t) => t.spans)).toEqual([[{ scope, tags: [{ key: 'http.route' }] }]]);
  });

  it('answers null for an unknown trace and BAD_USER_INPUT for a malformed id', async () => {
    expect(await query(`{ trace(traceId: "${hexId(randomTraceId())}") { traceId } }`)).toEqual({ trace: null });
    const malformed = await server.graphql('{ trace(traceId: "not-a-trace") { traceId } }');
    expect(malformed.data).toEqual({ trace: null });
    expect(malformed.errors).toEqual([
      expect.objectContaining({
        message: 'traceId: must be 1 to 32 hexadecimal digits, not all zero',
        path: ['trace'],
        extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', argument: 'traceId' }) as unknown,
      }),
    ]);
  });

  it('lists a service’s operations with their kinds, only those of a kind when asked', async () => {
    const service = uniqueService('ops');
    await push(
      makeExport({
        service,
        spans: [makeSpan({ name: 'GET /in', kind: Kind.SERVER }), makeSpan({ name: 'SELECT', kind: Kind.CLIENT })],
      }),
    );
    expect(await query(`{ operations(service: "${service}") { name spanKind } }`)).toEqual({
      operations: [
        { name: 'GET /in', spanKind: 'SERVER' },
        { name: 'SELECT', spanKind: 'CLIENT' },
      ],
    });
    expect(await query(`{ operations(service: "${service}", kind: CLIENT) { name } }`)).toEqual({
      operations: [{ name: 'SELECT' }],
    });
  });

  it('resolves spans as entities by trace and span id, as another subgraph extending Span asks for them', async () => {
    const root = makeSpan({ name: 'GET /cart' });
    const child = makeSpan({ traceId: root.traceId, parentSpanId: root.spanId, name: 'SELECT', kind: Kind.CLIENT });
    await push(makeExport({ service: uniqueService('entities'), spans: [root, child] }));
    const traceId = hexId(root.traceId);
    const representations = [child, root].map(
      (s) => `{ __typename: "Span", traceId: "${traceId}", spanId: "${hexId(s.spanId)}" }`,
    );
    representations.push(`{ __typename: "Span", traceId: "${traceId}", spanId: "0102030405060708" }`);
    const data = await query<{ _entities: unknown[] }>(
      `{ _entities(representations: [${representations.join(', ')}]) { ... on Span { operationName parentSpanId } } }`,
    );
    expect(data._entities).toEqual([
      { operationName: 'SELECT', parentSpanId: hexId(root.spanId) },
      { operationName: 'GET /cart', parentSpanId: null },
      null,
    ]);
  });
});

describe('trace searches when Jaeger hangs', () => {
  let jaeger: PrivateStack;
  beforeAll(async () => {
    await local.require('consul');
    jaeger = await privateStack(['jaeger'], process.env);
  }, 120_000);
  afterAll(() => jaeger?.remove());

  it('answers UNAVAILABLE and opens the search breaker: a search past its deadline is Jaeger’s failure when Jaeger lists no services either', async () => {
    const hung = await startTracesServer(
      local,
      { JAEGER_SEARCH_DEADLINE_MS: '100', JAEGER_READ_TIMEOUT_MS: '500' },
      jaeger,
    );
    await jaeger.pause();
    try {
      const now = Date.now();
      const filter = `{ service: "checkout", range: { from: "${new Date(now - 60_000).toISOString()}", to: "${new Date(now).toISOString()}" } }`;
      const codes: unknown[] = [];
      for (let i = 0; i < 6; i++)
        codes.push((await hung.graphql(`{ traces(filter: ${filter}) { traceId } }`)).errors?.[0]?.extensions?.code);
      expect(codes).toEqual(Array(6).fill('UNAVAILABLE'));
      expect(await breaker(hung, 'jaeger_search')).toBe('2');
    } finally {
      await jaeger.resume();
      await hung.stop();
    }
  });
});
