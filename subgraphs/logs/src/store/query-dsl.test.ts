import { describe, expect, it } from 'vitest';
import { parseLogQuery } from '../query-language.js';
import { type LogFilter, buildLogQuery, buildLogSearch } from './query-dsl.js';

/** A checked filter over 2026-11-22 10:00–11:00 UTC, its query parsed as search-input.ts parses it. */
function filterOf({ query, ...fields }: Partial<Omit<LogFilter, 'query'>> & { query?: string } = {}): LogFilter {
  const parsed = parseLogQuery(query ?? '');
  if (!parsed.ok) throw new Error(parsed.message);
  return {
    query: parsed.ast,
    services: [],
    levels: [],
    labels: [],
    range: { from: 1_795_341_600_000_000_000n, to: 1_795_345_200_000_000_000n },
    ...fields,
  };
}

/** Every query type used anywhere in a DSL tree. */
function queryTypes(dsl: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(dsl)) dsl.forEach((d) => queryTypes(d, found));
  else if (dsl !== null && typeof dsl === 'object') {
    for (const [key, value] of Object.entries(dsl)) {
      found.add(key);
      queryTypes(value, found);
    }
  }
  return found;
}

function boolDepth(dsl: unknown): number {
  if (Array.isArray(dsl)) return Math.max(0, ...dsl.map(boolDepth));
  if (dsl === null || typeof dsl !== 'object') return 0;
  return Math.max(0, ...Object.entries(dsl).map(([key, value]) => (key === 'bool' ? 1 : 0) + boolDepth(value)));
}

describe('log search query', () => {
  it('filters by range, services, levels, trace id and labels', () => {
    const query = buildLogQuery(
      filterOf({
        services: ['checkout'],
        levels: ['ERROR'],
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        labels: [
          { key: 'region', op: 'EQ', value: 'kr' },
          { key: 'env', op: 'NEQ', value: 'dev' },
          { key: 'pod', op: 'RE', value: 'web-[0-9]+' },
          { key: 'zone', op: 'NRE', value: 'b|c' },
        ],
      }),
    );
    expect(query).toEqual({
      bool: {
        filter: [
          {
            range: {
              timestamp: {
                gte: '2026-11-22T10:00:00.000000000Z',
                lt: '2026-11-22T11:00:00.000000000Z',
                format: 'strict_date_optional_time_nanos',
              },
            },
          },
          { terms: { service: ['checkout'] } },
          { terms: { level: ['ERROR'] } },
          { term: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736' } },
          { term: { 'labels.region': 'kr' } },
          { regexp: { 'labels.pod': { value: 'web-[0-9]+', flags: 'NONE', max_determinized_states: 10_000 } } },
        ],
        must_not: [
          { term: { 'labels.env': 'dev' } },
          { regexp: { 'labels.zone': { value: 'b|c', flags: 'NONE', max_determinized_states: 10_000 } } },
        ],
      },
    });
  });

  it('matches free words and phrases through the analyzer, fields exactly, prefixes on words', () => {
    const query = buildLogQuery(
      filterOf({ query: '데이터베이스 "연결 실패" service:checkout conn* labels.pod:web-*' }),
    );
    expect(query.bool.must).toEqual([
      {
        bool: {
          must: [
            { match: { message: { query: '데이터베이스', operator: 'and' } } },
            { match_phrase: { message: { query: '연결 실패' } } },
            { term: { service: 'checkout' } },
            { match_bool_prefix: { message: { query: 'conn', operator: 'and', max_expansions: 50 } } },
            { prefix: { 'labels.pod': { value: 'web-' } } },
          ],
        },
      },
    ]);
  });

  it('turns OR into should and NOT into must_not', () => {
    const query = buildLogQuery(filterOf({ query: '(timeout OR 실패) -level:DEBUG' }));
    expect(query.bool.must).toEqual([
      {
        bool: {
          must: [
            {
              bool: {
                should: [
                  { match: { message: { query: 'timeout', operator: 'and' } } },
                  { match: { message: { query: '실패', operator: 'and' } } },
                ],
                minimum_should_match: 1,
              },
            },
          ],
          must_not: [{ term: { level: 'DEBUG' } }],
        },
      },
    ]);
    expect(buildLogQuery(filterOf({ query: 'NOT health' })).bool.must_not).toEqual([
      { match: { message: { query: 'health', operator: 'and' } } },
    ]);
  });

  it('never hands user text to a query type that reads syntax', () => {
    const text = '"a OR b" c~2 d?e f:g* h\\* labels.x:/re/ (i OR -j)';
    const types = queryTypes(buildLogQuery(filterOf({ query: text.replace('f:g*', 'service:g*') })));
    for (const risky of ['query_string', 'simple_query_string', 'wildcard', 'regexp', 'fuzzy', 'script'])
      expect(types.has(risky), risky).toBe(false);
  });

  it('stays within Elasticsearch bool nesting limit (30) for the deepest query the parser takes', () => {
    // Each level of parentheses adds an OR and an AND; a NOT costs a level of its own.
    const nest = (levels: number): string => (levels === 0 ? 'x OR y z' : `x OR y (${nest(levels - 1)})`);
    const withNots = (levels: number): string => (levels === 0 ? 'x OR y z' : `x OR y -(${withNots(levels - 2)})`);
    expect(parseLogQuery(`(${nest(8)})`).ok).toBe(false);
    expect(boolDepth(buildLogQuery(filterOf({ query: nest(8) })))).toBeLessThan(30);
    expect(boolDepth(buildLogQuery(filterOf({ query: withNots(8) })))).toBeLessThan(30);
  });
});

describe('log search pages', () => {
  it('sorts newest first with the id as tiebreaker and highlights the message', () => {
    const search = buildLogSearch(filterOf(), { size: 50 });
    expect(search.sort).toEqual([
      { timestamp: { order: 'desc', format: 'strict_date_optional_time_nanos' } },
      { id: { order: 'desc', unmapped_type: 'keyword' } },
    ]);
    expect(search.highlight).toMatchObject({ pre_tags: ['<em>'], post_tags: ['</em>'], encoder: 'html' });
    expect(search).not.toHaveProperty('search_after');
  });

  it('sorts oldest first, id ascending, when asked, and leaves highlights out when not wanted', () => {
    const search = buildLogSearch(filterOf(), { size: 50, order: 'OLDEST_FIRST', highlight: false });
    expect(search.sort).toEqual([
      { timestamp: { order: 'asc', format: 'strict_date_optional_time_nanos' } },
      { id: { order: 'asc', unmapped_type: 'keyword' } },
    ]);
    expect(search).not.toHaveProperty('highlight');
  });
});
