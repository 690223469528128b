const NS_PER_MS = 1_000_000n;

/**
 * Nanoseconds since the epoch as ISO-8601 in UTC with all nine fraction digits (`2026-11-22T10:00:00.123456789Z`):
 * the precision the trace model keeps, so that span times compare exactly and a child's start never appears
 * before its parent's by rounding. Times read from Jaeger's search API end in 000 (it keeps microseconds).
 */
export function isoNanos(ns: bigint): string {
  const ms = ns / NS_PER_MS;
  const fraction = ns % 1_000_000_000n;
  const seconds = new Date(Number(ms)).toISOString().slice(0, 19);
  return `${seconds}.${fraction.toString().padStart(9, '0')}Z`;
}
