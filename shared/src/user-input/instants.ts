/**
 * Instants as people and dashboards type them: RFC 3339 with its zone, to the nanosecond, and the ISO-8601
 * spellings of it that the subgraphs have always taken.
 *
 *     2026-11-22T10:00:00Z   2026-11-22T10:00:00.123456789+09:00   2026-11-22 10:00Z   2026-11-22t10:00:00.5-0030
 *
 * A date `YYYY-MM-DD` (a real one: no February 30th), `T`, `t` or a space, `hh:mm`, optionally `:ss`, optionally a
 * fraction of a second of any length (digits past the ninth, below a nanosecond, are dropped), then the zone: `Z`,
 * `z`, `±hh:mm` or `±hhmm`. `24:00:00` is the midnight that ends the day, as ISO 8601 has it. Refused: times
 * without a zone (they would name a different instant on every server), dates alone, leap seconds (`:60`, which
 * no store here keeps), epoch numbers, words such as `now`, and the other formats `Date.parse` guesses at
 * (`Nov 22 2026`, `2026/11/22`, `1`, which it reads as 2001).
 */
import { type Parsed, quoted } from './durations.js';

const NANOS_PER_MS = 1_000_000n;

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

const EXAMPLE = 'a time with a zone such as 2026-11-22T10:00:00Z (RFC 3339)';

/** Nanoseconds since the epoch (negative before 1970) of an instant in the grammar above. */
export function parseInstant(text: string): Parsed<bigint> {
  const m = INSTANT.exec(text);
  if (m === null) return { ok: false, message: `${quoted(text)} is not ${EXAMPLE}` };
  if (m[8] === undefined && m[9] === undefined)
    return { ok: false, message: `${quoted(text)} has no zone; add Z (UTC) or an offset such as +09:00` };
  const [year, month, day, hour, minute] = m.slice(1, 6).map(Number) as [number, number, number, number, number];
  const second = Number(m[6] ?? 0);
  const fraction = (m[7] ?? '').slice(0, 9).padEnd(9, '0');
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  const realDate = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  const endOfDay = hour === 24 && minute === 0 && second === 0 && /^0*$/.test(m[7] ?? '');
  const offsetHours = Number(m[10] ?? 0);
  const offsetMinutes = Number(m[11] ?? 0);
  if (!realDate || (hour > 23 && !endOfDay) || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) {
    return { ok: false, message: `${quoted(text)} is not a real time; expected ${EXAMPLE}` };
  }
  const offsetMs = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  const ms = date.getTime() + ((hour * 60 + minute) * 60 + second) * 1000 - offsetMs;
  return { ok: true, value: BigInt(ms) * NANOS_PER_MS + BigInt(fraction) };
}

/** Milliseconds since the epoch of nanoseconds, rounded down as `Date.parse` rounds a finer fraction. */
export function instantMs(nanos: bigint): number {
  const ms = nanos / NANOS_PER_MS;
  return Number(nanos < 0n && ms * NANOS_PER_MS !== nanos ? ms - 1n : ms);
}

const NANOS_PER_SECOND = 1_000_000_000n;
// Times of one request or one answer mostly share their second: it is formatted once.
let lastSecond = { seconds: 0n, text: '1970-01-01T00:00:00' };

/**
 * The canonical spelling of an instant, as every subgraph answers with it: UTC, all nine fraction digits
 * (`2026-11-22T10:00:00.123456789Z`), so that times compare exactly as text and as the instants they name.
 */
export function formatInstant(nanos: bigint): string {
  let seconds = nanos / NANOS_PER_SECOND;
  let fraction = nanos % NANOS_PER_SECOND;
  if (fraction < 0n) {
    seconds -= 1n;
    fraction += NANOS_PER_SECOND;
  }
  if (seconds !== lastSecond.seconds)
    lastSecond = { seconds, text: new Date(Number(seconds) * 1000).toISOString().slice(0, 19) };
  return `${lastSecond.text}.${fraction.toString().padStart(9, '0')}Z`;
}
