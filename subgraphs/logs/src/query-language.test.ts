import { describe, expect, it } from 'vitest';
import { MAX_QUERY_LENGTH, type QueryNode, parseLogQuery, validateLogQuery } from './query-language.js';

function ast(text: string): QueryNode | null {
  const parsed = parseLogQuery(text);
  if (!parsed.ok) throw new Error(`${parsed.message} at ${parsed.position}`);
  return parsed.ast;
}

const word = (value: string): QueryNode => ({ kind: 'term', field: 'message', value });
const and = (...children: QueryNode[]): QueryNode => ({ kind: 'and', children });
const or = (...children: QueryNode[]): QueryNode => ({ kind: 'or', children });
const not = (child: QueryNode): QueryNode => ({ kind: 'not', child });

describe('log query terms', () => {
  it('matches everything when the query is empty or blank', () => {
    expect(ast('')).toBeNull();
    expect(ast('  \t ')).toBeNull();
  });

  it('reads free words, Korean and English alike, as message terms joined by AND', () => {
    expect(ast('데이터베이스 timeout')).toEqual(and(word('데이터베이스'), word('timeout')));
  });

  it('reads quoted phrases with escaped quotes and backslashes', () => {
    expect(ast('"연결이 \\"실패\\" \\\\했습니다"')).toEqual({
      kind: 'phrase',
      field: 'message',
      value: '연결이 "실패" \\했습니다',
    });
  });

  it('reads a trailing * as a prefix, and an escaped * as a character', () => {
    expect(ast('conn*')).toEqual({ kind: 'prefix', field: 'message', value: 'conn' });
    expect(ast('5\\*')).toEqual(word('5*'));
  });

  it('keeps lower-case and, or, not as words', () => {
    expect(ast('rock and roll')).toEqual(and(word('rock'), word('and'), word('roll')));
  });

  it('reads a word with an escaped colon as text', () => {
    expect(ast('http\\://example')).toEqual(word('http://example'));
  });
});

describe('log query fields', () => {
  it('reads service, traceId, spanId and labels.<key> values as exact terms', () => {
    expect(ast('service:checkout labels.http.method:"POST" labels.url:http://x:8080/a')).toEqual(
      and(
        { kind: 'term', field: 'service', value: 'checkout' },
        { kind: 'term', field: 'labels.http.method', value: 'POST' },
        { kind: 'term', field: 'labels.url', value: 'http://x:8080/a' },
      ),
    );
  });

  it('normalises levels and ids, and accepts field names in any case', () => {
    expect(ast('Level:warning TRACEID:4BF92F3577B34DA6A3CE929D0E0E4736 spanid:00F067AA*')).toEqual(
      and(
        { kind: 'term', field: 'level', value: 'WARN' },
        { kind: 'term', field: 'traceId', value: '4bf92f3577b34da6a3ce929d0e0e4736' },
        { kind: 'prefix', field: 'spanId', value: '00f067aa' },
      ),
    );
  });

  it('reads message:"phrase" and message:prefix* like free text', () => {
    expect(ast('message:"연결 실패" message:데이터*')).toEqual(
      and(
        { kind: 'phrase', field: 'message', value: '연결 실패' },
        { kind: 'prefix', field: 'message', value: '데이터' },
      ),
    );
  });

  it('reads a prefix of a keyword field', () => {
    expect(ast('service:check*')).toEqual({ kind: 'prefix', field: 'service', value: 'check' });
  });
});

describe('log query operators', () => {
  it('binds NOT tighter than AND, and AND tighter than OR', () => {
    expect(ast('a OR b AND NOT c d')).toEqual(or(word('a'), and(word('b'), not(word('c')), word('d'))));
  });

  it('groups with parentheses', () => {
    expect(ast('(a OR b) c')).toEqual(and(or(word('a'), word('b')), word('c')));
    expect(ast('NOT (a OR b)')).toEqual(not(or(word('a'), word('b'))));
  });

  it('reads -term as NOT term, and keeps hyphens inside words', () => {
    expect(ast('error -level:DEBUG -"health check" re-try')).toEqual(
      and(
        word('error'),
        not({ kind: 'term', field: 'level', value: 'DEBUG' }),
        not({ kind: 'phrase', field: 'message', value: 'health check' }),
        word('re-try'),
      ),
    );
  });

  it('flattens chains of one operator and cancels double negation', () => {
    expect(ast('a OR (b OR c)')).toEqual(or(word('a'), word('b'), word('c')));
    expect(ast('NOT NOT a')).toEqual(word('a'));
  });

  it('accepts a query that only excludes', () => {
    expect(ast('-level:DEBUG')).toEqual(not({ kind: 'term', field: 'level', value: 'DEBUG' }));
  });
});

