import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type WeeklyWindow, isWithin, nextOpening, parseWeeklyWindow } from './weekly-window.js';

const makeWindow = (overrides: Partial<WeeklyWindow> = {}): WeeklyWindow => ({
  days: [7],
  startMinute: 120,
  endMinute: 240,
  timeZone: 'Asia/Seoul',
  ...overrides,
});

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('a maintenance window on Sundays 02:00–04:00 Asia/Seoul', () => {
  it('mutes from 02:00 to just before 04:00 Seoul time on Sunday', () => {
    vi.setSystemTime(Date.parse('2026-11-28T17:00:00Z')); // Sunday 02:00 in Seoul, Saturday in UTC
    expect(isWithin(makeWindow(), Date.now())).toBe(true);
    vi.advanceTimersByTime(119 * 60_000);
    expect(isWithin(makeWindow(), Date.now())).toBe(true);
    vi.advanceTimersByTime(60_000);
    expect(isWithin(makeWindow(), Date.now())).toBe(false);
  });

  it('does not mute at 02:00 UTC on Sunday', () => {
    expect(isWithin(makeWindow(), Date.parse('2026-11-29T02:00:00Z'))).toBe(false);
  });

  it('opens next on the coming Sunday', () => {
    expect(nextOpening(makeWindow(), Date.parse('2026-11-25T00:00:00Z'))).toBe(Date.parse('2026-11-28T17:00:00Z'));
  });
});

describe('windows past midnight', () => {
  it('runs from Friday 22:00 into Saturday 06:00', () => {
    const window = makeWindow({ days: [5], startMinute: 22 * 60, endMinute: 6 * 60, timeZone: 'UTC' });
    expect(isWithin(window, Date.parse('2026-11-27T23:00:00Z'))).toBe(true);
    expect(isWithin(window, Date.parse('2026-11-28T05:59:00Z'))).toBe(true);
    expect(isWithin(window, Date.parse('2026-11-28T06:00:00Z'))).toBe(false);
    expect(isWithin(window, Date.parse('2026-11-28T23:00:00Z'))).toBe(false);
  });
});

describe('daylight saving time', () => {
  it('opens at 09:00 local time on both sides of the change in New York', () => {
    const window = makeWindow({
      days: [1, 2, 3, 4, 5, 6, 7],
      startMinute: 9 * 60,
      endMinute: 10 * 60,
      timeZone: 'America/New_York',
    });
    // 2026-11-01: clocks go back from EDT (UTC-4) to EST (UTC-5).
    expect(nextOpening(window, Date.parse('2026-10-31T20:00:00Z'))).toBe(Date.parse('2026-11-01T14:00:00Z'));
    expect(nextOpening(window, Date.parse('2026-10-30T20:00:00Z'))).toBe(Date.parse('2026-10-31T13:00:00Z'));
  });
});

describe('parseWeeklyWindow', () => {
  it('reads days and hours', () => {
    expect(parseWeeklyWindow('Mon-Fri 09:00-18:00', 'Asia/Seoul')).toEqual({
      ok: true,
      window: { days: [1, 2, 3, 4, 5], startMinute: 540, endMinute: 1080, timeZone: 'Asia/Seoul' },
    });
    expect(parseWeeklyWindow('Sat,Sun 00:00-24:00', 'UTC')).toMatchObject({
      ok: true,
      window: { days: [6, 7], startMinute: 0, endMinute: 1440 },
    });
    expect(parseWeeklyWindow('Fri-Mon 08:00-20:00', 'UTC')).toMatchObject({ ok: true, window: { days: [1, 5, 6, 7] } });
  });

  it('refuses what it cannot read', () => {
    expect(parseWeeklyWindow('weekdays 9-5', 'UTC').ok).toBe(false);
    expect(parseWeeklyWindow('Mon-Fri 09:00-09:00', 'UTC').ok).toBe(false);
    expect(parseWeeklyWindow('Mon-Fri 09:00-18:00', 'Mars/Olympus').ok).toBe(false);
  });
});
