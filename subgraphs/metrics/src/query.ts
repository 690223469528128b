import type { ClickHouseClient } from '@clickhouse/client';
import { heimdallError, type ResiliencePolicy } from '@heimdall/shared';
import { type LabelMatcher, labelMatcherClauses } from './matchers.js';
import { bucketQuantile } from './histogram.js';
import { selectCompact } from './clickhouse.js';

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
const QUANTILES = { P50: 0.5, P90: 0.9, P95: 0.95, P99: 0.99 } as const;

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
  /** The values of the groupBy labels, in their order ('' where a series lacks one). */
  group: string[];
  type: string;
  temporality: string;
}

/** How each source answers per step: the rollup merges its minute states, raw aggregates the samples. */
const SOURCES = {
  ROLLUP_1M: {
    table: 'samples_1m',
    time: 'minute',
    // Every minute that overlaps the range: a range that starts mid-minute still gets that minute's bucket.
    range: "minute >= toStartOfMinute(toDateTime(intDiv({from:Int64}, 1000), 'UTC')) AND minute < fromUnixTimestamp64Milli({to:Int64}, 'UTC')",
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
    range: "timestamp >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND timestamp < fromUnixTimestamp64Milli({to:Int64}, 'UTC')",
    sum: 'sum(value)',
    count: 'count()',
    min: 'min(value)',
    max: 'max(value)',
    last: 'argMax(value, timestamp)',
    quantiles: 'quantilesTDigest(0.5, 0.9, 0.95, 0.99)(value)',
    bounds: 'argMax(bucket_bounds, timestamp)',
    sumCounts: 'sumForEach(bucket_counts)',
    lastCounts: 'argMax(bucket_counts, timestamp)',
    quantileLevels: 'argMax(quantile_levels, timestamp)',
    lastQuantiles: 'argMax(quantile_values, timestamp)',
  },
} as const;

type Source = (typeof SOURCES)[keyof typeof SOURCES];

const GROUP = 'transform(fingerprint, {fps:Array(UInt64)}, {groups:Array(UInt32)}, toUInt32(0))';
const STEP_START = (source: Source) => `toUnixTimestamp(toStartOfInterval(${source.time}, INTERVAL {step:UInt32} SECOND))`;
const WHERE = (source: Source) => `metric = {name:String} AND fingerprint IN {fps:Array(UInt64)} AND ${source.range}`;
/** Rows per series in step order, each with the one before it (lagInFrame: 0 or [] on the first row, n = 1). */
const PREVIOUS = 'WINDOW w AS (PARTITION BY fingerprint ORDER BY t ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)';

/**
 * One value per group and step, in SQL: ClickHouse aggregates and only the answer's points come back. SUM, COUNT,
 * MIN, MAX, AVG and the quantiles aggregate the group's samples directly (AVG weighs every sample alike, the
 * quantiles merge the group's digests); LAST and RATE are worked out per series first, then summed.
 */
