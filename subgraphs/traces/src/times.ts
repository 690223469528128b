import { heimdallError } from '@heimdall/shared';

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

export interface TimeRange {
  /** ms since the epoch, inclusive. */
  readonly from: number;
  /** ms since the epoch, exclusive. */
  readonly to: number;
}

/**
 * A `TimeRangeInput` checked: both ISO-8601, `from` before `to`, no longer than `maxRangeMs`. Each problem is
 * BAD_USER_INPUT naming the argument, e.g. `filter.range.from`.
 */
export function parseRange(input: { readonly from: string; readonly to: string }, argument: string, maxRangeMs: number): TimeRange {
  const from = parseTime(`${argument}.from`, input.from);
  const to = parseTime(`${argument}.to`, input.to);
  if (from >= to) throw badInput(argument, 'from must be before to');
  if (to - from > maxRangeMs) throw badInput(argument, `longer than the ${maxRangeMs / 86_400_000} days allowed`);
  return { from, to };
}

function parseTime(argument: string, value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw badInput(argument, `"${value.slice(0, 64)}" is not an ISO-8601 time`);
  return ms;
}

export function badInput(argument: string, message: string) {
  return heimdallError('BAD_USER_INPUT', { message: `${argument}: ${message}`, details: { argument } });
}
