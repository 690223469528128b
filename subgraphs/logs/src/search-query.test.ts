import { describe, expect, it } from 'vitest';
import {
  type LogFilter,
  type LogFilterInput,
  buildLogQuery,
  buildLogSearch,
  checkRegex,
  cursorAfter,
  decodeCursor,
  encodeCursor,
  parseLogFilter,
} from './search-query.js';
import { parseLogQuery } from './query-language.js';

function makeInput(fields: Partial<LogFilterInput> = {}): LogFilterInput {
  return { range: { from: '2026-11-22T10:00:00Z', to: '2026-11-22T11:00:00+00:00' }, ...fields };
}

function filterOf(fields: Partial<LogFilterInput> = {}): LogFilter {
  const parsed = parseLogFilter(makeInput(fields));
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.filter;
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

describe('log filter input', () => {
  it('reads the range to the nanosecond, normalises levels and the trace id', () => {
    const filter = filterOf({ levels: ['warning', 'ERROR'], traceId: '4BF92F3577B34DA6A3CE929D0E0E4736', services: ['checkout'] });
    expect(filter).toMatchObject({
      levels: ['WARN', 'ERROR'],
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      services: ['checkout'],
      range: { from: 1_795_341_600_000_000_000n, to: 1_795_345_200_000_000_000n },
      query: null,
    });
  });

  it.each([
    [{ range: { from: 'yesterday', to: '2026-11-22T11:00:00Z' } }, 'range.from', 'range.from: "yesterday" is not a time with a zone such as 2026-11-22T10:00:00Z (RFC 3339)'],
    [{ range: { from: '2026-11-22T10:00:00Z', to: 'now' } }, 'range.to', 'range.to: "now" is not a time with a zone such as 2026-11-22T10:00:00Z (RFC 3339)'],
    [{ range: { from: '2026-11-22T10:00:00', to: '2026-11-22T11:00:00Z' } }, 'range.from', 'range.from: "2026-11-22T10:00:00" has no zone; add Z (UTC) or an offset such as +09:00'],
    [{ range: { from: '1969-12-31T23:00:00Z', to: '1970-01-01T01:00:00Z' } }, 'range.from', 'range.from: is before 1970, the earliest time the store keeps'],
    [{ range: { from: '2026-11-22T11:00:00Z', to: '2026-11-22T11:00:00Z' } }, 'range', 'range: from must be before to'],
    [{ range: { from: '2026-08-01T00:00:00Z', to: '2026-11-22T11:00:00Z' } }, 'range', 'range: longer than the 90 days allowed'],
    [{ levels: ['TRACE'] }, 'levels[0]', 'levels[0]: must be one of DEBUG, INFO, WARN, ERROR, FATAL'],
    [{ traceId: 'abc' }, 'traceId', 'traceId: must be 32 hex digits'],
    [{ labels: [{ key: ' ', op: 'EQ', value: 'x' }] }, 'labels[0].key', 'labels[0].key: must not be empty'],
    [{ labels: [{ key: 'a', op: 'EQ', value: 'x' }, { key: 'b', op: 'RE', value: '^prod$' }] }, 'labels[1].value', 'labels[1].value: patterns match the whole value: leave out ^ and $'],
    [{ services: Array.from({ length: 101 }, (_, i) => `s${i}`) }, 'services', 'services: at most 100 services'],
  ] as [Partial<LogFilterInput>, string, string][])('names the argument at fault (%#)', (fields, argument, message) => {
    expect(parseLogFilter(makeInput(fields))).toEqual({ ok: false, argument, message });
  });

  it('passes a query syntax error on with its position', () => {
    expect(parseLogFilter(makeInput({ query: 'error AND' }))).toEqual({
      ok: false,
      argument: 'query',
      position: 9,
      message: 'query: expected a term after AND (at 9)',
    });
  });

  it('takes a shorter range limit', () => {
    const parsed = parseLogFilter(makeInput({ range: { from: '2026-11-20T00:00:00Z', to: '2026-11-22T00:00:01Z' } }), { maxRangeMs: 2 * 86_400_000 });
    expect(parsed).toMatchObject({ ok: false, argument: 'range', message: 'range: longer than the 2 days allowed' });
  });
});

describe('label regular expressions', () => {
  it('accepts the subset RE2 and Elasticsearch read alike', () => {
    for (const pattern of ['prod', 'prod|staging', 'web-[0-9]+', 'eu-(west|north)-[1-3]', 'a.{2,5}', '[^a-z]?x', 'v1\\.2', '[]a]', 'x{3}', 'a#b@c&d~e<f>']) {
      expect(checkRegex(pattern), pattern).toBeUndefined();
    }
  });

  it('refuses what the two engines read differently or not at all', () => {
    expect(checkRegex('^prod$')).toBe('patterns match the whole value: leave out ^ and $');
    expect(checkRegex('\\d+')).toBe('\\d is not supported; write a character class such as [0-9]');
    expect(checkRegex('(?i)prod')).toBe('groups with (? are not supported');
    expect(checkRegex('a"b')).toBe('escape " as \\"');
    expect(checkRegex('*prod')).toBe('nothing to repeat before * at 0');
    expect(checkRegex('a**')).toBe('nothing to repeat before * at 2');
    expect(checkRegex('(a')).toBe('unbalanced (');
    expect(checkRegex('a)')).toBe('unbalanced ) at 1');
    expect(checkRegex('[a')).toBe('unclosed [ at 0');
    expect(checkRegex('a{x}')).toBe('a repetition is {n}, {n,} or {n,m}; escape a literal { as \\{ (at 1)');
    expect(checkRegex('a]')).toBe('escape a literal ] as \\] (at 1)');
    expect(checkRegex('x\\')).toBe('the regular expression ends with a lone \\');
    expect(checkRegex('a'.repeat(257))).toBe('a regular expression may have at most 256 characters');
  });
});

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
          { range: { timestamp: { gte: '2026-11-22T10:00:00.000000000Z', lt: '2026-11-22T11:00:00.000000000Z', format: 'strict_date_optional_time_nanos' } } },
          { terms: { service: ['checkout'] } },
          { terms: { level: ['ERROR'] } },
          { term: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736' } },
          { term: { 'labels.region': 'kr' } },
          { regexp: { 'labels.pod': { value: 'web-[0-9]+', flags: 'NONE', max_determinized_states: 10_000 } } },
        ],
        must_not: [{ term: { 'labels.env': 'dev' } }, { regexp: { 'labels.zone': { value: 'b|c', flags: 'NONE', max_determinized_states: 10_000 } } }],
      },
    });
  });

  it('matches free words and phrases through the analyzer, fields exactly, prefixes on words', () => {
    const query = buildLogQuery(filterOf({ query: '데이터베이스 "연결 실패" service:checkout conn* labels.pod:web-*' }));
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
                should: [{ match: { message: { query: 'timeout', operator: 'and' } } }, { match: { message: { query: '실패', operator: 'and' } } }],
                minimum_should_match: 1,
              },
            },
          ],
          must_not: [{ term: { level: 'DEBUG' } }],
        },
      },
    ]);
    expect(buildLogQuery(filterOf({ query: 'NOT health' })).bool.must_not).toEqual([{ match: { message: { query: 'health', operator: 'and' } } }]);
  });

  it('never hands user text to a query type that reads syntax', () => {
    const text = '"a OR b" c~2 d?e f:g* h\\* labels.x:/re/ (i OR -j)';
    const parsed = parseLogFilter(makeInput({ query: text.replace('f:g*', 'service:g*') }));
    expect(parsed.ok).toBe(true);
    const types = queryTypes(parsed.ok ? buildLogQuery(parsed.filter) : null);
    for (const risky of ['query_string', 'simple_query_string', 'wildcard', 'regexp', 'fuzzy', 'script']) expect(types.has(risky), risky).toBe(false);
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
    expect(search.sort).toEqual([{ timestamp: { order: 'desc', format: 'strict_date_optional_time_nanos' } }, { id: { order: 'desc', unmapped_type: 'keyword' } }]);
    expect(search.highlight).toMatchObject({ pre_tags: ['<em>'], post_tags: ['</em>'], encoder: 'html' });
    expect(search).not.toHaveProperty('search_after');
  });

  it('sorts oldest first, id ascending, when asked, and leaves highlights out when not wanted', () => {
    const search = buildLogSearch(filterOf(), { size: 50, order: 'OLDEST_FIRST', highlight: false });
    expect(search.sort).toEqual([{ timestamp: { order: 'asc', format: 'strict_date_optional_time_nanos' } }, { id: { order: 'asc', unmapped_type: 'keyword' } }]);
    expect(search).not.toHaveProperty('highlight');
  });

  it('continues after a cursor that survives a round trip through the client', () => {
    const cursor = cursorAfter(['2026-11-22T10:00:00.123456789Z', '01a202b2-c500-7fff-bfff-ffffffffffff']);
    const decoded = decodeCursor(encodeCursor(cursor!));
    expect(decoded).toEqual(cursor);
    expect(buildLogSearch(filterOf(), { size: 50, after: decoded! }).search_after).toEqual(['2026-11-22T10:00:00.123456789Z', '01a202b2-c500-7fff-bfff-ffffffffffff']);
  });

  it('refuses cursors it did not make', () => {
    for (const text of ['', 'not-base64!', Buffer.from('[1,2]').toString('base64url'), Buffer.from('["now-1d","x"]').toString('base64url')]) {
      expect(decodeCursor(text), text).toBeUndefined();
    }
  });
});
