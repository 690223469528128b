/** Bucket widths of histograms and volume series: chosen to fit a range, and written as answers give them. */

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Widths that divide a day, so that a bucket's start falls at the same time of day on every day. */
export const NICE_INTERVALS_MS: readonly number[] = [
  1000, 5000, 10_000, 15_000, 30_000, 60_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000,
  21_600_000, 43_200_000, 86_400_000,
];

/** The shortest way to write a width: 90 s as `90s`, 3,600 s as `1h`. */
export function formatInterval(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms % UNITS[unit]! === 0) return `${ms / UNITS[unit]!}${unit}`;
  }
  return `${ms}ms`;
}

/** The narrowest nice width at least `min` ms that cuts `rangeMs` into at most `buckets` buckets. */
export function intervalFor(rangeMs: number, buckets: number, min = NICE_INTERVALS_MS[0]!): number {
  const wanted = Math.max(min, rangeMs / buckets);
  return NICE_INTERVALS_MS.find((ms) => ms >= wanted) ?? Math.ceil(wanted / 86_400_000) * 86_400_000;
}
