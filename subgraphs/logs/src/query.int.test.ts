// The query API of the logs subgraph on the local stack's Elasticsearch with nori: Korean search with highlights,
// the query language, paging while entries arrive, counts, histograms, facets, patterns, volume anomalies, the
// federated fields, and every error a query can meet. Each run writes under service names of its own.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localStack } from '@heimdall/stack';
import {
  type GraphQLAnswer,
  type TestLogsService,
  eventually,
  makeOtlpLogs,
  postJson,
  recentRange,
  startLogsService,
} from './logs-service.fixtures.js';

const local = localStack(process.env);
const run = randomUUID().slice(0, 8);
const [checkout, payments, auth, web] = ['checkout', 'payments', 'auth', 'web'].map((s) => `${s}-${run}`) as [
  string,
  string,
  string,
  string,
];
const ALL = [checkout, payments, auth, web];
const TRACE_ID = `00${randomBytes(15).toString('hex')}`;
const SPAN_DB = randomBytes(8).toString('hex');
const SPAN_CLIENT = randomBytes(8).toString('hex');
const ERROR = 17;
const WARN = 13;
const INFO = 9;

interface SearchAnswer {
  logSearch: {
    entries: { id: string; message: string; timestamp: string; highlights: string[] }[];
    total: number;
    totalRelation: string;
    cursor: string | null;
  };
}

