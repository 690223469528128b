import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type MessageInitShape, create } from '@bufbuild/protobuf';
import { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otlp } from '@heimdall/shared/otlp';
import { localStack } from '@heimdall/stack';
import { parseLogEntries } from './api-entries.js';
import type { LogDocument } from './log-document.js';
import { toLogDocuments } from './otlp-logs.js';
import { type LogFilterInput, parseLogFilter } from './search-input.js';
import { type LabelMatcher, type LogCursor, TEMPLATE_FILE, buildLogSearch, cursorAfter } from './store/index.js';
import { msToNanos, parseTimestamp } from './timestamps.js';

const local = localStack(process.env);
const es = new Client({ node: local.endpoints.elasticsearchUrl });
const index = `test-logs-search-${randomUUID().slice(0, 8)}`;

const NOW = Date.now();
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const RANGE = { from: new Date(NOW - 3_600_000).toISOString(), to: new Date(NOW + 60_000).toISOString() };

interface IndexTemplate {
  template: { settings: Record<string, unknown>; mappings: Record<string, unknown> };
}

/** Entries of the JSON API, `secondsAgo` apart so that newest-first order is known. */
function makeEntries(
  entries: { message: string; service: string; level: string; secondsAgo: number; labels?: Record<string, string> }[],
) {
  const parsed = parseLogEntries(
    entries.map(({ secondsAgo, ...entry }) => ({
      ...entry,
      timestamp: new Date(NOW - secondsAgo * 1000).toISOString(),
    })),
    NOW,
  );
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.entries.map((document) => ({ id: document.id, document }));
}

type AttributeValue = MessageInitShape<typeof otlp.AnyValueSchema>;
const text = (value: string): AttributeValue => ({ value: { case: 'stringValue', value } });

/** One OTLP export from service checkout: a Korean database failure in a trace, and a mixed-language line. */
function makeOtlpExport() {
  const record = (
    secondsAgo: number,
    body: string,
    severityNumber: otlp.SeverityNumber,
    attributes: Record<string, string>,
    traceId?: string,
  ) => ({
    timeUnixNano: msToNanos(NOW - secondsAgo * 1000),
    severityNumber,
    body: text(body),
    attributes: Object.entries(attributes).map(([key, value]) => ({ key, value: text(value) })),
    ...(traceId === undefined
      ? {}
      : { traceId: Buffer.from(traceId, 'hex'), spanId: Buffer.from('00f067aa0ba902b7', 'hex') }),
  });
  return create(otlp.ExportLogsServiceRequestSchema, {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: text('checkout') }] },
        scopeLogs: [
          {
            scope: { name: 'checkout.db' },
            logRecords: [
              record(
                10,
                '데이터베이스에서 연결이 실패했습니다',
                otlp.SeverityNumber.ERROR,
                { region: 'kr', pod: 'web-12' },
                TRACE_ID,
              ),
              record(20, 'DB connection refused: 데이터베이스 응답 없음', otlp.SeverityNumber.ERROR, {
                http: 'client',
                'http.method': 'GET',
                pod: 'web-7',
              }),
            ],
          },
        ],
      },
    ],
  });
}

async function store(documents: { id: string; document: LogDocument }[]): Promise<(number | undefined)[]> {
  const response = await es.bulk({
    index,
    refresh: true,
    operations: documents.flatMap(({ id, document }) => [{ create: { _id: id } }, document]),
  });
  return response.items.map((item) => item.create?.status);
}

interface Found {
  messages: string[];
  highlights: string[];
  last?: LogCursor;
}

async function search(
  query: string,
  fields: Partial<LogFilterInput> = {},
  page: { size?: number; after?: LogCursor } = {},
): Promise<Found> {
  const parsed = parseLogFilter({ range: RANGE, query, ...fields });
  if (!parsed.ok) throw new Error(parsed.message);
  const response = await es.search<LogDocument>({
    index,
    ...buildLogSearch(parsed.filter, {
      size: page.size ?? 100,
      ...(page.after === undefined ? {} : { after: page.after }),
    }),
  });
  const hits = response.hits.hits;
  const last = cursorAfter(hits.at(-1)?.sort);
  return {
    messages: hits.map((hit) => hit._source!.message),
    highlights: hits.flatMap((hit) => hit.highlight?.message ?? []),
    ...(last === undefined ? {} : { last }),
  };
}

