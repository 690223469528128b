import { describe, expect, it } from 'vitest';
import { formatInstant, instantMs, parseInstant } from './instants.js';

/** 2026-11-22T10:00:00Z in nanoseconds. */
const T = 1_795_341_600_000_000_000n;
const S = 1_000_000_000n;

describe('parseInstant', () => {
  it.each([
    ['2026-11-22T10:00:00Z', T],
    ['2026-11-22T10:00:00.000Z', T],
    ['2026-11-22T10:00:00.123Z', T + 123_000_000n],
    ['2026-11-22T10:00:00.123456789Z', T + 123_456_789n],
    ['2026-11-22T10:00:00.000000007Z', T + 7n],
    ['2026-11-22T10:00:00.1234567891234Z', T + 123_456_789n],
    ['2026-11-22t10:00:00z', T],
    ['2026-11-22 10:00:00Z', T],
    ['2026-11-22T10:00Z', T],
    ['2026-11-22T19:00:00.5+09:00', T + S / 2n],
    ['2026-11-22T19:00:00+0900', T],
    ['2026-11-22T09:30:00-00:30', T],
    ['2026-11-21T24:00:00Z', T - 10n * 3600n * S],
    ['1969-12-31T23:59:59Z', -S],
    ['0001-01-01T00:00:00Z', -62_135_596_800n * S],
  ])('reads %j', (text, nanos) => {
    expect(parseInstant(text)).toEqual({ ok: true, value: nanos });
  });

  it.each([
    '',
    'now',
    'yesterday',
    '1700000000000',
    '1',
    'Nov 22 2026',
    '2026/11/22',
    '2026-11-22',
    '2026-11',
    '2026',
    '+002026-11-22T10:00:00Z',
    ' 2026-11-22T10:00:00Z',
    '2026-11-22T10:00:00Z ',
    '2026-11-22T10Z',
    '2026-11-22T10:00:00.Z',
    '2026-11-22T10:00:00,5Z',
    '2026-11-22T10:00:00+01',
    '2026-11-22T10:00:00 UTC',
    '2026-11-22T10:00.5Z',
  ])('refuses %j as not a time', (text) => {
    expect(parseInstant(text)).toEqual({
      ok: false,
      message: `${JSON.stringify(text)} is not a time with a zone such as 2026-11-22T10:00:00Z (RFC 3339)`,
    });
  });

  it.each([
    '2026-02-30T10:00:00Z',
    '2026-13-01T10:00:00Z',
    '2026-11-22T24:00:01Z',
    '2026-11-22T25:00:00Z',
    '2026-11-22T10:60:00Z',
    '2026-12-31T23:59:60Z',
    '2026-11-22T10:00:00+24:00',
  ])('refuses %j as not a real time', (text) => {
    expect(parseInstant(text)).toEqual({
      ok: false,
      message: `${JSON.stringify(text)} is not a real time; expected a time with a zone such as 2026-11-22T10:00:00Z (RFC 3339)`,
    });
  });

  it('refuses a time without a zone, which would name a different instant on every server', () => {
    expect(parseInstant('2026-11-22T10:00:00')).toEqual({
      ok: false,
      message: '"2026-11-22T10:00:00" has no zone; add Z (UTC) or an offset such as +09:00',
    });
    expect(parseInstant('2026-11-22 10:00')).toMatchObject({ ok: false });
  });

  it('reads every time Date.parse reads with a zone as the same instant, to the millisecond', () => {
    for (const text of [
      '2026-11-22T10:00:00.999Z',
      '2026-11-22T10:00Z',
      '2026-11-22T19:00:00+0900',
      '2026-11-21T24:00:00Z',
      '1969-12-31T23:59:59.9995Z',
    ]) {
      const parsed = parseInstant(text);
      expect(parsed.ok && instantMs(parsed.value), text).toBe(Date.parse(text));
    }
  });
});

describe('instantMs', () => {
  it('rounds down to the millisecond, before 1970 too', () => {
    expect(instantMs(T + 999_999n)).toBe(1_795_341_600_000);
    expect(instantMs(-1n)).toBe(-1);
    expect(instantMs(-1_000_000n)).toBe(-1);
  });
});

describe('formatInstant', () => {
  it('writes UTC with all nine digits of nanoseconds, read back as the same instant', () => {
    expect(formatInstant(1_795_341_600_123_456_789n)).toBe('2026-11-22T10:00:00.123456789Z');
    expect(formatInstant(1_795_341_600_000_000_007n)).toBe('2026-11-22T10:00:00.000000007Z');
    expect(formatInstant(-1n)).toBe('1969-12-31T23:59:59.999999999Z');
    for (const nanos of [0n, -1n, 1_795_341_599_999_999_999n, 1_795_341_600_000_000_000n]) {
      expect(parseInstant(formatInstant(nanos))).toEqual({ ok: true, value: nanos });
    }
  });

  it('orders as the instants it names, so a child one nanosecond after its parent reads after it', () => {
    const parent = 1_795_341_599_999_999_999n;
    expect(formatInstant(parent) < formatInstant(parent + 1n)).toBe(true);
  });
});
