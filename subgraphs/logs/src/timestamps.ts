/**
 * Log times are kept to the nanosecond (OTLP sends them so; the index maps `timestamp` as `date_nanos`), so
 * they travel as bigint nanoseconds and are written as RFC 3339 with nine fractional digits.
 */

const NANOS_PER_MS = 1_000_000n;
const NANOS_PER_SECOND = 1_000_000_000n;

/** Entries older than this, or further ahead than MAX_AHEAD_MS, are rejected one by one (SPEC §4). */
export const MAX_AGE_MS = 7 * 86_400_000;
export const MAX_AHEAD_MS = 10 * 60_000;

/** `2026-11-22T10:00:00.123456789Z` for nanoseconds since the epoch; throws below 0 (`date_nanos` starts there). */
export function nanosToIso(nanos: bigint): string {
  if (nanos < 0n) throw new RangeError(`timestamp before 1970: ${nanos} ns`);
  const seconds = nanos / NANOS_PER_SECOND;
  const fraction = (nanos % NANOS_PER_SECOND).toString().padStart(9, '0');
  // Entries of one request mostly share their second: format it once.
  if (seconds !== lastSecond.seconds) lastSecond = { seconds, text: new Date(Number(seconds) * 1000).toISOString().slice(0, 19) };
  return `${lastSecond.text}.${fraction}Z`;
}

let lastSecond = { seconds: -1n, text: '' };

export function msToNanos(ms: number): bigint {
  return BigInt(Math.trunc(ms)) * NANOS_PER_MS;
}

export function nanosToMs(nanos: bigint): number {
  return Number(nanos / NANOS_PER_MS);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Nanoseconds since the epoch of an RFC 3339 time with its zone (`Z` or `±hh:mm`) and up to nine fractional
 * digits; undefined for anything else, including impossible dates (February 30th) and times without a zone,
 * which would mean a different instant on every server.
 */
export function parseTimestamp(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const offsetMinutes = m[8] === undefined ? (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11])) : 0;
  const fraction = BigInt((m[7] ?? '').padEnd(9, '0'));
  const nanos = msToNanos(date.getTime() - offsetMinutes * 60_000) + fraction;
  return nanos < 0n ? undefined : nanos;
}

/** Whether a time may be stored now: at most MAX_AGE_MS old and MAX_AHEAD_MS ahead of `now` (ms). */
export function isWithinIngestWindow(nanos: bigint, now: number): boolean {
  const ms = nanosToMs(nanos);
  return ms >= now - MAX_AGE_MS && ms <= now + MAX_AHEAD_MS;
}
