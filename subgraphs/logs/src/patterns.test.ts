import { describe, expect, it } from 'vitest';
import { maskMessage, minePatterns } from './patterns.js';

/** Messages one second apart, the first one newest, as a search returns them. */
function makeMessages(...messages: string[]) {
  const start = Date.UTC(2026, 10, 22, 10);
  return messages.map((message, i) => ({ message, timestamp: new Date(start - i * 1000).toISOString() }));
}

const patterns = (...messages: string[]) => minePatterns(makeMessages(...messages)).map((p) => [p.pattern, p.count]);

describe('masking variable parts', () => {
  it.each([
    ['connected to 10.0.0.12:5432 in 35ms', 'connected to <*> in <*>'],
    ['GET https://api.example.com/v1/orders?id=7 failed', 'GET <*> failed'],
    ['user kim.minsu@example.co.kr logged in', 'user <*> logged in'],
    ['request 3f2b7c1e-9a4d-4e8f-b6a2-1c0d5e7f9a3b done', 'request <*> done'],
    ['trace 4bf92f3577b34da6a3ce929d0e0e4736 sampled', 'trace <*> sampled'],
    ['pointer 0xdeadbeef freed', 'pointer <*> freed'],
    ['key "session:9f" not found', 'key <*> not found'],
    ["don't retry 'payments' queue", "don't retry <*> queue"],
    ['user-42 retried 3 times at -1.5 offset', 'user-<*> retried <*> times at <*> offset'],
    ['cache db-1.internal:6379 up', 'cache <*> up'],
    ['running v1.2.3 on ec2', 'running v1.2.3 on ec2'],
    ['응답 시간 3초 초과', '응답 시간 <*> 초과'],
  ])('%s', (message, masked) => {
    expect(maskMessage(message).join(' ')).toBe(masked);
  });

  it('masks a variable glued to a Korean particle, counter or honorific as one variable', () => {
    expect(maskMessage('주문 123이 실패했습니다')).toEqual(['주문', '<*>', '실패했습니다']);
    expect(maskMessage('주문 45가 실패했습니다')).toEqual(['주문', '<*>', '실패했습니다']);
    expect(maskMessage('kim님 로그인')).toEqual(['<*>', '로그인']);
    expect(maskMessage('재고 3개의 상품')).toEqual(['재고', '<*>', '상품']);
    expect(maskMessage('DB에서 "orders"를 읽지 못했습니다.')).toEqual(['DB에서', '<*>', '읽지', '못했습니다.']);
  });

  it('keeps Korean words that carry no variable', () => {
    expect(maskMessage('데이터베이스에서 연결이 실패했습니다')).toEqual(['데이터베이스에서', '연결이', '실패했습니다']);
  });
});

describe('log patterns', () => {
  it('makes one pattern of lines that differ only in a number before a particle', () => {
    expect(patterns('주문 123이 실패했습니다', '주문 45가 실패했습니다', '주문 7을 취소했습니다')).toEqual([
      ['주문 <*> 실패했습니다', 2],
      ['주문 <*> 취소했습니다', 1],
    ]);
  });

  it('generalises words that vary between lines of the same shape', () => {
    expect(
      patterns(
        'user alice logged in from web',
        'user bob logged in from mobile',
        'user carol logged in from web',
        'cache warmed up',
        'cache warmed up',
      ),
    ).toEqual([
      ['user <*> logged in from <*>', 3],
      ['cache warmed up', 2],
    ]);
  });

  it('keeps lines apart that share too few words', () => {
    expect(patterns('disk full on node', 'payment declined by bank', 'disk full on node').map(([p]) => p)).toEqual([
      'disk full on node',
      'payment declined by bank',
    ]);
  });

  it('handles Korean and English lines together', () => {
    const result = minePatterns(
      makeMessages(
        '결제 요청 9876번이 timeout으로 실패했습니다',
        'connection to 10.0.0.1:5432 refused',
        '결제 요청 12번이 timeout으로 실패했습니다',
        'connection to 10.0.0.2:5432 refused',
        '결제 요청 3번이 timeout으로 실패했습니다',
      ),
    );
    expect(result.map((p) => [p.pattern, p.count])).toEqual([
      ['결제 요청 <*> timeout으로 실패했습니다', 3],
      ['connection to <*> refused', 2],
    ]);
  });

  it('tells when a pattern was first and last seen, with the newest line as sample', () => {
    const [pattern] = minePatterns(makeMessages('order 3 shipped', 'order 2 shipped', 'order 1 shipped'));
    expect(pattern).toEqual({
      pattern: 'order <*> shipped',
      count: 3,
      firstSeen: '2026-11-22T09:59:58.000Z',
      lastSeen: '2026-11-22T10:00:00.000Z',
      sample: 'order 3 shipped',
    });
  });

  it('sorts by count, then by the most recent', () => {
    const result = minePatterns(makeMessages('a happened once', 'b happened', 'c x y z', 'c x y z', 'b happened'));
    expect(result.map((p) => p.pattern)).toEqual(['b happened', 'c x y z', 'a happened once']);
  });

  it('sends words beyond a full tree node down the <*> branch instead of growing the tree', () => {
    const messages = Array.from({ length: 10 }, (_, i) => `job${String.fromCharCode(97 + i)} finished ok`);
    expect(minePatterns(makeMessages(...messages), { maxChildren: 3 }).map((p) => [p.pattern, p.count])).toEqual([
      ['<*> finished ok', 8],
      ['joba finished ok', 1],
      ['jobb finished ok', 1],
    ]);
  });

  it('keeps counting a pattern that stopped taking messages when its leaf was full', () => {
    const result = minePatterns(makeMessages('job alpha', 'job beta', 'job gamma', 'job alpha'), {
      similarity: 0.6,
      maxLeafPatterns: 2,
    });
    expect(result.map((p) => [p.pattern, p.count])).toEqual([
      ['job alpha', 2],
      ['job beta', 1],
      ['job gamma', 1],
    ]);
    expect(result[0]).toMatchObject({ firstSeen: '2026-11-22T09:59:57.000Z', lastSeen: '2026-11-22T10:00:00.000Z' });
  });

  it('joins more or fewer lines as the similarity threshold goes down or up', () => {
    const lines = makeMessages('alpha beta gamma delta', 'alpha beta x y');
    expect(minePatterns(lines, { similarity: 0.5 })).toHaveLength(1);
    expect(minePatterns(lines, { similarity: 0.6 })).toHaveLength(2);
  });

  it('has no patterns for no messages, and refuses a timestamp it cannot read', () => {
    expect(minePatterns([])).toEqual([]);
    expect(() => minePatterns([{ message: 'x', timestamp: 'yesterday' }])).toThrow(
      'not an RFC 3339 timestamp: yesterday',
    );
  });
});
