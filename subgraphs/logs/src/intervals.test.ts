import { describe, expect, it } from 'vitest';
import { formatInterval, intervalFor } from './intervals.js';

describe('bucket widths', () => {
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
