/**
 * Weekly intervals of wall-clock time in an IANA time zone (maintenance windows, business hours, the daily digest),
 * evaluated through Intl so that daylight-saving changes are the zone's, not ours. An interval whose end is not
 * after its start runs past midnight into the next day.
 */

export const WEEKDAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface WeeklyWindow {
  /** ISO weekdays of the start: 1 Monday … 7 Sunday. */
  readonly days: readonly number[];
  /** Minutes after local midnight, 0–1439. */
  readonly startMinute: number;
  /** Minutes after local midnight, 1–1440. */
  readonly endMinute: number;
  readonly timeZone: string;
}

export type WindowResult =
  { readonly ok: true; readonly window: WeeklyWindow } | { readonly ok: false; readonly message: string };

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

export function isTimeZone(name: string): boolean {
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

const SHORT_DAYS: Readonly<Record<string, number>> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

interface LocalTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly weekday: number;
  readonly minute: number;
  /** The wall-clock time read as if it were UTC, in ms: its difference to the instant is the zone's offset. */
  readonly wallMs: number;
}

function localTime(at: number, timeZone: string): LocalTime {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  const [year, month, day, hour, minute, second] = [
    parts.year,
    parts.month,
    parts.day,
    parts.hour,
    parts.minute,
    parts.second,
  ].map(Number) as [number, number, number, number, number, number];
  return {
    year,
    month,
    day,
    weekday: SHORT_DAYS[parts.weekday ?? ''] ?? 1,
    minute: hour * 60 + minute,
    wallMs: Date.UTC(year, month - 1, day, hour, minute, second),
  };
}

/** The instant a wall-clock time of the zone names (the earlier one in a repeated hour, the next in a skipped one). */
function instantOf(year: number, month: number, day: number, minuteOfDay: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day, 0, minuteOfDay);
  const offset = localTime(wall, timeZone).wallMs - wall;
  const guess = wall - offset;
  const corrected = localTime(guess, timeZone).wallMs - guess;
  return corrected === offset ? guess : wall - corrected;
}

export function isWithin(window: WeeklyWindow, at: number): boolean {
  const local = localTime(at, window.timeZone);
  const { startMinute, endMinute, days } = window;
  if (startMinute < endMinute)
    return days.includes(local.weekday) && local.minute >= startMinute && local.minute < endMinute;
  const yesterday = local.weekday === 1 ? 7 : local.weekday - 1;
  return (
    (days.includes(local.weekday) && local.minute >= startMinute) ||
    (days.includes(yesterday) && local.minute < endMinute)
  );
}

/** `at` when it lies in the window, else the window's next start after it. */
export function nextOpening(window: WeeklyWindow, at: number): number {
  if (isWithin(window, at)) return at;
  const today = localTime(at, window.timeZone);
  for (let offset = 0; offset <= 8; offset++) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + offset));
    const weekday = date.getUTCDay() === 0 ? 7 : date.getUTCDay();
    if (!window.days.includes(weekday)) continue;
    const start = instantOf(
      date.getUTCFullYear(),
      date.getUTCMonth() + 1,
      date.getUTCDate(),
      window.startMinute,
      window.timeZone,
    );
    if (start > at) return start;
  }
  throw new Error('a weekly window with days opens within 8 days');
}

/** "HH:MM" (24 h, 24:00 as an end) as minutes after midnight. */
export function parseClock(text: string, options: { end?: boolean } = {}): number | undefined {
  const match = /^(\d{2}):(\d{2})$/.exec(text.trim());
  if (match === null) return undefined;
  const minutes = Number(match[1]) * 60 + Number(match[2]);
  if (Number(match[2]) > 59) return undefined;
  return minutes < 1440 || (options.end === true && minutes === 1440) ? minutes : undefined;
}

const DAY_NAMES = new Map(WEEKDAYS.map((day, i) => [day, i + 1]));

/** "Mon-Fri", "Sat,Sun", "Mon-Sun" as ISO weekdays. */
function parseDays(text: string): number[] | undefined {
  const days = new Set<number>();
  for (const part of text.split(',')) {
    const [from, to] = part.split('-').map((name) => DAY_NAMES.get(name.trim().toUpperCase() as Weekday));
    if (from === undefined || (part.includes('-') && to === undefined)) return undefined;
    const last = to ?? from;
    for (let day = from; ; day = (day % 7) + 1) {
      days.add(day);
      if (day === last) break;
    }
  }
  return [...days].sort();
}

/** "Mon-Fri 09:00-18:00" in `timeZone`: the form of NOTIFICATION_BUSINESS_HOURS. */
export function parseWeeklyWindow(text: string, timeZone: string): WindowResult {
  const example = 'days and hours such as "Mon-Fri 09:00-18:00"';
  const [daysText, hoursText, ...rest] = text.trim().split(/\s+/);
  const [startText, endText] = (hoursText ?? '').split('-');
  const days = parseDays(daysText ?? '');
  const startMinute = parseClock(startText ?? '');
  const endMinute = parseClock(endText ?? '', { end: true });
  if (rest.length > 0 || days === undefined || startMinute === undefined || endMinute === undefined)
    return { ok: false, message: `"${text}" is not ${example}` };
  if (startMinute === endMinute) return { ok: false, message: `"${text}" is empty: its start is its end` };
  if (!isTimeZone(timeZone)) return { ok: false, message: `"${timeZone}" is not an IANA time zone` };
  return { ok: true, window: { days, startMinute, endMinute, timeZone } };
}

export function formatClock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}
