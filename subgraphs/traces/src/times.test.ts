import { describe, expect, it } from 'vitest';
import { isoNanos } from './times.js';

describe('span times', () => {
  it('are ISO-8601 with all nine digits of nanoseconds', () => {
    expect(isoNanos(1_795_341_600_123_456_789n)).toBe('2026-11-22T10:00:00.123456789Z');
    expect(isoNanos(1_795_341_600_000_000_007n)).toBe('2026-11-22T10:00:00.000000007Z');
  });

  it('order as the instants they name, so a child one nanosecond after its parent reads after it', () => {
    const parent = 1_795_341_599_999_999_999n;
    expect(isoNanos(parent) < isoNanos(parent + 1n)).toBe(true);
    expect(Date.parse(isoNanos(parent + 1n))).toBe(1_795_341_600_000);
  });
});