describe('log query syntax errors', () => {
  it.each([
    ['"unclosed phrase', 'the phrase is not closed: add a " at its end', 0],
    ['a service:"unclosed', 'the phrase is not closed: add a " at its end', 10],
    ['a ""', 'the phrase is empty', 2],
    ['trailing\\', 'a \\ at the end of the query escapes nothing', 8],
    ['*', 'a lone * would match everything: leave the query empty instead', 0],
    ['a *tail', '* may only end a term (prefix search); leading and inner wildcards are not supported', 2],
    ['in*ner', '* may only end a term (prefix search); leading and inner wildcards are not supported', 2],
    ['a\\:b*c', '* may only end a term (prefix search); leading and inner wildcards are not supported', 4],
    ['service:*box', '* may only end a term (prefix search); leading and inner wildcards are not supported', 8],
    [
      'host:web-1',
      'unknown field "host": use service, level, traceId, spanId, message or labels.<key> (quote text that contains a colon)',
      0,
    ],
    [
      'a :b',
      'unknown field "": use service, level, traceId, spanId, message or labels.<key> (quote text that contains a colon)',
      2,
    ],
    ['labels.:x', 'labels. needs a key, as in labels.region:kr', 0],
    ['service: checkout', 'expected a value after "service:"', 8],
    ['level:TRACE', 'level must be one of DEBUG, INFO, WARN, ERROR, FATAL', 6],
    ['level:ERR*', 'level must be one of DEBUG, INFO, WARN, ERROR, FATAL', 6],
    ['traceId:abc', 'traceId must be 32 hex digits, or the start of one followed by *', 8],
    ['spanId:xyz*', 'spanId must be 16 hex digits, or the start of one followed by *', 7],
    ['AND a', 'expected a term before AND', 0],
    ['a OR', 'expected a term after OR', 4],
    ['a AND OR b', 'expected a term after AND', 6],
    ['a NOT', 'expected a term after NOT', 5],
    ['a NOT )', 'expected a term after NOT', 6],
    ['a - b', 'expected a term right after -', 3],
    ['a)', 'this ) closes nothing', 1],
    ['(a b', 'this ( is not closed', 0],
    ['x (', 'this ( is not closed', 2],
    ['a ()', 'the parentheses are empty', 2],
    [')', 'this ) closes nothing', 0],
    ['((((((((( a )))))))))', 'parentheses and NOTs nest deeper than 8 levels', 8],
    ['NOT -(-(NOT (-(NOT (-(NOT a)))))))', 'parentheses and NOTs nest deeper than 8 levels', 14],
  ])('%s', (text, message, position) => {
    expect(parseLogQuery(text)).toEqual({ ok: false, message, position });
    expect(validateLogQuery(text)).toEqual({ ok: false, message, position });
  });

  it('refuses queries longer than the limit', () => {
    expect(parseLogQuery('a '.repeat(MAX_QUERY_LENGTH))).toEqual({
      ok: false,
      message: 'the query is longer than 4096 characters',
      position: 4096,
    });
  });

  it('refuses more than 256 terms, at the first one too many', () => {
    const text = Array.from({ length: 257 }, (_, i) => `t${i}`).join(' ');
    expect(parseLogQuery(text)).toEqual({
      ok: false,
      message: 'the query has more than 256 terms',
      position: text.lastIndexOf('t256'),
    });
  });

  it('says a valid query is valid', () => {
    expect(validateLogQuery('(데이터베이스 OR db) AND -level:DEBUG labels.region:"kr-1"')).toEqual({ ok: true });
  });
});