function scalarSql(aggregation: Aggregation, source: Source, summaries: boolean): string {
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
      const value = { SUM: source.sum, COUNT: source.count, MIN: source.min, MAX: source.max, AVG: `${source.sum} / ${source.count}` }[aggregation];
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
function histogramSql(source: Source): string {
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

/** ISO-8601 of a step start; one string per distinct step, however many series share it. */
function timestamps(): (seconds: number) => string {
  const cache = new Map<number, string>();
  return (seconds) => {
    let iso = cache.get(seconds);
    if (iso === undefined) {
      iso = new Date(seconds * 1000).toISOString();
      cache.set(seconds, iso);
    }
    return iso;
  };
}

/** Runs `metricQuery`: selects the series, then has ClickHouse aggregate the rollup or raw samples per group and step. */
export async function runMetricQuery(
  clickhouse: ClickHouseClient,
  policy: ResiliencePolicy,
  input: MetricQueryInput,
  limits: QueryLimits,
): Promise<MetricQueryResult> {
  const plan = planQuery(input, limits);
  const params: Record<string, unknown> = { name: input.name, limit: limits.maxSeries + 1 };
  const clauses = labelMatcherClauses(input.matchers ?? [], params);
  const read = <T>(query: string, queryParams: Record<string, unknown>) => selectCompact<T>(clickhouse, policy, query, queryParams);

  const groupBy = input.groupBy ?? [];
  groupBy.forEach((key, i) => (params[`g${i}`] = key));
  // Only the labels the answer groups by come back, not every series' whole label set.
  const selected = await read<[string, string[], string, string]>(
    `SELECT toString(fingerprint), [${groupBy.map((_, i) => `labels[{g${i}:String}]`).join(', ')}], type, temporality FROM series FINAL
     WHERE metric = {name:String} ${clauses.map((c) => `AND ${c}`).join(' ')}
     ORDER BY fingerprint LIMIT {limit:UInt32}`,
    params,
  );
  if (selected.rows.length > limits.maxSeries) {
    throw heimdallError('LIMIT_EXCEEDED', {
      message: `the query matches more than ${limits.maxSeries} series (the limit); narrow it with matchers`,
      details: { limit: limits.maxSeries },
    });
  }
  let rowsRead = selected.rowsRead;
  if (selected.rows.length === 0) return { series: [], source: plan.source, rowsRead };
  const series: SeriesRow[] = selected.rows.map(([fp, group, type, temporality]) => ({ fp, group, type, temporality }));

  const groupIndex = new Map<string, number>();
  const groupLabels: { key: string; value: string }[][] = [];
  const groups = series.map((s) => {
    const key = JSON.stringify(s.group);
    let index = groupIndex.get(key);
    if (index === undefined) {
      index = groupLabels.push(groupBy.map((label, i) => ({ key: label, value: s.group[i] ?? '' }))) - 1;
      groupIndex.set(key, index);
    }
    return index;
  });
  const source = SOURCES[plan.source];
  const queryParams = {
    name: input.name,
    // UInt64 parameters go as bigints: strings would be quoted inside the array.
    fps: series.map((s) => BigInt(s.fp)),
    groups,
    step: plan.stepSeconds,
    from: plan.from,
    to: plan.to,
    q: plan.aggregation in QUANTILES ? QUANTILES[plan.aggregation as keyof typeof QUANTILES] : 0,
    deltas: series.map((s) => (s.temporality === 'delta' ? 1 : 0)),
    cumulatives: series.map((s) => (s.temporality === 'cumulative' ? 1 : 0)),
  };
  const iso = timestamps();
  const points = groupLabels.map(() => [] as { timestamp: string; value: number }[]);

  if (plan.aggregation in QUANTILES && series.every((s) => s.type === 'histogram')) {
    const result = await read<[number, number, number[], (number | string)[]]>(histogramSql(source), queryParams);
    rowsRead += result.rowsRead;
    let previous: [number, number] | undefined;
    for (const [g, t, bounds, counts] of result.rows) {
      // A step whose series have several bucket layouts answers from the first one.
      if (previous !== undefined && previous[0] === g && previous[1] === t) continue;
      previous = [g, t];
      const value = bucketQuantile(queryParams.q, bounds, counts.map(Number));
      if (!Number.isNaN(value)) points[g]!.push({ timestamp: iso(t), value });
    }
    return { source: plan.source, rowsRead, series: answer(groupLabels, points) };
  }

  const summaries = series.every((s) => s.type === 'summary');
  const result = await read<[number, [number, number][]]>(
    `SELECT g, arraySort(groupArray((t, toFloat64(v)))) FROM (${scalarSql(plan.aggregation, source, summaries)}) WHERE isFinite(v) GROUP BY g`,
    queryParams,
  );
  rowsRead += result.rowsRead;
  for (const [g, steps] of result.rows) points[g] = steps.map(([t, value]) => ({ timestamp: iso(t), value }));
  return { source: plan.source, rowsRead, series: answer(groupLabels, points) };
}

/** Groups with at least one point, ordered by their label values so that answers are stable. */
function answer(labels: { key: string; value: string }[][], points: { timestamp: string; value: number }[][]): MetricQueryResult['series'] {
  return labels
    .flatMap((l, g) => (points[g]!.length === 0 ? [] : [{ labels: l, points: points[g]! }]))
    .sort((a, b) => compareValues(a.labels, b.labels));
}

/** Label lists of the same keys, by their values in order. */
function compareValues(a: readonly { value: string }[], b: readonly { value: string }[]): number {
  for (let i = 0; i < a.length; i++) {
    const order = a[i]!.value.localeCompare(b[i]!.value);
    if (order !== 0) return order;
  }
  return 0;
}
