import { describe, expect, it } from 'vitest';
import { type LogFilterInput, checkRegex, decodeCursor, encodeCursor, parseLogFilter } from './search-input.js';
import { type LogFilter, buildLogSearch, cursorAfter } from './store/index.js';

function makeInput(fields: Partial<LogFilterInput> = {}): LogFilterInput {
  return { range: { from: '2026-11-22T10:00:00Z', to: '2026-11-22T11:00:00+00:00' }, ...fields };
}

function filterOf(fields: Partial<LogFilterInput> = {}): LogFilter {
  const parsed = parseLogFilter(makeInput(fields));
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.filter;
}

describe('log filter input', () => {
  it('reads the range to the nanosecond, normalises levels and the trace id', () => {
    const filter = filterOf({
      levels: ['warning', 'ERROR'],
      traceId: '4BF92F3577B34DA6A3CE929D0E0E4736',
      services: ['checkout'],
    });
    expect(filter).toMatchObject({
      levels: ['WARN', 'ERROR'],
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      services: ['checkout'],
      range: { from: 1_795_341_600_000_000_000n, to: 1_795_345_200_000_000_000n },
      query: null,
    });
  });

  it.each([
    [
      { range: { from: 'yesterday', to: '2026-11-22T11:00:00Z' } },
      'range.from',
      'range.from: "yesterday" is not a time with a zone such as 2026-11-22T10:00:00Z (RFC 3339)',
    ],
    [
      { range: { from: '2026-11-22T10:00:00Z', to: 'now' } },
      'range.to',
      'range.to: "now" is not a time with a zone such as 2026-11-22T10:00:00Z (RFC 3339)',
    ],
    [
      { range: { from: '2026-11-22T10:00:00', to: '2026-11-22T11:00:00Z' } },
      'range.from',
      'range.from: "2026-11-22T10:00:00" has no zone; add Z (UTC) or an offset such as +09:00',
    ],
    [
      { range: { from: '1969-12-31T23:00:00Z', to: '1970-01-01T01:00:00Z' } },
      'range.from',
      'range.from: is before 1970, the earliest time the store keeps',
    ],
    [{ range: { from: '2026-11-22T11:00:00Z', to: '2026-11-22T11:00:00Z' } }, 'range', 'range: from must be before to'],
    [
      { range: { from: '2026-08-01T00:00:00Z', to: '2026-11-22T11:00:00Z' } },
      'range',
      'range: longer than the 90 days allowed',
    ],
    [{ levels: ['TRACE'] }, 'levels[0]', 'levels[0]: must be one of DEBUG, INFO, WARN, ERROR, FATAL'],
    [{ traceId: 'abc' }, 'traceId', 'traceId: must be 32 hex digits'],
    [{ labels: [{ key: ' ', op: 'EQ', value: 'x' }] }, 'labels[0].key', 'labels[0].key: must not be empty'],
    [
      {
        labels: [
          { key: 'a', op: 'EQ', value: 'x' },
          { key: 'b', op: 'RE', value: '^prod$' },
        ],
      },
      'labels[1].value',
      'labels[1].value: patterns match the whole value: leave out ^ and $',
    ],
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
    const parsed = parseLogFilter(makeInput({ range: { from: '2026-11-20T00:00:00Z', to: '2026-11-22T00:00:01Z' } }), {
      maxRangeMs: 2 * 86_400_000,
    });
    expect(parsed).toMatchObject({ ok: false, argument: 'range', message: 'range: longer than the 2 days allowed' });
  });
});

describe('label regular expressions', () => {
  it('accepts the subset RE2 and Elasticsearch read alike', () => {
    for (const pattern of [
      'prod',
      'prod|staging',
      'web-[0-9]+',
      'eu-(west|north)-[1-3]',
      'a.{2,5}',
      '[^a-z]?x',
      'v1\\.2',
      '[]a]',
      'x{3}',
      'a#b@c&d~e<f>',
    ]) {
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

describe('page cursors', () => {
  it('continues after a cursor that survives a round trip through the client', () => {
    const cursor = cursorAfter(['2026-11-22T10:00:00.123456789Z', '01a202b2-c500-7fff-bfff-ffffffffffff']);
    const decoded = decodeCursor(encodeCursor(cursor!));
    expect(decoded).toEqual(cursor);
    expect(buildLogSearch(filterOf(), { size: 50, after: decoded! }).search_after).toEqual([
      '2026-11-22T10:00:00.123456789Z',
      '01a202b2-c500-7fff-bfff-ffffffffffff',
    ]);
  });

  it('refuses cursors it did not make', () => {
    for (const text of [
      '',
      'not-base64!',
      Buffer.from('[1,2]').toString('base64url'),
      Buffer.from('["now-1d","x"]').toString('base64url'),
    ]) {
      expect(decodeCursor(text), text).toBeUndefined();
    }
  });
});
