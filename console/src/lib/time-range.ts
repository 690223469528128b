/**
 * Time ranges as the URL holds them, the way Grafana writes them: `from` and `to` are `now`, `now-<duration>`
 * (`now-1h`, `now-1h30m`, `now-7d`), an ISO-8601 instant or Unix milliseconds. Relative ranges stay relative in the
 * URL (a deep link to "the last hour" means the last hour when it is opened); queries get absolute instants.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

export interface Range {
  readonly from: number;
  readonly to: number;
}

export const QUICK_RANGES: readonly (readonly [duration: string, label: string])[] = [
  ['5m', 'Last 5 minutes'],
  ['15m', 'Last 15 minutes'],
  ['1h', 'Last 1 hour'],
  ['6h', 'Last 6 hours'],
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
];

export const DEFAULT_FROM = 'now-1h';
export const DEFAULT_TO = 'now';

/** `1h30m`, `15m`, `500ms`: the same grammar as the API's durations. */
export function parseDurationMs(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '' || !/^(\d+(ms|s|m|h|d|w))+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) total += Number(amount) * UNIT_MS[unit!]!;
  return total;
}

export function resolveInstant(text: string, now: number): number | undefined {
  const trimmed = text.trim();
  if (trimmed === 'now') return now;
  if (trimmed.startsWith('now-')) {
    const ago = parseDurationMs(trimmed.slice(4));
    return ago === undefined ? undefined : now - ago;
  }
  if (/^\d{10,16}$/.test(trimmed)) return Number(trimmed);
  const parsed = Date.parse(trimmed);
  return Number.isNaN(parsed) ? undefined : parsed;
}

export function resolveRange(from: string, to: string, now: number): Range | { readonly error: string } {
  const start = resolveInstant(from, now);
  if (start === undefined) return { error: `"${from}" is not a time (now-1h, an ISO-8601 instant or Unix ms)` };
  const end = resolveInstant(to, now);
  if (end === undefined) return { error: `"${to}" is not a time (now, an ISO-8601 instant or Unix ms)` };
  if (end <= start) return { error: 'the range ends before it starts' };
  return { from: start, to: end };
}

/** What the picker shows: "Last 1 hour" for a quick range, else both ends. */
export function describeRange(from: string, to: string): string {
  if (to === 'now' && from.startsWith('now-')) {
    const quick = QUICK_RANGES.find(([duration]) => `now-${duration}` === from);
    return quick?.[1] ?? `Last ${from.slice(4)}`;
  }
  return `${from} → ${to}`;
}

/** The range as the API's TimeRangeInput. */
export function rangeInput(range: Range): { from: string; to: string } {
  return { from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString() };
}

/** The part of `range` between two fractions of it (a drag over a chart), as an absolute range; at least 1 s. */
export function zoomRange(range: Range, startFraction: number, endFraction: number): Range {
  const [a, b] = startFraction <= endFraction ? [startFraction, endFraction] : [endFraction, startFraction];
  const span = range.to - range.from;
  const from = Math.round(range.from + Math.max(0, a) * span);
  const to = Math.round(range.from + Math.min(1, b) * span);
  return { from, to: Math.max(to, from + 1_000) };
}

/** A step giving about `points` points over the range, rounded to a whole number of the nearest unit (≥ 1 m for metrics). */
export function stepFor(range: Range, points = 120, minimumMs = 60_000): string {
  const raw = Math.max(minimumMs, (range.to - range.from) / points);
  const candidates = [
    60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 86_400_000,
  ];
  const step = candidates.find((c) => c >= raw) ?? 86_400_000;
  return step % 3_600_000 === 0 ? `${step / 3_600_000}h` : `${step / 60_000}m`;
}
