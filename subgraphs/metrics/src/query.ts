import type { ClickHouseClient } from '@clickhouse/client';
import { heimdallError, type ResiliencePolicy } from '@heimdall/shared';
import { type LabelMatcher, labelMatcherClauses } from './matchers.js';
import { bucketIncrease, bucketQuantile } from './histogram.js';

export const AGGREGATIONS = ['SUM', 'AVG', 'MIN', 'MAX', 'COUNT', 'P50', 'P90', 'P95', 'P99', 'RATE', 'LAST'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

export interface MetricQueryInput {
  readonly name: string;
  readonly matchers?: readonly LabelMatcher[] | null;
  readonly range: { readonly from: string; readonly to: string };
  readonly step?: string | null;
  readonly aggregation?: Aggregation | null;
  readonly groupBy?: readonly string[] | null;
}

export interface MetricQueryResult {
  readonly series: { labels: { key: string; value: string }[]; points: { timestamp: string; value: number }[] }[];
  readonly source: 'ROLLUP_1M' | 'RAW';
  readonly rowsRead: number;
}

export interface QueryLimits {
  /** Series one query may touch (SPEC §5: LIMIT_EXCEEDED beyond). */
  readonly maxSeries: number;
  /** Points per series one query may return. */
  readonly maxPoints: number;
  /** The longest time range a query may ask for, in ms. */
  readonly maxRangeMs: number;
}

const STEP = /^(\d+)(s|m|h|d)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const QUANTILES = { P50: 0, P90: 1, P95: 2, P99: 3 } as const;

function badInput(argument: string, message: string) {
  return heimdallError('BAD_USER_INPUT', { message: `${argument}: ${message}`, details: { argument } });
}

function parseTime(argument: string, value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw badInput(argument, `"${value}" is not an ISO-8601 time`);
  return ms;
}

/** Checks the input and works out the step; every problem names the argument it comes from. */
export function planQuery(input: MetricQueryInput, limits: QueryLimits) {
  const from = parseTime('range.from', input.range.from);
  const to = parseTime('range.to', input.range.to);
  if (from >= to) throw badInput('range', 'from must be before to');
  if (to - from > limits.maxRangeMs) throw badInput('range', `longer than the ${limits.maxRangeMs / 86_400_000} days allowed`);
  const match = STEP.exec(input.step ?? '1m');
  if (match === null) throw badInput('step', `"${input.step}" is not a duration such as 15s, 1m, 1h`);
  const stepSeconds = Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
  if (stepSeconds === 0) throw badInput('step', 'must be positive');
  const points = Math.ceil((to - from) / 1000 / stepSeconds);
  if (points > limits.maxPoints) {
    throw badInput('step', `the range is too long for a ${input.step} step (${points} points; at most ${limits.maxPoints})`);
  }
  const aggregation = input.aggregation ?? 'AVG';
  if (!AGGREGATIONS.includes(aggregation)) throw badInput('aggregation', `unknown aggregation ${String(aggregation)}`);
  for (const [i, m] of (input.matchers ?? []).entries()) {
    if (m.op === 'RE' || m.op === 'NRE') {
      try {
        new RegExp(m.value);
      } catch {
        throw badInput(`matchers[${i}].value`, `"${m.value}" is not a regular expression`);
      }
    }
  }
  // Steps of whole minutes read the rollup; finer steps need the raw samples.
  const source: MetricQueryResult['source'] = stepSeconds % 60 === 0 ? 'ROLLUP_1M' : 'RAW';
  return { from, to, stepSeconds, aggregation, source };
}

interface SeriesRow {
  fp: string;
  labels: Record<string, string>;
  type: string;
  temporality: string;
}

interface HistogramRow {
  fp: string;
  t: number;
  bounds: number[];
  last_counts: (number | string)[];
  sum_counts: (number | string)[];
}

interface BucketRow {
  fp: string;
  t: number;
  sum: number;
  /** UInt64: a string from a ClickHouse server, a number from the embedded engine. */
  count: number | string;
  min: number;
  max: number;
  last: number;
  q: number[];
}

/** Runs `metricQuery`: selects the series, reads the rollup or raw samples, aggregates per step and group. */
export async function runMetricQuery(
  clickhouse: ClickHouseClient,
  policy: ResiliencePolicy,
  input: MetricQueryInput,
  limits: QueryLimits,
): Promise<MetricQueryResult> {
  const plan = planQuery(input, limits);
  const params: Record<string, unknown> = { name: input.name, limit: limits.maxSeries + 1 };
  const clauses = labelMatcherClauses(input.matchers ?? [], params);
  const read: Read = <T>(query: string, query_params: Record<string, unknown>) =>
    policy.execute(
      async (signal) =>
        (await clickhouse.query({ query, query_params, format: 'JSON', abort_signal: signal })).json<T>() as Promise<{
          data: T[];
          statistics?: { rows_read: number };
        }>,
      { idempotent: true },
    );

  const series = await read<SeriesRow>(
    `SELECT toString(fingerprint) AS fp, labels, type, temporality FROM series FINAL
     WHERE metric = {name:String} ${clauses.map((c) => `AND ${c}`).join(' ')}
     ORDER BY fingerprint LIMIT {limit:UInt32}`,
    params,
  );
  if (series.data.length > limits.maxSeries) {
    throw heimdallError('LIMIT_EXCEEDED', {
      message: `the query matches more than ${limits.maxSeries} series (the limit); narrow it with matchers`,
      details: { limit: limits.maxSeries },
    });
  }
  let rowsRead = series.statistics?.rows_read ?? 0;
  if (series.data.length === 0) return { series: [], source: plan.source, rowsRead };

  const groupBy = input.groupBy ?? [];
  const groupOf = new Map<string, string>();
  const groupLabels = new Map<string, { key: string; value: string }[]>();
  for (const s of series.data) {
    const labels = groupBy.map((key) => ({ key, value: s.labels[key] ?? '' }));
    const key = JSON.stringify(labels);
    groupOf.set(s.fp, key);
    groupLabels.set(key, labels);
  }

  if (plan.aggregation in QUANTILES && series.data.every((s) => s.type === 'histogram')) {
    return histogramQuantiles(read, input.name, series.data, plan, groupOf, groupLabels, rowsRead);
  }

  const rollup = plan.source === 'ROLLUP_1M';
  const bucket = rollup
    ? `SELECT toString(fingerprint) AS fp, toUnixTimestamp(toStartOfInterval(minute, INTERVAL {step:UInt32} SECOND)) AS t,
         sumMerge(sum_state) AS sum, countMerge(count_state) AS count, minMerge(min_state) AS min, maxMerge(max_state) AS max,
         argMaxMerge(last_state) AS last, quantilesTDigestMerge(0.5, 0.9, 0.95, 0.99)(quantiles_state) AS q
       FROM samples_1m
       WHERE metric = {name:String} AND fingerprint IN {fps:Array(UInt64)}
         AND minute >= toDateTime(intDiv({from:Int64}, 1000), 'UTC') AND minute < toDateTime(intDiv({to:Int64}, 1000), 'UTC')
       GROUP BY fp, t ORDER BY fp, t`
    : `SELECT toString(fingerprint) AS fp, toUnixTimestamp(toStartOfInterval(timestamp, INTERVAL {step:UInt32} SECOND)) AS t,
         sum(value) AS sum, count() AS count, min(value) AS min, max(value) AS max,
         argMax(value, timestamp) AS last, quantilesTDigest(0.5, 0.9, 0.95, 0.99)(value) AS q
       FROM samples
       WHERE metric = {name:String} AND fingerprint IN {fps:Array(UInt64)}
         AND timestamp >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND timestamp < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
       GROUP BY fp, t ORDER BY fp, t`;
  const buckets = await read<BucketRow>(bucket, {
    name: input.name,
    // UInt64 parameters go as bigints: strings would be quoted inside the array.
    fps: series.data.map((s) => BigInt(s.fp)),
    step: plan.stepSeconds,
    from: plan.from,
    to: plan.to,
  });
  rowsRead += buckets.statistics?.rows_read ?? 0;
  const grouped = new Map<string, Map<number, number[]>>();
  const add = (fp: string, t: number, value: number) => {
    const key = groupOf.get(fp)!;
    const byTime = grouped.get(key) ?? new Map<number, number[]>();
    grouped.set(key, byTime);
    const values = byTime.get(t);
    if (values === undefined) byTime.set(t, [value]);
    else values.push(value);
  };
  const rowsBySeries = new Map<string, BucketRow[]>();
  for (const row of buckets.data) {
    const rows = rowsBySeries.get(row.fp);
    if (rows === undefined) rowsBySeries.set(row.fp, [row]);
    else rows.push(row);
  }

  for (const [fp, rows] of rowsBySeries) {
    rows.forEach((row, i) => {
      if (plan.aggregation === 'RATE') {
        const previous = rows[i - 1];
        if (previous === undefined) return;
        // A counter that went down was reset: everything it counts since started from zero.
        const increase = row.last >= previous.last ? row.last - previous.last : row.last;
        add(fp, row.t, increase / ((row.t - previous.t) || plan.stepSeconds));
        return;
      }
      add(fp, row.t, perSeries(plan.aggregation, row));
    });
  }

  const combine = (values: number[], counts: number[]): number => {
    switch (plan.aggregation) {
      case 'MIN':
        return Math.min(...values);
      case 'MAX':
        return Math.max(...values);
      case 'AVG':
        return values.reduce((sum, v, i) => sum + v * (counts[i] ?? 0), 0) / counts.reduce((a, b) => a + b, 0);
      case 'P50':
      case 'P90':
      case 'P95':
      case 'P99':
        return values.reduce((a, b) => a + b, 0) / values.length;
      default:
        return values.reduce((a, b) => a + b, 0);
    }
  };
  // AVG across a group weighs each series' mean by its number of samples.
  const countsAt = new Map<string, number[]>();
  for (const row of buckets.data) {
    const at = `${groupOf.get(row.fp)!}@${row.t}`;
    const counts = countsAt.get(at);
    if (counts === undefined) countsAt.set(at, [Number(row.count)]);
    else counts.push(Number(row.count));
  }

  return {
    source: plan.source,
    rowsRead,
    series: [...grouped].map(([key, byTime]) => ({
      labels: groupLabels.get(key)!,
      points: [...byTime]
        .sort(([a], [b]) => a - b)
        .map(([t, values]) => ({ timestamp: new Date(t * 1000).toISOString(), value: combine(values, countsAt.get(`${key}@${t}`) ?? []) })),
    })),
  };
}

type Read = <T>(query: string, params: Record<string, unknown>) => Promise<{ data: T[]; statistics?: { rows_read: number } }>;

/**
 * Quantiles of histogram metrics, interpolated within buckets: per series and step the buckets it counted (the
 * sum of delta points, or the increase of a cumulative one since the previous step), summed over each group.
 * They read the raw samples, which keep each point's buckets.
 */
async function histogramQuantiles(
  read: Read,
  name: string,
  series: readonly SeriesRow[],
  plan: ReturnType<typeof planQuery>,
  groupOf: ReadonlyMap<string, string>,
  groupLabels: ReadonlyMap<string, { key: string; value: string }[]>,
  rowsRead: number,
): Promise<MetricQueryResult> {
  const result = await read<HistogramRow>(
    `SELECT toString(fingerprint) AS fp, toUnixTimestamp(toStartOfInterval(timestamp, INTERVAL {step:UInt32} SECOND)) AS t,
       argMax(bucket_bounds, timestamp) AS bounds, argMax(bucket_counts, timestamp) AS last_counts,
       sumForEach(bucket_counts) AS sum_counts
     FROM samples
     WHERE metric = {name:String} AND fingerprint IN {fps:Array(UInt64)}
       AND timestamp >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND timestamp < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
     GROUP BY fp, t ORDER BY fp, t`,
    { name, fps: series.map((s) => BigInt(s.fp)), step: plan.stepSeconds, from: plan.from, to: plan.to },
  );
  const temporality = new Map(series.map((s) => [s.fp, s.temporality]));
  const merged = new Map<string, Map<number, { bounds: number[]; counts: number[] }>>();
  let previous: HistogramRow | undefined;
  for (const row of result.data) {
    const cumulative = temporality.get(row.fp) === 'cumulative';
    const last = row.last_counts.map(Number);
    // A cumulative series' first snapshot in the range stands for itself: what it counted since it started.
    const counts = !cumulative
      ? row.sum_counts.map(Number)
      : previous?.fp === row.fp
        ? bucketIncrease(previous.last_counts.map(Number), last)
        : last;
    previous = row;
    const key = groupOf.get(row.fp)!;
    const byTime = merged.get(key) ?? new Map<number, { bounds: number[]; counts: number[] }>();
    merged.set(key, byTime);
    const into = byTime.get(row.t);
    // Buckets add up only with the same bounds; a series with other bounds keeps the step's first layout.
    if (into === undefined) byTime.set(row.t, { bounds: row.bounds, counts });
    else if (into.bounds.join() === row.bounds.join()) into.counts = into.counts.map((c, i) => c + (counts[i] ?? 0));
  }
  const q = [0.5, 0.9, 0.95, 0.99][QUANTILES[plan.aggregation as keyof typeof QUANTILES]]!;
  return {
    source: 'RAW',
    rowsRead: rowsRead + (result.statistics?.rows_read ?? 0),
    series: [...merged].map(([key, byTime]) => ({
      labels: groupLabels.get(key)!,
      points: [...byTime]
        .sort(([a], [b]) => a - b)
        .map(([t, h]) => ({ timestamp: new Date(t * 1000).toISOString(), value: bucketQuantile(q, h.bounds, h.counts) }))
        .filter((p) => !Number.isNaN(p.value)),
    })),
  };
}

/** One series' value for a step bucket. AVG is kept as a per-series mean, weighted by count when grouped. */
function perSeries(aggregation: Exclude<Aggregation, 'RATE'>, row: BucketRow): number {
  switch (aggregation) {
    case 'SUM':
      return row.sum;
    case 'AVG':
      return Number(row.count) === 0 ? 0 : row.sum / Number(row.count);
    case 'MIN':
      return row.min;
    case 'MAX':
      return row.max;
    case 'COUNT':
      return Number(row.count);
    case 'LAST':
      return row.last;
    default:
      return row.q[QUANTILES[aggregation]] ?? Number.NaN;
  }
}