afterAll(async () => {
  await es.close();
});

const messages = async (query: string, fields: Partial<LogFilterInput> = {}) => (await search(query, fields)).messages;

describe('log search in Elasticsearch with the nori analyzer', () => {
  beforeAll(async () => {
    await local.require('elasticsearch');
    const template = JSON.parse(await readFile(TEMPLATE_FILE, 'utf8')) as IndexTemplate;
    await es.indices.create({ index, settings: template.template.settings, mappings: template.template.mappings });
    const otlpDocuments = toLogDocuments(makeOtlpExport(), NOW);
    expect(otlpDocuments.rejected).toBe(0);
    const statuses = await store([
      ...otlpDocuments.documents,
      ...makeEntries([
        { message: '결제 요청이 실패했습니다', service: 'payments', level: 'WARN', secondsAgo: 30 },
        { message: 'cache warmed up in 35ms', service: 'checkout', level: 'INFO', secondsAgo: 40 },
        {
          message: 'connection pool exhausted',
          service: 'payments',
          level: 'ERROR',
          secondsAgo: 50,
          labels: { region: 'us' },
        },
        { message: '사용자 로그인 성공', service: 'auth', level: 'INFO', secondsAgo: 60 },
        { message: 'health check ok', service: 'checkout', level: 'DEBUG', secondsAgo: 70, labels: { pod: 'web-3' } },
        { message: 'render <b>실패</b> page', service: 'web', level: 'WARN', secondsAgo: 80 },
        { message: '오래된 실패 기록', service: 'payments', level: 'ERROR', secondsAgo: 2 * 3600 },
      ]),
    ]);
    expect(statuses.every((status) => status === 201)).toBe(true);
  });

  afterAll(async () => {
    await es.indices.delete({ index }, { ignore: [404] });
  });

  describe('Korean morphology', () => {
    it('finds 데이터베이스에서 when searching 데이터베이스', async () => {
      expect(await messages('데이터베이스')).toEqual([
        '데이터베이스에서 연결이 실패했습니다',
        'DB connection refused: 데이터베이스 응답 없음',
      ]);
    });

    it('finds 실패했습니다 when searching 실패, within the range only', async () => {
      expect(await messages('실패')).toEqual([
        '데이터베이스에서 연결이 실패했습니다',
        '결제 요청이 실패했습니다',
        'render <b>실패</b> page',
      ]);
    });

    it('matches a mixed Korean/English line by a Korean and an English term', async () => {
      expect(await messages('데이터베이스 refused')).toEqual(['DB connection refused: 데이터베이스 응답 없음']);
      expect(await messages('응답')).toEqual(['DB connection refused: 데이터베이스 응답 없음']);
      expect(await messages('Connection')).toEqual([
        'DB connection refused: 데이터베이스 응답 없음',
        'connection pool exhausted',
      ]);
    });
  });

  describe('phrases and operators', () => {
    it('matches phrases in their order only', async () => {
      expect(await messages('"연결이 실패했습니다"')).toEqual(['데이터베이스에서 연결이 실패했습니다']);
      expect(await messages('"실패했습니다 연결이"')).toEqual([]);
      expect(await messages('"connection refused"')).toEqual(['DB connection refused: 데이터베이스 응답 없음']);
      expect(await messages('"refused connection"')).toEqual([]);
    });

    it('combines terms with AND, OR, NOT and parentheses', async () => {
      expect(await messages('실패 AND NOT service:payments -service:web')).toEqual([
        '데이터베이스에서 연결이 실패했습니다',
      ]);
      expect(await messages('(결제 OR 로그인) 성공')).toEqual(['사용자 로그인 성공']);
      expect(await messages('connection -refused')).toEqual(['connection pool exhausted']);
      expect(await messages('warmed OR 로그인 OR exhausted')).toEqual([
        'cache warmed up in 35ms',
        'connection pool exhausted',
        '사용자 로그인 성공',
      ]);
    });

    it('answers the deepest query the parser accepts', async () => {
      const nest = (levels: number): string => (levels === 0 ? 'health OR 결제' : `x OR y (${nest(levels - 1)})`);
      expect(await messages(nest(8))).toEqual([]);
      expect(await messages(`health OR (${nest(7)})`)).toEqual(['health check ok']);
    });
  });

  describe('fields and prefixes', () => {
    it('matches service, level, traceId and labels exactly', async () => {
      expect(await messages('service:payments')).toEqual(['결제 요청이 실패했습니다', 'connection pool exhausted']);
      expect(await messages('level:error')).toEqual([
        '데이터베이스에서 연결이 실패했습니다',
        'DB connection refused: 데이터베이스 응답 없음',
        'connection pool exhausted',
      ]);
      expect(await messages(`traceId:${TRACE_ID.toUpperCase()}`)).toEqual(['데이터베이스에서 연결이 실패했습니다']);
      expect(await messages('labels.region:kr')).toEqual(['데이터베이스에서 연결이 실패했습니다']);
      expect(await messages('labels.http.method:GET labels.http:client')).toEqual([
        'DB connection refused: 데이터베이스 응답 없음',
      ]);
    });

    it('matches prefixes of English and Korean words and of keywords', async () => {
      expect(await messages('conn*')).toEqual([
        'DB connection refused: 데이터베이스 응답 없음',
        'connection pool exhausted',
      ]);
      expect(await messages('데이터베*')).toEqual([
        '데이터베이스에서 연결이 실패했습니다',
        'DB connection refused: 데이터베이스 응답 없음',
      ]);
      expect(await messages('service:pay*')).toEqual(['결제 요청이 실패했습니다', 'connection pool exhausted']);
      expect(await messages('WARM*')).toEqual(['cache warmed up in 35ms']);
    });
  });

  describe('structured filters', () => {
    it('filters by services, levels and trace id', async () => {
      expect(await messages('', { services: ['auth', 'web'] })).toEqual([
        '사용자 로그인 성공',
        'render <b>실패</b> page',
      ]);
      expect(await messages('실패', { levels: ['WARN'] })).toEqual([
        '결제 요청이 실패했습니다',
        'render <b>실패</b> page',
      ]);
      expect(await messages('', { traceId: TRACE_ID })).toEqual(['데이터베이스에서 연결이 실패했습니다']);
    });

    it('filters by label matchers', async () => {
      const withLabels = async (...labels: LabelMatcher[]) => messages('', { labels });
      expect(await withLabels({ key: 'pod', op: 'RE', value: 'web-[0-9]' })).toEqual([
        'DB connection refused: 데이터베이스 응답 없음',
        'health check ok',
      ]);
      expect(
        await withLabels({ key: 'pod', op: 'RE', value: 'web-(1|7)[0-9]*' }, { key: 'region', op: 'NEQ', value: 'kr' }),
      ).toEqual(['DB connection refused: 데이터베이스 응답 없음']);
      expect(await withLabels({ key: 'region', op: 'EQ', value: 'us' })).toEqual(['connection pool exhausted']);
      expect((await withLabels({ key: 'pod', op: 'NRE', value: 'web-.*' })).length).toBe(5);
    });

    it('accepts every regular expression the subset allows', async () => {
      for (const value of [
        'prod|staging',
        'eu-(west|north)-[1-3]',
        'a.{2,5}',
        '[^a-z]?x',
        'v1\\.2',
        '[]a]',
        'x{3}',
        'a#b@c&d~e<f>',
      ]) {
        await expect(messages('', { labels: [{ key: 'pod', op: 'RE', value }] }), value).resolves.toEqual([]);
      }
    });
  });

  describe('highlights', () => {
    it('puts <em> around 실패 in 실패했습니다', async () => {
      expect((await search('실패 service:checkout')).highlights).toEqual([
        '데이터베이스에서 연결이 <em>실패</em>했습니다',
      ]);
    });

    it('escapes the markup of the message itself', async () => {
      expect((await search('실패 service:web')).highlights).toEqual([
        'render &lt;b&gt;<em>실패</em>&lt;&#x2F;b&gt; page',
      ]);
    });
  });

  describe('retried OTLP requests', () => {
    it('store nothing twice: every document of the retry conflicts with the stored one', async () => {
      const retry = toLogDocuments(makeOtlpExport(), NOW + 5_000);
      expect(await store(retry.documents)).toEqual([409, 409]);
      expect(await messages('데이터베이스')).toHaveLength(2);
    });
  });
});

