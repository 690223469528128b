/**
 * Log volume anomalies (`logVolumeAnomalies`): per service and level, the time buckets whose count departs
 * from what that series usually does. Pure over bucket counts; the caller fetches them with a date_histogram
 * (`min_doc_count: 0` and `extended_bounds` over the range and its baseline, so that quiet buckets are zeros).
 *
 * Expected value: the median of the same time of day on the previous days when there are enough of them (log
 * volume follows the daily rhythm of users), else of the buckets just before. Spread: the median absolute
 * deviation scaled to a standard deviation (1.4826), but at least √expected (counts are Poisson-like, so a
 * steady baseline does not make every small wobble an anomaly) and at least 1.
 */

export interface VolumeBucket {
  /** Start of the bucket, epoch ms. */
  readonly start: number;
  readonly count: number;
}

export interface VolumeSeries {
  readonly service: string;
  readonly level: string;
  /** Any order. A bucket missing here is unknown, not zero. */
  readonly buckets: readonly VolumeBucket[];
}

export interface AnomalyOptions {
  /** Buckets starting in [from, to) (epoch ms) are judged; earlier ones only serve as baseline. */
  readonly range: { readonly from: number; readonly to: number };
  /** Bucket width in ms (the date_histogram's fixed_interval). */
  readonly bucketMs: number;
  /** |score| at which a bucket is an anomaly. Default 3. */
  readonly threshold?: number;
  /** Previous days whose same bucket make the daily baseline. Default 7. */
  readonly days?: number;
  /** Buckets just before that make the fallback baseline. Default 24. */
  readonly trailingBuckets?: number;
  /** Fewest baseline values to judge a bucket at all. Default 3. */
  readonly minBaseline?: number;
}

export type BaselineKind = 'SAME_TIME_OF_DAY' | 'TRAILING';

export interface VolumeScore {
  readonly service: string;
  readonly level: string;
  readonly start: number;
  readonly count: number;
  readonly expected: number;
  readonly spread: number;
  /** (count − expected) / spread. */
  readonly score: number;
  readonly baseline: BaselineKind;
}

export interface VolumeAnomaly extends VolumeScore {
  readonly direction: 'SPIKE' | 'DROP';
}

const DAY_MS = 86_400_000;
const MAD_TO_SIGMA = 1.4826;
const DEFAULTS = { threshold: 3, days: 7, trailingBuckets: 24, minBaseline: 3 };

/**
 * The score of every bucket in the range that has enough baseline, in time order per series. Alert rules
 * can threshold these themselves; findVolumeAnomalies keeps the ones past `threshold`.
 */
export function scoreVolume(series: readonly VolumeSeries[], options: AnomalyOptions): VolumeScore[] {
  const { days, trailingBuckets, minBaseline } = { ...DEFAULTS, ...options };
  const { range, bucketMs } = options;
  const scores: VolumeScore[] = [];
  for (const { service, level, buckets } of series) {
    const counts = new Map(buckets.map((b) => [b.start, b.count]));
    const judged = buckets.filter((b) => b.start >= range.from && b.start < range.to).sort((a, b) => a.start - b.start);
    for (const { start, count } of judged) {
      const daily = values(counts, start, DAY_MS, days);
      const baseline =
        daily.length >= minBaseline
          ? { kind: 'SAME_TIME_OF_DAY' as const, values: daily }
          : { kind: 'TRAILING' as const, values: values(counts, start, bucketMs, trailingBuckets) };
      if (baseline.values.length < minBaseline) continue;
      const expected = median(baseline.values);
      const mad = median(baseline.values.map((v) => Math.abs(v - expected)));
      const spread = Math.max(MAD_TO_SIGMA * mad, Math.sqrt(expected), 1);
      scores.push({
        service,
        level,
        start,
        count,
        expected,
        spread,
        score: (count - expected) / spread,
        baseline: baseline.kind,
      });
    }
  }
  return scores;
}

/** Buckets whose |score| reaches the threshold, SPIKE above the baseline and DROP below, in time order. */
export function findVolumeAnomalies(series: readonly VolumeSeries[], options: AnomalyOptions): VolumeAnomaly[] {
  const threshold = options.threshold ?? DEFAULTS.threshold;
  return scoreVolume(series, options)
    .filter((s) => Math.abs(s.score) >= threshold)
    .map((s) => ({ ...s, direction: s.score > 0 ? ('SPIKE' as const) : ('DROP' as const) }))
    .sort((a, b) => a.start - b.start || a.service.localeCompare(b.service) || a.level.localeCompare(b.level));
}

/** The known counts at start − step, start − 2·step, … start − n·step. */
function values(counts: Map<number, number>, start: number, step: number, n: number): number[] {
  const found: number[] = [];
  for (let k = 1; k <= n; k++) {
    const count = counts.get(start - k * step);
    if (count !== undefined) found.push(count);
  }
  return found;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
