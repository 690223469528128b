import { describe, expect, it } from 'vitest';
import { MAX_ENTRIES, parseLogEntries } from './api-entries.js';
import { INGEST_LIMITS } from './ingest-limits.js';

const NOW = Date.UTC(2026, 10, 22, 10);

function makeEntry(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { message: '결제 요청이 실패했습니다', service: 'payments', ...fields };
}

function accepted(body: unknown) {
  const result = parseLogEntries(body, NOW);
  if (!result.ok) throw new Error(`refused: ${result.message}`);
  return result.entries;
}

function refused(body: unknown) {
  const result = parseLogEntries(body, NOW);
  if (result.ok) throw new Error('accepted');
  return result;
}

describe('log entries of the JSON API', () => {
  it('takes one entry or an array of entries', () => {
    expect(accepted(makeEntry())).toHaveLength(1);
    expect(accepted([makeEntry(), makeEntry({ service: 'checkout' })]).map((e) => e.service)).toEqual([
      'payments',
      'checkout',
    ]);
  });

  it('maps every field of the seed format onto the document', () => {
    const [entry] = accepted(
      makeEntry({
        timestamp: '2026-11-22T18:59:30.123456789+09:00',
        level: 'warning',
        trace_id: '4BF92F3577B34DA6A3CE929D0E0E4736',
        span_id: '00F067AA0BA902B7',
        labels: { region: 'kr', 'http.method': 'POST' },
        stack_trace: 'Error: boom\n    at pay (pay.js:1:1)',
        user_id: 'kim',
        request_id: 'req-7',
      }),
    );
    expect(entry).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/) as string,
      timestamp: '2026-11-22T09:59:30.123456789Z',
      level: 'WARN',
      message: '결제 요청이 실패했습니다',
      service: 'payments',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      labels: { region: 'kr', 'http.method': 'POST' },
      stackTrace: 'Error: boom\n    at pay (pay.js:1:1)',
      userId: 'kim',
      requestId: 'req-7',
    });
  });

  it('logs an entry without timestamp or level at the time it arrives, as INFO, and treats null as absent', () => {
    const [entry] = accepted(makeEntry({ trace_id: null, labels: null }));
    expect(entry).toMatchObject({ timestamp: '2026-11-22T10:00:00.000000000Z', level: 'INFO', labels: {} });
    expect(entry!.traceId).toBeUndefined();
  });

  it('reads epoch milliseconds as a timestamp', () => {
    expect(accepted(makeEntry({ timestamp: NOW - 1500 }))[0]!.timestamp).toBe('2026-11-22T09:59:58.500000000Z');
  });

  it('gives every entry its own id, ordered by arrival', () => {
    const first = accepted([makeEntry(), makeEntry()]).map((e) => e.id);
    const later = parseLogEntries(makeEntry(), NOW + 1);
    expect(new Set(first).size).toBe(2);
    expect(later.ok && later.entries[0]!.id > first[1]!).toBe(true);
  });
});

describe('refused log entries', () => {
  it.each([
    [makeEntry({ message: undefined }), 'message', 'entry 0: message is required'],
    [makeEntry({ message: '   ' }), 'message', 'entry 0: message must not be empty'],
    [makeEntry({ message: 42 }), 'message', 'entry 0: message must be a string'],
    [makeEntry({ service: undefined }), 'service', 'entry 0: service is required'],
    [makeEntry({ service: '' }), 'service', 'entry 0: service must not be empty'],
    [makeEntry({ level: 'TRACE' }), 'level', 'entry 0: level must be one of DEBUG, INFO, WARN, WARNING, ERROR, FATAL'],
    [makeEntry({ trace_id: 'abc' }), 'trace_id', 'entry 0: trace_id must be 32 hex digits'],
    [makeEntry({ trace_id: '0'.repeat(32) }), 'trace_id', 'entry 0: trace_id must not be all zeros'],
    [makeEntry({ span_id: '4bf92f3577b34da6a3ce929d0e0e4736' }), 'span_id', 'entry 0: span_id must be 16 hex digits'],
    [makeEntry({ labels: { region: 1 } }), 'labels.region', 'entry 0: labels.region must be a string'],
    [makeEntry({ labels: ['a'] }), 'labels', 'entry 0: labels must be an object of string values'],
    [
      makeEntry({ timestamp: '2026-11-22 10:00' }),
      'timestamp',
      'entry 0: timestamp must be an RFC 3339 time with a zone (2026-11-22T10:00:00.123Z) or epoch milliseconds',
    ],
    [
      makeEntry({ timestamp: true }),
      'timestamp',
      'entry 0: timestamp must be an RFC 3339 time with a zone (2026-11-22T10:00:00.123Z) or epoch milliseconds',
    ],
    [
      makeEntry({ timestamp: '2026-11-01T10:00:00Z' }),
      'timestamp',
      'entry 0: timestamp must be at most 7 days old and 10 minutes ahead',
    ],
    [
      makeEntry({ timestamp: NOW + 11 * 60_000 }),
      'timestamp',
      'entry 0: timestamp must be at most 7 days old and 10 minutes ahead',
    ],
    [makeEntry({ mesage: 'typo' }), 'mesage', 'entry 0: mesage is not a field of a log entry'],
  ])('names the field and the entry (%#)', (entry, field, message) => {
    expect(refused(entry)).toEqual({ ok: false, field, index: 0, message });
  });

  it('cuts a message, stack trace or label value over the ingest limits and counts what it cut', () => {
    const [entry] = accepted(
      makeEntry({
        message: '가'.repeat(INGEST_LIMITS.messageChars + 1),
        stack_trace: 'at x\n'.repeat(100_000),
        labels: { big: 'v'.repeat(20_000), region: 'kr' },
      }),
    );
    expect(entry!.message).toHaveLength(INGEST_LIMITS.messageChars);
    expect(entry!.stackTrace).toHaveLength(INGEST_LIMITS.messageChars);
    expect(entry!.labels).toEqual({
      big: 'v'.repeat(INGEST_LIMITS.valueChars),
      region: 'kr',
      'heimdall.truncated': '3',
    });
    expect(accepted(makeEntry())[0]!.labels).toEqual({});
  });

  it('names the index of the first bad entry of an array', () => {
    expect(refused([makeEntry(), makeEntry(), makeEntry({ level: 'loud' })])).toMatchObject({
      field: 'level',
      index: 2,
    });
  });

  it('refuses labels with blank keys or too many keys', () => {
    expect(refused(makeEntry({ labels: { ' ': 'x' } }))).toMatchObject({
      field: 'labels',
      message: 'entry 0: labels must have non-blank keys of at most 256 characters',
    });
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, 'v']));
    expect(refused(makeEntry({ labels: many }))).toMatchObject({
      field: 'labels',
      message: 'entry 0: labels must have at most 100 keys',
    });
  });

  it('refuses bodies that are not entries, empty arrays and arrays over the limit', () => {
    expect(refused('hello')).toEqual({ ok: false, index: 0, message: 'entry 0: the entry must be an object' });
    expect(refused([])).toEqual({ ok: false, message: 'expected at least one log entry' });
    expect(refused(Array.from({ length: MAX_ENTRIES + 1 }, () => makeEntry()))).toEqual({
      ok: false,
      message: 'expected at most 10000 log entries, got 10001',
    });
  });
});