describe('search_after paging', () => {
  const pagerIndex = `${index}-paging`;
  const pages = async (after?: LogCursor) => {
    const parsed = parseLogFilter({ range: RANGE, services: ['pager'] });
    if (!parsed.ok) throw new Error(parsed.message);
    const response = await es.search<LogDocument>({
      index: pagerIndex,
      ...buildLogSearch(parsed.filter, { size: 10, ...(after === undefined ? {} : { after }) }),
    });
    return { ids: response.hits.hits.map((hit) => hit._id!), last: cursorAfter(response.hits.hits.at(-1)?.sort) };
  };

  beforeAll(async () => {
    await local.require('elasticsearch');
    const template = JSON.parse(await readFile(TEMPLATE_FILE, 'utf8')) as IndexTemplate;
    await es.indices.create({
      index: pagerIndex,
      settings: template.template.settings,
      mappings: template.template.mappings,
    });
  });

  afterAll(async () => {
    await es.indices.delete({ index: pagerIndex }, { ignore: [404] });
  });

  it('is stable while new entries arrive: every entry once, none skipped', async () => {
    const entries = (timestamps: string[], at: number) => {
      const parsed = parseLogEntries(
        timestamps.map((timestamp, i) => ({ message: `page entry ${i}`, service: 'pager', timestamp })),
        at,
      );
      if (!parsed.ok) throw new Error(parsed.message);
      return parsed.entries;
    };
    const secondsAgo = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();
    const write = async (documents: LogDocument[]) =>
      es.bulk({
        index: pagerIndex,
        refresh: true,
        operations: documents.flatMap((d) => [{ create: { _id: d.id } }, d]),
      });
    // 25 entries, four per second, so that pages of 10 end inside runs of equal timestamps.
    const first = entries(
      Array.from({ length: 25 }, (_, i) => secondsAgo(100 + Math.floor(i / 4))),
      NOW,
    );
    await write(first);

    const page1 = await pages();
    const cursorTime = page1.last!.timestamp;
    // New entries arrive: newer than all, at the very time the first page ended on, and older than all.
    const arriving = [
      ...entries([secondsAgo(1), secondsAgo(1)], NOW + 1),
      ...entries([cursorTime, cursorTime, cursorTime], NOW + 2),
      ...entries([secondsAgo(200), secondsAgo(200)], NOW + 3),
    ];
    await write(arriving);
    const page2 = await pages(page1.last);
    const page3 = await pages(page2.last);
    const page4 = await pages(page3.last);

    const seen = [...page1.ids, ...page2.ids, ...page3.ids, ...page4.ids];
    expect(new Set(seen).size).toBe(seen.length);
    const original = new Set(first.map((d) => d.id));
    expect(seen.filter((id) => original.has(id)).sort()).toEqual([...original].sort());
    // Arrivals that sort after the cursor turn up on later pages; those before it wait for a new search.
    const older = arriving.filter((d) => parseTimestamp(d.timestamp)! < parseTimestamp(cursorTime)!).map((d) => d.id);
    expect(older).toHaveLength(2);
    expect(older.every((id) => seen.includes(id))).toBe(true);
    expect(page4.ids.length).toBeLessThan(10);
  });
});
