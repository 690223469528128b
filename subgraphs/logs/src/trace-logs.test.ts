import { describe, expect, it } from 'vitest';
import type { LogRecord, TraceKey } from './store/index.js';
import { TraceLogsLoader, normaliseId } from './trace-logs.js';

function makeRecord(message: string): LogRecord {
  return {
    id: message,
    timestamp: '2026-11-22T10:00:00.000000000Z',
    level: 'INFO',
    message,
    service: 'checkout',
    labels: {},
  };
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('trace and span logs', () => {
  it('normalise ids as the store keeps them: lowercase, full width', () => {
    expect(normaliseId('4BF92F3577B34DA6A3CE929D0E0E4736', 32)).toBe(TRACE);
    expect(normaliseId('a3ce929d0e0e4736', 32)).toBe('0000000000000000a3ce929d0e0e4736');
    expect(normaliseId('xyz', 32)).toBeUndefined();
    expect(normaliseId('00f067aa0ba902b7ff', 16)).toBeUndefined();
  });

  it('ask the store once for every key of one turn, each distinct key once', async () => {
    const asked: (readonly TraceKey[])[] = [];
    const loader = new TraceLogsLoader((keys) => {
      asked.push(keys);
      return Promise.resolve(keys.map((k) => [makeRecord(`${k.traceId}/${k.spanId ?? '*'}`)]));
    });
    const results = await Promise.all([
      loader.load(TRACE),
      loader.load(TRACE.toUpperCase(), '00F067AA0BA902B7'),
      loader.load(TRACE, '00f067aa0ba902b7'),
      loader.load('not hex'),
    ]);
    expect(asked).toEqual([[{ traceId: TRACE }, { traceId: TRACE, spanId: '00f067aa0ba902b7' }]]);
    expect(results.map((r) => r.map((e) => e.message))).toEqual([
      [`${TRACE}/*`],
      [`${TRACE}/00f067aa0ba902b7`],
      [`${TRACE}/00f067aa0ba902b7`],
      [],
    ]);
  });

  it('fail every field of a turn whose read failed, and read again on the next', async () => {
    let calls = 0;
    const loader = new TraceLogsLoader(() =>
      ++calls === 1 ? Promise.reject(new Error('store down')) : Promise.resolve([[makeRecord('back')]]),
    );
    await expect(Promise.all([loader.load(TRACE), loader.load(TRACE, '00f067aa0ba902b7')])).rejects.toThrow(
      'store down',
    );
    expect((await loader.load(TRACE)).map((e) => e.message)).toEqual(['back']);
  });
});
