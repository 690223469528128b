import { formatInstant, parseInstant } from '@heimdall/shared/user-input';

/**
 * Log times are kept to the nanosecond (OTLP sends them so; the index maps `timestamp` as `date_nanos`), so
 * they travel as bigint nanoseconds and are written as RFC 3339 with nine fractional digits.
 */

const NANOS_PER_MS = 1_000_000n;

/** Entries older than this, or further ahead than MAX_AHEAD_MS, are rejected one by one (SPEC §4). */
export const MAX_AGE_MS = 7 * 86_400_000;
export const MAX_AHEAD_MS = 10 * 60_000;

/** `2026-11-22T10:00:00.123456789Z` for nanoseconds since the epoch; throws below 0 (`date_nanos` starts there). */
export function nanosToIso(nanos: bigint): string {
  if (nanos < 0n) throw new RangeError(`timestamp before 1970: ${nanos} ns`);
  return formatInstant(nanos);
}

export function msToNanos(ms: number): bigint {
  return BigInt(Math.trunc(ms)) * NANOS_PER_MS;
}

export function nanosToMs(nanos: bigint): number {
  return Number(nanos / NANOS_PER_MS);
}

/** What a range's start must not precede: `date_nanos` holds no time before 1970. */
export const BEFORE_STORED_TIMES = 'is before 1970, the earliest time the store keeps';

/**
 * Nanoseconds since the epoch of an instant as every Heimdall argument takes it (RFC 3339 with a zone, see
 * @heimdall/shared's instants), undefined for anything else and for times before 1970, which `date_nanos` cannot hold.
 */
export function parseTimestamp(text: string): bigint | undefined {
  const parsed = parseInstant(text);
  return parsed.ok && parsed.value >= 0n ? parsed.value : undefined;
}

/** Whether a time may be stored now: at most MAX_AGE_MS old and MAX_AHEAD_MS ahead of `now` (ms). */
export function isWithinIngestWindow(nanos: bigint, now: number): boolean {
  const ms = nanosToMs(nanos);
  return ms >= now - MAX_AGE_MS && ms <= now + MAX_AHEAD_MS;
}
