/**
 * The SQL of metricQuery's aggregations, per source (the 1-minute rollup or the raw samples): ClickHouse aggregates
 * per group and step, so only the answer's points leave it. Parameters: name, fps, groups, step, from, to, q,
 * deltas, cumulatives (see MetricsStore.aggregate).
 */
import type { Aggregation } from '../aggregations.js';

/** How each source answers per step: the rollup merges its minute states, raw aggregates the samples. */
export const SOURCES = {
  ROLLUP_1M: {
    table: 'samples_1m',
    time: 'minute',
    // Every minute that overlaps the range: a range that starts mid-minute still gets that minute's bucket.
    range:
      "minute >= toStartOfMinute(toDateTime(intDiv({from:Int64}, 1000), 'UTC')) AND minute < fromUnixTimestamp64Milli({to:Int64}, 'UTC')",
    sum: 'sumMerge(sum_state)',
    count: 'countMerge(count_state)',
    min: 'minMerge(min_state)',
    max: 'maxMerge(max_state)',
    last: 'argMaxMerge(last_state)',
    quantiles: 'quantilesTDigestMerge(0.5, 0.9, 0.95, 0.99)(quantiles_state)',
    bounds: 'anyLast(bucket_bounds)',
    sumCounts: 'sumForEachMerge(bucket_counts_state)',
    lastCounts: 'argMaxMerge(last_counts_state)',
    quantileLevels: 'anyLast(quantile_levels)',
    lastQuantiles: 'argMaxMerge(last_quantiles_state)',
  },
  RAW: {
    table: 'samples',
    time: 'timestamp',
    range:
      "timestamp >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND timestamp < fromUnixTimestamp64Milli({to:Int64}, 'UTC')",
    sum: 'sum(value)',
    count: 'count()',
    // The point's extremes (migration 0006): a histogram's own min and max, not its sum.
    min: 'min(min)',
    max: 'max(max)',
    last: 'argMax(value, (timestamp, nanos))',
    quantiles: 'quantilesTDigest(0.5, 0.9, 0.95, 0.99)(value)',
    bounds: 'argMax(bucket_bounds, (timestamp, nanos))',
    sumCounts: 'sumForEach(bucket_counts)',
    lastCounts: 'argMax(bucket_counts, (timestamp, nanos))',
    quantileLevels: 'argMax(quantile_levels, (timestamp, nanos))',
    lastQuantiles: 'argMax(quantile_values, (timestamp, nanos))',
  },
} as const;

export type Source = (typeof SOURCES)[keyof typeof SOURCES];

const GROUP = 'transform(fingerprint, {fps:Array(UInt64)}, {groups:Array(UInt32)}, toUInt32(0))';
const STEP_START = (source: Source) =>
  `toUnixTimestamp(toStartOfInterval(${source.time}, INTERVAL {step:UInt32} SECOND))`;
const WHERE = (source: Source) => `metric = {name:String} AND fingerprint IN {fps:Array(UInt64)} AND ${source.range}`;
/** Rows per series in step order, each with the one before it (lagInFrame: 0 or [] on the first row, n = 1). */
const PREVIOUS = 'WINDOW w AS (PARTITION BY fingerprint ORDER BY t ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)';

/**
 * One value per group and step, in SQL: ClickHouse aggregates and only the answer's points come back. SUM, COUNT,
 * MIN, MAX, AVG and the quantiles aggregate the group's samples directly (AVG weighs every sample alike, the
 * quantiles merge the group's digests); LAST and RATE are worked out per series first, then summed.
 */
export function scalarSql(aggregation: Aggregation, source: Source, summaries: boolean): string {
  const from = `FROM ${source.table} WHERE ${WHERE(source)}`;
  const t = STEP_START(source);
  switch (aggregation) {
    case 'RATE':
      // Delta sums count per step already; a cumulative counter's increase is the step's last value minus the
      // previous step's, and a counter that went down was reset, so all it counts since started from zero.
      return `SELECT g, t, sum(if(delta = 1, s / {step:UInt32}, if(last >= prev, last - prev, last) / if(t > prev_t, t - prev_t, {step:UInt32}))) AS v
        FROM (SELECT g, t, delta, s, last, lagInFrame(last) OVER w AS prev, lagInFrame(t) OVER w AS prev_t, row_number() OVER w AS n
              FROM (SELECT fingerprint, ${GROUP} AS g, transform(fingerprint, {fps:Array(UInt64)}, {deltas:Array(UInt8)}, toUInt8(0)) AS delta,
                           ${t} AS t, ${source.sum} AS s, ${source.last} AS last ${from} GROUP BY fingerprint, t)
              ${PREVIOUS})
        WHERE delta = 1 OR n > 1 GROUP BY g, t`;
    case 'LAST':
      return `SELECT g, t, sum(v) AS v FROM (SELECT fingerprint, ${GROUP} AS g, ${t} AS t, ${source.last} AS v ${from} GROUP BY fingerprint, t) GROUP BY g, t`;
    case 'P50':
    case 'P90':
    case 'P95':
    case 'P99':
      if (summaries) {
        // What the agent measured at that level, per series; a group's summaries cannot be merged, so they average.
        return `SELECT g, t, avg(v) AS v FROM (
                  SELECT ${GROUP} AS g, ${t} AS t, ${source.quantileLevels} AS levels, ${source.lastQuantiles} AS values,
                         values[indexOf(levels, {q:Float64})] AS v
                  ${from} GROUP BY fingerprint, t HAVING indexOf(levels, {q:Float64}) > 0)
                GROUP BY g, t`;
      }
      return `SELECT ${GROUP} AS g, ${t} AS t, ${source.quantiles}[indexOf([0.5, 0.9, 0.95, 0.99], {q:Float64})] AS v ${from} GROUP BY g, t`;
    default: {
      const value = {
        SUM: source.sum,
        COUNT: source.count,
        MIN: source.min,
        MAX: source.max,
        AVG: `${source.sum} / ${source.count}`,
      }[aggregation];
      return `SELECT ${GROUP} AS g, ${t} AS t, ${value} AS v ${from} GROUP BY g, t`;
    }
  }
}

/**
 * The buckets each group counted per step, in SQL: a delta histogram's buckets add up over the step; a cumulative
 * one counted its last snapshot's increase over the previous step's (bucket by bucket: one that went down means
 * the source restarted). A series' first snapshot in the range stands for itself. Buckets add up only with the
 * same bounds, so rows are per bounds as well.
 */
export function histogramSql(source: Source): string {
  return `SELECT g, t, bounds, sumForEach(counts) AS counts FROM (
      SELECT g, t, bounds,
             if(cumulative = 0, sum_counts,
                if(n > 1 AND length(prev) = length(last_counts), arrayMap((c, p) -> if(c >= p, toUInt64(c - p), c), last_counts, prev), last_counts)) AS counts
      FROM (SELECT g, t, cumulative, bounds, sum_counts, last_counts, lagInFrame(last_counts) OVER w AS prev, row_number() OVER w AS n
            FROM (SELECT fingerprint, ${GROUP} AS g, transform(fingerprint, {fps:Array(UInt64)}, {cumulatives:Array(UInt8)}, toUInt8(0)) AS cumulative,
                         ${STEP_START(source)} AS t, ${source.bounds} AS bounds, ${source.sumCounts} AS sum_counts, ${source.lastCounts} AS last_counts
                  FROM ${source.table} WHERE ${WHERE(source)} GROUP BY fingerprint, t)
            ${PREVIOUS}))
    GROUP BY g, t, bounds ORDER BY g, t, bounds`;
}
