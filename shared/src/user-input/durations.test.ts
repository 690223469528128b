import { describe, expect, it } from 'vitest';
import { checkDuration, formatDuration, parseDuration } from './durations.js';

describe('parseDuration', () => {
  it.each([
    ['10s', 10_000],
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['1w', 604_800_000],
    ['1y', 31_536_000_000],
    ['1y2w3d4h5m6s7ms', 31_536_000_000 + 1_209_600_000 + 259_200_000 + 14_400_000 + 300_000 + 6_000 + 7],
    ['1m30s500ms', 90_500],
    ['500ms', 500],
    ['1s5ms', 1_005],
    ['0', 0],
    ['0s', 0],
    [' 2h ', 7_200_000],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, value: ms });
  });

  it.each(['5', '5 m', '5min', '1.5h', '-5m', '+5m', 'm', '5mm', '1x', '5M', 'now', '1h 30m', 'P1D'])(
    'refuses %j, saying what it expected',
    (text) => {
      expect(parseDuration(text)).toEqual({
        ok: false,
        message: expect.stringMatching(/ is not a duration such as 30s, 5m, 1h30m or 1d \(unexpected /) as string,
      });
    },
  );

  it('says where the text went wrong', () => {
    expect(parseDuration('5min')).toEqual({
      ok: false,
      message: '"5min" is not a duration such as 30s, 5m, 1h30m or 1d (unexpected "in")',
    });
  });

  it('refuses an empty text', () => {
    expect(parseDuration('')).toEqual({
      ok: false,
      message: 'is empty; expected a duration such as 30s, 5m, 1h30m or 1d',
    });
    expect(parseDuration('  ')).toMatchObject({ ok: false });
  });

  it('refuses units out of order or repeated, which are usually typos', () => {
    expect(parseDuration('30m1h')).toEqual({
      ok: false,
      message: '"30m1h" repeats or misorders units; write the largest first, e.g. 1h30m',
    });
    expect(parseDuration('5m5m')).toMatchObject({ ok: false });
    expect(parseDuration('1d1w')).toMatchObject({ ok: false });
  });

  it('refuses a duration beyond what a number holds exactly, and quotes at most 64 characters of a long text', () => {
    expect(parseDuration('99999999999999999999d')).toEqual({
      ok: false,
      message: '"99999999999999999999d" is too long',
    });
    const long = parseDuration(`${'1'.repeat(100)}x`);
    expect(long).toEqual({ ok: false, message: expect.stringContaining(`"${'1'.repeat(64)}…"`) as string });
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [10_000, '10s'],
    [5_400_000, '1h30m'],
    [90_061_001, '1d1h1m1s1ms'],
    [86_400_000, '1d'],
    [604_800_000, '7d'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('writes what parseDuration reads back', () => {
    for (const ms of [1, 999, 60_000, 3_599_999, 7 * 86_400_000 + 1, 400 * 86_400_000]) {
      expect(parseDuration(formatDuration(ms))).toEqual({ ok: true, value: ms });
    }
  });

  it('throws on a negative or fractional duration, which no caller should hold', () => {
    expect(() => formatDuration(-1)).toThrow(RangeError);
    expect(() => formatDuration(1.5)).toThrow(RangeError);
  });
});

describe('checkDuration', () => {
  it('keeps a duration within its bounds', () => {
    expect(checkDuration('1h30m', { min: 60_000, max: 86_400_000, multipleOf: 60_000 })).toEqual({
      ok: true,
      value: 5_400_000,
    });
  });

  it('says which bound a duration is outside of, in the grammar it was written in', () => {
    expect(checkDuration('0s', { min: 1_000 })).toEqual({ ok: false, message: 'must be at least 1s' });
    expect(checkDuration('2d', { min: 0, max: 86_400_000 })).toEqual({ ok: false, message: 'must be at most 1d' });
    expect(checkDuration('90s', { min: 60_000, multipleOf: 60_000 })).toEqual({
      ok: false,
      message: 'must be a multiple of 1m, not "90s"',
    });
    expect(checkDuration('soon', { min: 0 })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^"soon" is not a duration/) as string,
    });
  });
});
