import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './durations.js';

describe('parseDuration', () => {
  it.each([
    ['10s', 10_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1d', 86_400_000],
    ['1m30s500ms', 90_500],
    ['250ms', 250],
    ['0', 0],
    ['0s', 0],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });

  it.each(['', '5', '5 m', ' 5m', '5min', '1.5h', '-5m', 'm', '5mm', '1w'])('refuses %j with a message naming the expected form', (text) => {
    const result = parseDuration(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(/duration|empty/);
  });

  it('refuses units out of order or repeated, which are usually typos', () => {
    expect(parseDuration('30m1h')).toEqual({ ok: false, message: '"30m1h" repeats or misorders units; write the largest first, e.g. 1h30m' });
    expect(parseDuration('5m5m')).toMatchObject({ ok: false });
    expect(parseDuration('1s5ms')).toEqual({ ok: true, ms: 1_005 });
  });

  it('refuses a duration beyond what a number holds exactly', () => {
    expect(parseDuration('99999999999999999999d')).toEqual({ ok: false, message: '"99999999999999999999d" is too long' });
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [10_000, '10s'],
    [5_400_000, '1h30m'],
    [90_061_001, '1d1h1m1s1ms'],
    [86_400_000, '1d'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('writes what parseDuration reads back', () => {
    for (const ms of [1, 999, 60_000, 3_599_999, 7 * 86_400_000 + 1]) {
      expect(parseDuration(formatDuration(ms))).toEqual({ ok: true, ms });
    }
  });

  it('throws on a negative or fractional duration, which no caller should hold', () => {
    expect(() => formatDuration(-1)).toThrow(RangeError);
    expect(() => formatDuration(1.5)).toThrow(RangeError);
  });
});
