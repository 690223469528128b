// The log reader's bounded reads on the local stack's Elasticsearch, in an index of its own: logPatterns and logFacets
// over more matches than they read, and their deadline.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResilienceMetrics, createResiliencePolicy } from '@heimdall/shared/resilience';
import { ServiceMetrics } from '@heimdall/shared/telemetry';
import { localStack } from '@heimdall/stack';
import { parseLogEntries } from '../api-entries.js';
import { ANSWER_LIST_BYTES, ANSWER_TEXT_CHARS } from '../answers.js';
import { DEFAULT_QUERY_LIMITS, logFacets, logPatterns, logSearch } from '../log-queries.js';
import { FACET_VALUE_SAMPLE, LogReader, LogWriter, MINED_MESSAGE_CHARS, TEMPLATE_FILE, bulkDocument } from './index.js';

const local = localStack(process.env);
const es = new Client({ node: local.endpoints.elasticsearchUrl });
const alias = `test-logs-store-${randomUUID().slice(0, 8)}`;
const NOW = Date.now();
const RANGE = { from: new Date(NOW - 3_600_000).toISOString(), to: new Date(NOW + 60_000).toISOString() };

const policies = () => {
  const metrics = new ResilienceMetrics(new ServiceMetrics({ service: 'test', instance: 'test' }).registry);
  return {
    read: createResiliencePolicy('elasticsearch', undefined, metrics),
    write: createResiliencePolicy('elasticsearch_bulk', { timeoutMs: 30_000 }, metrics),
  };
};

/** `count` entries of `service`, the first `secondsAgo` seconds back and each next one a millisecond older. */
function entries(
  service: string,
  count: number,
  secondsAgo: number,
  message: (i: number) => string,
  labels: (i: number) => Record<string, string> = () => ({}),
) {
  const parsed = parseLogEntries(
    Array.from({ length: count }, (_, i) => ({
      service,
      message: message(i),
      labels: labels(i),
      timestamp: new Date(NOW - secondsAgo * 1000 - i).toISOString(),
    })),
    NOW,
  );
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.entries.map(bulkDocument);
}

