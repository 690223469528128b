import { describe, expect, it } from 'vitest';
import { formatInterval, intervalFor, parseInterval } from './intervals.js';

describe('bucket widths', () => {
  it('reads what people write and refuses the rest', () => {
    expect(['30s', '5m', '1h', '1d', ' 2h '].map(parseInterval)).toEqual([30_000, 300_000, 3_600_000, 86_400_000, 7_200_000]);
    for (const text of ['0s', '1', 'm', '1w', '1.5h', '-1m', '1000000m']) expect(parseInterval(text), text).toBeUndefined();
  });

  it('writes a width in its largest whole unit', () => {
    expect([90_000, 3_600_000, 86_400_000, 1500].map(formatInterval)).toEqual(['90s', '1h', '1d', '1500ms']);
  });

  it('chooses the narrowest width that divides a day and fits the range into the buckets asked for', () => {
    expect(intervalFor(3_600_000, 60)).toBe(60_000);
    expect(intervalFor(3_600_000, 50)).toBe(300_000);
    expect(intervalFor(15 * 60_000, 60, 60_000)).toBe(60_000);
    expect(intervalFor(7 * 86_400_000, 60)).toBe(10_800_000);
    expect(intervalFor(400 * 86_400_000, 60)).toBe(7 * 86_400_000);
  });
});