describe('the logs query API', () => {
  let service: TestLogsService;
  const now = Date.now();

  const push = async (name: string, records: Parameters<typeof makeOtlpLogs>[1], at: number) => {
    const answer = await postJson(`${service.url}/v1/logs`, makeOtlpLogs(name, records, at));
    expect(answer.status).toBe(200);
  };
  const search = (
    filter: Record<string, unknown>,
    page: { first?: number; after?: string | null; order?: string } = {},
  ) =>
    service.graphql<SearchAnswer>(
      'query($filter: LogFilter!, $first: Int, $after: String, $order: LogOrder) { logSearch(filter: $filter, first: $first, after: $after, order: $order) { entries { id message timestamp highlights } total totalRelation cursor } }',
      { filter: { range: recentRange(), services: ALL, ...filter }, ...page },
    );
  const messages = async (query: string, filter: Record<string, unknown> = {}) => {
    const answer = await search({ query, ...filter });
    expect(answer.errors).toBeUndefined();
    return answer.data!.logSearch.entries.map((e) => e.message);
  };
  const errorOf = (answer: GraphQLAnswer<unknown>) => {
    expect(answer.errors).toHaveLength(1);
    const [error] = answer.errors!;
    return { message: error!.message, ...error!.extensions };
  };

  beforeAll(async () => {
    await local.require('elasticsearch', 'redis');
    service = await startLogsService({
      elasticsearchUrl: local.endpoints.elasticsearchUrl,
      redisUrl: local.endpoints.redisUrl,
    });
    await push(checkout, [{ message: 'cache warmed up in 35ms', severityNumber: INFO }], now - 40_000);
    await push(
      checkout,
      [
        {
          message: 'DB connection refused: 데이터베이스 응답 없음',
          severityNumber: ERROR,
          attributes: { pod: 'web-7', 'http.method': 'GET' },
          traceId: TRACE_ID,
          spanId: SPAN_CLIENT,
        },
      ],
      now - 20_000,
    );
    await push(
      checkout,
      [
        {
          message: '데이터베이스에서 연결이 실패했습니다',
          severityNumber: ERROR,
          attributes: { pod: 'web-12', region: 'kr' },
          traceId: TRACE_ID,
          spanId: SPAN_DB,
        },
      ],
      now - 10_000,
    );
    await push(payments, [{ message: '결제 요청이 실패했습니다', severityNumber: WARN }], now - 30_000);
    await push(auth, [{ message: '사용자 로그인 성공', severityNumber: INFO }], now - 60_000);
    await push(web, [{ message: 'render <b>실패</b> page', severityNumber: WARN }], now - 80_000);
    await eventually(
      () => search({}),
      (answer) => answer.data?.logSearch.total === 6,
    );
  });
  afterAll(async () => {
    await service?.stop();
  });

  describe('Korean and English search', () => {
    it('finds 데이터베이스에서 by 데이터베이스 and 실패했습니다 by 실패, with <em> around the matched word', async () => {
      expect(await messages('데이터베이스')).toEqual([
        '데이터베이스에서 연결이 실패했습니다',
        'DB connection refused: 데이터베이스 응답 없음',
      ]);
      const found = await search({ query: '실패' });
      expect(found.data?.logSearch.entries.map((e) => e.highlights)).toEqual([
        ['데이터베이스에서 연결이 <em>실패</em>했습니다'],
        ['결제 요청이 <em>실패</em>했습니다'],
        ['render &lt;b&gt;<em>실패</em>&lt;&#x2F;b&gt; page'],
      ]);
      expect(found.data?.logSearch).toMatchObject({ total: 3, totalRelation: 'EXACT', cursor: null });
    });

    it('matches a mixed line by its Korean and its English words, any case', async () => {
      expect(await messages('데이터베이스 REFUSED')).toEqual(['DB connection refused: 데이터베이스 응답 없음']);
      expect(await messages('응답')).toEqual(['DB connection refused: 데이터베이스 응답 없음']);
    });

    it('reads phrases in order, AND / OR / NOT with parentheses, fields and prefixes', async () => {
      expect(await messages('"연결이 실패했습니다"')).toEqual(['데이터베이스에서 연결이 실패했습니다']);
      expect(await messages('"실패했습니다 연결이"')).toEqual([]);
      expect(await messages(`실패 AND NOT service:${payments} -service:${web}`)).toEqual([
        '데이터베이스에서 연결이 실패했습니다',
      ]);
      expect(await messages('(결제 OR 로그인) 성공')).toEqual(['사용자 로그인 성공']);
      expect(await messages('level:warn')).toEqual(['결제 요청이 실패했습니다', 'render <b>실패</b> page']);
      expect(await messages('labels.region:kr')).toEqual(['데이터베이스에서 연결이 실패했습니다']);
      expect(await messages('labels.http.method:GET')).toEqual(['DB connection refused: 데이터베이스 응답 없음']);
      expect(await messages('conn*')).toEqual(['DB connection refused: 데이터베이스 응답 없음']);
      expect(await messages('데이터베*')).toEqual([
        '데이터베이스에서 연결이 실패했습니다',
        'DB connection refused: 데이터베이스 응답 없음',
      ]);
      expect(await messages(`traceId:${TRACE_ID.toUpperCase()}`)).toEqual([
        '데이터베이스에서 연결이 실패했습니다',
        'DB connection refused: 데이터베이스 응답 없음',
      ]);
    });

    it('filters by services, levels, trace id and label matchers, newest or oldest first', async () => {
      expect(await messages('', { services: [auth, web] })).toEqual(['사용자 로그인 성공', 'render <b>실패</b> page']);
      expect(await messages('실패', { levels: ['WARN'] })).toEqual([
        '결제 요청이 실패했습니다',
        'render <b>실패</b> page',
      ]);
      expect(await messages('', { traceId: TRACE_ID })).toEqual([
        '데이터베이스에서 연결이 실패했습니다',
        'DB connection refused: 데이터베이스 응답 없음',
      ]);
      expect(
        await messages('', {
          labels: [
            { key: 'pod', op: 'RE', value: 'web-[0-9]+' },
            { key: 'region', op: 'NEQ', value: 'kr' },
          ],
        }),
      ).toEqual(['DB connection refused: 데이터베이스 응답 없음']);
      const oldest = await search({ services: [checkout] }, { order: 'OLDEST_FIRST' });
      expect(oldest.data?.logSearch.entries.map((e) => e.message)).toEqual([
        'cache warmed up in 35ms',
        'DB connection refused: 데이터베이스 응답 없음',
        '데이터베이스에서 연결이 실패했습니다',
      ]);
    });
  });

  describe('errors', () => {
    it('answers a syntax error with BAD_USER_INPUT and its position, and says the same through validateLogQuery', async () => {
      expect(errorOf(await search({ query: 'service:checkout AND (실패' }))).toEqual({
        message: 'query: this ( is not closed (at 21)',
        code: 'BAD_USER_INPUT',
        argument: 'query',
        position: 21,
      });
      const verdicts = await service.graphql<{ ok: unknown; bad: unknown }>(
        '{ ok: validateLogQuery(query: "실패 AND level:error") { valid message position } bad: validateLogQuery(query: "level:loud") { valid message position } }',
      );
      expect(verdicts.data).toEqual({
        ok: { valid: true, message: null, position: null },
        bad: { valid: false, message: 'level must be one of DEBUG, INFO, WARN, ERROR, FATAL', position: 6 },
      });
    });

    it('refuses unbounded or malformed arguments, naming the argument, and never shows Elasticsearch’s words', async () => {
      const day = 86_400_000;
      const cases: [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>][] = [
        [
          { range: { from: new Date(now - 91 * day).toISOString(), to: new Date(now).toISOString() } },
          {},
          { code: 'BAD_USER_INPUT', argument: 'range', message: 'range: longer than the 90 days allowed' },
        ],
        [
          { range: { from: new Date(now).toISOString(), to: new Date(now - 1000).toISOString() } },
          {},
          { code: 'BAD_USER_INPUT', argument: 'range', message: 'range: from must be before to' },
        ],
        [
          { range: { from: 'yesterday', to: new Date(now).toISOString() } },
          {},
          { code: 'BAD_USER_INPUT', argument: 'range.from' },
        ],
        [
          {},
          { first: 5000 },
          { code: 'BAD_USER_INPUT', argument: 'first', message: 'first: must be from 1 to 1000, not 5000' },
        ],
        [
          {},
          { after: 'not-a-cursor' },
          { code: 'BAD_USER_INPUT', argument: 'after', message: 'after: not a cursor of logSearch' },
        ],
        [
          { traceId: 'xyz' },
          {},
          { code: 'BAD_USER_INPUT', argument: 'traceId', message: 'traceId: must be 32 hex digits' },
        ],
        [
          { labels: [{ key: 'pod', op: 'RE', value: '^web' }] },
          {},
          { code: 'BAD_USER_INPUT', argument: 'labels[0].value' },
        ],
        [
          { labels: [{ key: 'pod', op: 'RE', value: '.*a.{20}' }] },
          {},
          {
            code: 'BAD_USER_INPUT',
            argument: 'labels',
            message: 'labels: a regular expression is too complex to search; write a narrower one',
          },
        ],
      ];
      for (const [filter, page, expected] of cases) {
        const error = errorOf(await search(filter, page));
        expect(error, JSON.stringify(filter)).toMatchObject(expected);
        expect(JSON.stringify(error)).not.toMatch(/exception|Determiniz|elasticsearch/i);
      }
      const noRange = await service.graphql('{ logs(filter: { query: "x" }) { id } }');
      expect(noRange.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const filter = { range: recentRange(), services: ALL };
      const histogram = (interval: string) =>
        service.graphql('query($f: LogFilter!, $i: String) { logHistogram(filter: $f, interval: $i) { interval } }', {
          f: filter,
          i: interval,
        });
      expect(errorOf(await histogram('soon'))).toEqual({
        code: 'BAD_USER_INPUT',
        argument: 'interval',
        message: 'interval: "soon" is not a duration such as 30s, 5m, 1h30m or 1d (unexpected "soon")',
      });
      expect(errorOf(await histogram('1s'))).toMatchObject({ code: 'LIMIT_EXCEEDED', argument: 'interval' });
      expect((await histogram('1h30m')).data).toEqual({ logHistogram: { interval: '90m' } });
    });
  });

  describe('pages', () => {
    it('page with a stable cursor while entries arrive: every entry once, none skipped', async () => {
      const pager = `pager-${run}`;
      // 25 entries, four per second, so that pages of 10 end inside runs of equal seconds.
      for (let second = 0; second < 7; second++) {
        await push(
          pager,
          Array.from({ length: Math.min(4, 25 - second * 4) }, (_, i) => ({ message: `page entry ${second}-${i}` })),
          now - 100_000 - second * 1000,
        );
      }
      const pageOf = (after?: string | null) => search({ services: [pager] }, { first: 10, after: after ?? null });
      await eventually(
        () => pageOf(),
        (answer) => answer.data?.logSearch.total === 25,
      );
      const page1 = (await pageOf()).data!.logSearch;
      const original = new Set(
        (await search({ services: [pager] }, { first: 100 })).data!.logSearch.entries.map((e) => e.id),
      );
      const boundary = Date.parse(page1.entries.at(-1)!.timestamp);
      // New entries: newer than all, at the very time the first page ended on, and older than all.
      await push(pager, [{ message: 'newest' }, { message: 'newest too' }], now - 1000);
      await push(pager, [{ message: 'at the boundary' }], boundary);
      await push(pager, [{ message: 'oldest' }], now - 200_000);
      await eventually(
        () => pageOf(),
        (answer) => answer.data?.logSearch.total === 29,
      );

      const seen = [...page1.entries];
      let cursor = page1.cursor;
      let pages = 1;
      while (cursor !== null) {
        const next = (await pageOf(cursor)).data!.logSearch;
        seen.push(...next.entries);
        cursor = next.cursor;
        pages++;
      }
      expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
      expect(seen.filter((e) => original.has(e.id)).length).toBe(25);
      // Arrivals after the cursor turn up on later pages; those before it wait for a new search.
      expect(seen.map((e) => e.message)).toEqual(expect.arrayContaining(['at the boundary', 'oldest']));
      expect(seen.map((e) => e.message)).not.toContain('newest');
      expect(pages).toBe(3);
    });

    it('counts exactly up to 10,000 matches, then says at least', async () => {
      const many = `many-${run}`;
      for (let part = 0; part < 3; part++) {
        await push(
          many,
          Array.from({ length: 3_500 }, (_, i) => ({ message: `bulk ${part}-${i}` })),
          now - 300_000 - part * 1000,
        );
      }
      const answer = await eventually(
        () => search({ services: [many] }, { first: 1 }),
        (a) => a.data?.logSearch.totalRelation === 'AT_LEAST',
      );
      expect(answer.data?.logSearch).toMatchObject({ total: 10_000, totalRelation: 'AT_LEAST' });
      expect(answer.data?.logSearch.cursor).not.toBeNull();
    });
  });

  describe('views of the matching entries', () => {
    it('counts per bucket and level over the range, empty buckets included', async () => {
      const range = {
        from: new Date(Math.floor(now / 60_000) * 60_000 - 5 * 60_000).toISOString(),
        to: new Date(Math.floor(now / 60_000) * 60_000 + 60_000).toISOString(),
      };
      type Histogram = {
        logHistogram: {
          interval: string;
          buckets: { timestamp: string; count: number; levels: { level: string; count: number }[] }[];
        };
      };
      const answer = await service.graphql<Histogram>(
        'query($f: LogFilter!) { logHistogram(filter: $f, interval: "1m") { interval buckets { timestamp count levels { level count } } } }',
        {
          f: { services: ALL, range },
        },
      );
      expect(answer.data?.logHistogram.interval).toBe('1m');
      const buckets = answer.data!.logHistogram.buckets;
      expect(buckets).toHaveLength(6);
      expect(buckets[0]?.timestamp).toBe(`${range.from.slice(0, -1)}000000Z`);
      expect(buckets.reduce((n, b) => n + b.count, 0)).toBe(6);
      const perLevel = new Map<string, number>();
      for (const b of buckets) for (const l of b.levels) perLevel.set(l.level, (perLevel.get(l.level) ?? 0) + l.count);
      expect(Object.fromEntries(perLevel)).toEqual({ ERROR: 2, WARN: 2, INFO: 2 });
    });

    it('lists the top services, levels and labels with counts', async () => {
      const answer = await service.graphql<{ logFacets: unknown }>(
        'query($f: LogFilter!) { logFacets(filter: $f) { services { value count } levels { value count } labels { key count values { value count } } } }',
        { f: { services: ALL, range: recentRange() } },
      );
      expect(answer.data?.logFacets).toEqual({
        services: [
          { value: checkout, count: 3 },
          { value: auth, count: 1 },
          { value: payments, count: 1 },
          { value: web, count: 1 },
        ],
        levels: [
          { value: 'ERROR', count: 2 },
          { value: 'INFO', count: 2 },
          { value: 'WARN', count: 2 },
        ],
        labels: [
          {
            key: 'pod',
            count: 2,
            values: [
              { value: 'web-12', count: 1 },
              { value: 'web-7', count: 1 },
            ],
          },
          { key: 'http.method', count: 1, values: [{ value: 'GET', count: 1 }] },
          { key: 'region', count: 1, values: [{ value: 'kr', count: 1 }] },
        ],
      });
    });

    it('mines message patterns, variables as <*>, Korean particles not splitting them', async () => {
      const patterned = `patterns-${run}`;
      const records = [
        ...Array.from({ length: 60 }, (_, i) => ({
          message: `사용자 ${1000 + i}${i % 2 === 0 ? '이' : '가'} 로그인했습니다 from 10.0.${i}.7`,
        })),
        ...Array.from({ length: 40 }, (_, i) => ({
          message: `주문 ord-${randomBytes(4).toString('hex')} 처리 시간 ${20 + i}ms`,
        })),
      ];
      // Longer than message.keyword keeps (256 characters): read from the documents' sources.
      const long = `긴 메시지 ${'가나다'.repeat(100)}`;
      await push(
        patterned,
        [...records, { message: long }, { message: long }, { message: 'disk full on /var' }],
        now - 50_000,
      );
      type Patterns = { logPatterns: { pattern: string; count: number; sample: string }[] };
      const answer = await eventually(
        () =>
          service.graphql<Patterns>(
            'query($f: LogFilter!) { logPatterns(filter: $f, limit: 5) { pattern count sample } }',
            { f: { services: [patterned], range: recentRange() } },
          ),
        (a) => (a.data?.logPatterns.reduce((n, p) => n + p.count, 0) ?? 0) === 103,
      );
      expect(answer.data?.logPatterns.map(({ pattern, count }) => ({ pattern, count }))).toEqual([
        { pattern: '사용자 <*> 로그인했습니다 from <*>', count: 60 },
        { pattern: '주문 ord-<*> 처리 시간 <*>', count: 40 },
        { pattern: long, count: 2 },
        { pattern: 'disk full on /var', count: 1 },
      ]);
    });

    it('finds the minute whose volume departs from the minutes before it', async () => {
      const volume = `volume-${run}`;
      const minute = Math.floor(now / 60_000) * 60_000;
      // Five entries a minute from 40 to 6 minutes ago, sixty in the minute 5 minutes ago, then silence.
      for (let m = 40; m >= 6; m--)
        await push(
          volume,
          Array.from({ length: 5 }, (_, i) => ({ message: `steady ${m}-${i}` })),
          minute - m * 60_000 + 1000,
        );
      await push(
        volume,
        Array.from({ length: 60 }, (_, i) => ({ message: `burst ${i}` })),
        minute - 5 * 60_000 + 1000,
      );
      type Anomalies = {
        logVolumeAnomalies: {
          level: string;
          timestamp: string;
          interval: string;
          count: number;
          expected: number;
          score: number;
          direction: string;
          baseline: string;
        }[];
      };
      const range = { from: new Date(minute - 15 * 60_000).toISOString(), to: new Date(now).toISOString() };
      const answer = await eventually(
        () =>
          service.graphql<Anomalies>(
            'query($s: String!, $r: TimeRangeInput!) { logVolumeAnomalies(service: $s, range: $r) { level timestamp interval count expected score direction baseline } }',
            { s: volume, r: range },
          ),
        (a) => (a.data?.logVolumeAnomalies[0]?.count ?? 0) === 60,
      );
      expect(answer.data?.logVolumeAnomalies).toEqual([
        {
          level: 'INFO',
          timestamp: `${new Date(minute - 5 * 60_000).toISOString().slice(0, -1)}000000Z`,
          interval: '1m',
          count: 60,
          expected: 5,
          score: 55 / Math.sqrt(5),
          direction: 'SPIKE',
          baseline: 'TRAILING',
        },
      ]);
    });
  });

  describe('federated fields', () => {
    it('answer a trace’s and a span’s logs oldest first, and a service’s recent logs and volume', async () => {
      type Entities = { _entities: ({ logs: { message: string }[] | null; logVolume?: { count: number }[] } | null)[] };
      const answer = await service.graphql<Entities>(
        `query($r: [_Any!]!, $range: TimeRangeInput!) { _entities(representations: $r) {
          ... on Trace { logs { message } } ... on Span { logs { message } }
          ... on Service { logs(limit: 2) { message } logVolume(range: $range) { count } } } }`,
        {
          r: [
            // Jaeger writes trace ids without their leading zeros.
            { __typename: 'Trace', traceId: TRACE_ID.replace(/^0+/, '') },
            { __typename: 'Span', traceId: TRACE_ID, spanId: SPAN_DB.toUpperCase() },
            { __typename: 'Span', traceId: TRACE_ID, spanId: randomBytes(8).toString('hex') },
            { __typename: 'Service', name: checkout },
          ],
          range: recentRange(),
        },
      );
      expect(answer.errors).toBeUndefined();
      const [traceLogs, spanLogs, quietSpan, checkoutService] = answer.data!._entities;
      expect(traceLogs?.logs?.map((e) => e.message)).toEqual([
        'DB connection refused: 데이터베이스 응답 없음',
        '데이터베이스에서 연결이 실패했습니다',
      ]);
      expect(spanLogs?.logs?.map((e) => e.message)).toEqual(['데이터베이스에서 연결이 실패했습니다']);
      expect(quietSpan?.logs).toEqual([]);
      expect(checkoutService?.logs?.map((e) => e.message)).toEqual([
        '데이터베이스에서 연결이 실패했습니다',
        'DB connection refused: 데이터베이스 응답 없음',
      ]);
      expect(checkoutService?.logVolume?.reduce((n, b) => n + b.count, 0)).toBe(3);
    });
  });
});