describe('reads over many matches', () => {
  let store: LogReader;

  beforeAll(async () => {
    await local.require('elasticsearch');
    const template = JSON.parse(await readFile(TEMPLATE_FILE, 'utf8')) as {
      template: { settings: Record<string, unknown>; mappings: Record<string, unknown> };
    };
    await es.indices.create({
      index: `${alias}-000001`,
      settings: { ...template.template.settings, number_of_shards: 1, number_of_replicas: 0 },
      mappings: template.template.mappings,
      aliases: { [alias]: { is_write_index: true } },
    });
    const { read, write } = policies();
    store = new LogReader(es, read, { alias });
    const documents = [
      // The newest 250 are longer than message.keyword keeps, so they are read from their sources.
      ...entries('mined', 250, 1, (i) => `payload dump ${i}: ${'lorem ipsum '.repeat(2_000)}`),
      ...entries('mined', 2_050, 10, (i) => `user ${i} logged in from 10.0.0.${i % 250}`),
      ...entries('huge', 40, 1, (i) => `upload ${i} failed: ${'lorem ipsum '.repeat(25_000)}`),
      ...entries(
        'faceted',
        FACET_VALUE_SAMPLE / 2,
        1,
        (i) => `request ${i} served`,
        (i) => ({ pod: `web-${i % 3}` }),
      ),
      ...entries(
        'faceted',
        FACET_VALUE_SAMPLE / 2 + 100,
        20,
        (i) => `request ${i} served`,
        (i) => ({ pod: `web-${i % 3}` }),
      ),
    ];
    const outcomes = await new LogWriter(es, write, { alias }).bulkCreate(documents);
    expect(outcomes.every((o) => o.kind === 'stored')).toBe(true);
    await es.indices.refresh({ index: alias });
  }, 120_000);

  afterAll(async () => {
    await es.indices.delete({ index: `${alias}-000001` }, { ignore: [404] });
    await es.close();
  });

  it('mines patterns of the newest 2,000 matches only, reads at most 200 long messages and their beginnings, and says it sampled', async () => {
    const patterns = await logPatterns(store, { services: ['mined'], range: RANGE }, 100, DEFAULT_QUERY_LIMITS);
    // 2,000 newest: 250 long (200 read, 50 left out) and 1,750 short.
    expect(patterns.reduce((n, p) => n + p.count, 0)).toBe(1_950);
    expect(patterns.every((p) => p.sampled)).toBe(true);
    const long = patterns.filter((p) => p.sample.startsWith('payload dump'));
    expect(long.reduce((n, p) => n + p.count, 0)).toBe(200);
    expect(Math.max(...long.map((p) => p.sample.length))).toBeLessThanOrEqual(MINED_MESSAGE_CHARS);
    expect(patterns.find((p) => p.pattern === 'user <*> logged in from <*>')?.count).toBe(1_750);

    const few = await logPatterns(
      store,
      { services: ['mined'], range: { from: RANGE.from, to: new Date(NOW - 10_000 - 1_989).toISOString() } },
      10,
      DEFAULT_QUERY_LIMITS,
    );
    expect(few.map(({ count, sampled }) => ({ count, sampled }))).toEqual([{ count: 60, sampled: false }]);
  });

  it('counts label values over a sample when more entries match, and says so', async () => {
    const facets = await logFacets(store, { services: ['faceted'], range: RANGE }, 10, DEFAULT_QUERY_LIMITS);
    expect(facets.labels.map((l) => l.key)).toEqual(['pod']);
    expect(facets.labels[0]!.count).toBe(FACET_VALUE_SAMPLE + 100);
    expect(facets.labels[0]!.values.reduce((n, v) => n + v.count, 0)).toBe(FACET_VALUE_SAMPLE);
    expect(facets.sampled).toBe(true);
    expect((await logFacets(store, { services: ['mined'], range: RANGE }, 10, DEFAULT_QUERY_LIMITS)).sampled).toBe(
      false,
    );
  });

  it('cuts long messages and highlights in answers, and pages past 4 MiB of entries without losing one', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof logSearch>> = await logSearch(
        store,
        { filter: { services: ['huge'], query: 'failed', range: RANGE }, first: 40, after },
        DEFAULT_QUERY_LIMITS,
      );
      expect(Buffer.byteLength(JSON.stringify(page.entries))).toBeLessThanOrEqual(ANSWER_LIST_BYTES);
      for (const entry of page.entries) {
        expect(entry.message).toHaveLength(ANSWER_TEXT_CHARS);
        expect(entry.truncated).toBe(true);
        expect(entry.highlights![0]!.length).toBeLessThanOrEqual(ANSWER_TEXT_CHARS + '</em>'.length);
        expect(entry.highlights![0]).toContain('<em>failed</em>');
      }
      seen.push(...page.entries.map((e) => e.id));
      after = page.cursor;
      pages++;
    } while (after !== null && pages < 10);
    expect(pages).toBeGreaterThan(1);
    expect(new Set(seen).size).toBe(40);
    expect(seen).toHaveLength(40);
  });

  it('answers LIMIT_EXCEEDED past its deadline, which the read breaker does not count', async () => {
    const own = policies();
    const hurried = new LogReader(es, own.read, { alias, slowReadMs: 1 });
    for (let i = 0; i < 8; i++) {
      await expect(
        logPatterns(hurried, { services: ['mined'], range: RANGE }, 10, DEFAULT_QUERY_LIMITS),
      ).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' });
      await expect(
        logFacets(hurried, { services: ['faceted'], range: RANGE }, 10, DEFAULT_QUERY_LIMITS),
      ).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' });
    }
    expect(own.read.state).toBe('closed');
  });
});
