import { describe, expect, it } from 'vitest';
import { describeRange, parseDurationMs, resolveRange, stepFor, zoomRange } from './time-range.js';

const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);

describe('time ranges in the URL', () => {
  it('reads durations in the API grammar, 1h30m included', () => {
    expect(parseDurationMs('1h30m')).toBe(5_400_000);
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('7d')).toBe(604_800_000);
    expect(parseDurationMs('1.5h')).toBeUndefined();
    expect(parseDurationMs('')).toBeUndefined();
  });

  it('resolves relative, ISO-8601 and Unix-ms ends against now', () => {
    expect(resolveRange('now-1h', 'now', NOW)).toEqual({ from: NOW - 3_600_000, to: NOW });
    expect(resolveRange('2026-12-07T10:00:00Z', String(NOW), NOW)).toEqual({
      from: Date.UTC(2026, 11, 7, 10),
      to: NOW,
    });
  });

  it('says what is wrong with a range it cannot use', () => {
    const refused = resolveRange('yesterday', 'now', NOW);
    expect('error' in refused ? refused.error : '').toContain('"yesterday" is not a time');
    expect(resolveRange('now', 'now-1h', NOW)).toEqual({ error: 'the range ends before it starts' });
  });

  it('names quick ranges as the picker shows them', () => {
    expect(describeRange('now-1h', 'now')).toBe('Last 1 hour');
    expect(describeRange('now-90m', 'now')).toBe('Last 90m');
  });

  it('zooms to the dragged part, in either direction, at least a second wide', () => {
    const range = { from: 0, to: 100_000 };
    expect(zoomRange(range, 0.8, 0.2)).toEqual({ from: 20_000, to: 80_000 });
    expect(zoomRange(range, 0.5, 0.5)).toEqual({ from: 50_000, to: 51_000 });
  });

  it('picks a step of about 120 points in whole minutes or hours', () => {
    expect(stepFor({ from: 0, to: 3_600_000 })).toBe('1m');
    expect(stepFor({ from: 0, to: 86_400_000 })).toBe('15m');
    expect(stepFor({ from: 0, to: 7 * 86_400_000 })).toBe('2h');
  });
});
