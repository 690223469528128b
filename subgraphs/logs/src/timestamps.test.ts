import { describe, expect, it } from 'vitest';
import { MAX_AGE_MS, MAX_AHEAD_MS, isWithinIngestWindow, msToNanos, nanosToIso, parseTimestamp } from './timestamps.js';

describe('timestamps to the nanosecond', () => {
  it('writes nanoseconds as RFC 3339 UTC with nine fractional digits', () => {
    expect(nanosToIso(1_795_341_600_123_456_789n)).toBe('2026-11-22T10:00:00.123456789Z');
    expect(nanosToIso(5n)).toBe('1970-01-01T00:00:00.000000005Z');
  });

  it('reads back what it writes, and converts zones to UTC', () => {
    expect(parseTimestamp('2026-11-22T10:00:00.123456789Z')).toBe(1_795_341_600_123_456_789n);
    expect(parseTimestamp('2026-11-22T19:00:00.5+09:00')).toBe(1_795_341_600_500_000_000n);
    expect(parseTimestamp('2026-11-22T09:30:00-00:30')).toBe(1_795_341_600_000_000_000n);
  });

  it('reads the spellings every Heimdall argument takes, which the metrics, traces and alerts subgraphs always took', () => {
    expect(parseTimestamp('2026-11-22 10:00Z')).toBe(1_795_341_600_000_000_000n);
    expect(parseTimestamp('2026-11-22T19:00:00+0900')).toBe(1_795_341_600_000_000_000n);
    expect(parseTimestamp('2026-11-22T10:00:00.1234567891Z')).toBe(1_795_341_600_123_456_789n);
  });

  it('refuses times without a zone, impossible dates, times before 1970 and other shapes', () => {
    for (const text of [
      '2026-11-22T10:00:00',
      '2026-02-30T10:00:00Z',
      '2026-11-22T24:00:01Z',
      '2026-11-22',
      'now-1d',
      '1969-12-31T23:59:59.999999999Z',
      '',
    ]) {
      expect(parseTimestamp(text), text).toBeUndefined();
    }
  });

  it('accepts entries up to seven days old and ten minutes ahead', () => {
    const now = Date.UTC(2026, 10, 22);
    expect(isWithinIngestWindow(msToNanos(now - MAX_AGE_MS), now)).toBe(true);
    expect(isWithinIngestWindow(msToNanos(now - MAX_AGE_MS - 1), now)).toBe(false);
    expect(isWithinIngestWindow(msToNanos(now + MAX_AHEAD_MS), now)).toBe(true);
    expect(isWithinIngestWindow(msToNanos(now + MAX_AHEAD_MS + 1), now)).toBe(false);
  });
});
