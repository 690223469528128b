import { heimdallError } from '@heimdall/shared/errors';
import { badUserInput, durationArgument, rangeArgument } from '@heimdall/shared/user-input';
import { bucketQuantile } from './histogram.js';
import type { LabelMatcher } from './matchers.js';
import { AGGREGATIONS, type Aggregation } from './aggregations.js';
import { MAX_GROUP_BY, MAX_LABEL_KEY_LENGTH, MAX_METRIC_NAME_LENGTH, checkLength, overBound } from './limits.js';
import type { AggregationRequest, MetricsStore } from './store/metrics-store.js';

export interface MetricQueryInput {
  readonly name: string;
  readonly matchers?: readonly LabelMatcher[] | null;
  readonly range: { readonly from: string; readonly to: string };
  readonly step?: string | null;
  readonly aggregation?: Aggregation | null;
  readonly groupBy?: readonly string[] | null;
}

/**
 * One group's points as two columns, step starts in Unix seconds and values: the form ClickHouse answers in and the
 * cheapest to carry. GraphQL derives `columns`, `timestamps`/`values` and `points` from them, each only when asked.
 */
export interface SeriesPointsResult {
  readonly labels: { key: string; value: string }[];
  readonly t: number[];
  readonly v: number[];
  /** The query's step in seconds. */
  readonly step: number;
}

export interface MetricQueryResult {
  readonly series: SeriesPointsResult[];
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

const QUANTILES = { P50: 0.5, P90: 0.9, P95: 0.95, P99: 0.99 } as const;
/** ClickHouse steps by whole seconds (`INTERVAL n SECOND`). */
const STEP_BOUNDS = { min: 1_000, multipleOf: 1_000 };

/** Checks the input and works out the step; every problem names the argument it comes from. */
export function planQuery(input: MetricQueryInput, limits: QueryLimits) {
  checkLength('name', input.name, MAX_METRIC_NAME_LENGTH);
  const groupBy = input.groupBy ?? [];
  if (groupBy.length > MAX_GROUP_BY) throw overBound('groupBy', `${groupBy.length} labels`, MAX_GROUP_BY);
  groupBy.forEach((key, i) => checkLength(`groupBy[${i}]`, key, MAX_LABEL_KEY_LENGTH));
  const { from, to } = rangeArgument('range', input.range, { maxSpanMs: limits.maxRangeMs });
  const step = input.step ?? '1m';
  const stepSeconds = durationArgument('step', step, STEP_BOUNDS) / 1000;
  const points = Math.ceil((to - from) / 1000 / stepSeconds);
  if (points > limits.maxPoints) {
    throw badUserInput(
      'step',
      `the range is too long for a ${step.trim()} step (${points} points; at most ${limits.maxPoints})`,
    );
  }
  const aggregation = input.aggregation ?? 'AVG';
  if (!AGGREGATIONS.includes(aggregation))
    throw badUserInput('aggregation', `unknown aggregation ${String(aggregation)}`);
  // Steps of whole minutes read the rollup; finer steps need the raw samples.
  const source: MetricQueryResult['source'] = stepSeconds % 60 === 0 ? 'ROLLUP_1M' : 'RAW';
  return { from, to, stepSeconds, aggregation, source };
}

/** Runs `metricQuery`: selects the series, then has the store aggregate the rollup or raw samples per group and step. */
export async function runMetricQuery(
  store: MetricsStore,
  input: MetricQueryInput,
  limits: QueryLimits,
): Promise<MetricQueryResult> {
  const plan = planQuery(input, limits);
  const groupBy = input.groupBy ?? [];
  const selected = await store.selectSeries(input.name, input.matchers ?? [], groupBy, limits.maxSeries + 1);
  if (selected.series.length > limits.maxSeries) {
    throw heimdallError('LIMIT_EXCEEDED', {
      message: `the query matches more than ${limits.maxSeries} series (the limit); narrow it with matchers`,
      details: { limit: limits.maxSeries },
    });
  }
  let rowsRead = selected.rowsRead;
  const { series } = selected;
  if (series.length === 0) return { series: [], source: plan.source, rowsRead };

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
  const request: AggregationRequest = {
    name: input.name,
    series,
    groups,
    source: plan.source,
    aggregation: plan.aggregation,
    stepSeconds: plan.stepSeconds,
    fromMs: plan.from,
    toMs: plan.to,
    quantile: plan.aggregation in QUANTILES ? QUANTILES[plan.aggregation as keyof typeof QUANTILES] : 0,
  };
  const columns = groupLabels.map(() => ({ t: [] as number[], v: [] as number[] }));

  if (request.quantile > 0 && series.every((s) => s.type === 'histogram')) {
    const result = await store.histogramBuckets(request);
    rowsRead += result.rowsRead;
    let previous: [number, number] | undefined;
    for (const [g, t, bounds, counts] of result.rows) {
      // A step whose series have several bucket layouts answers from the first one.
      if (previous !== undefined && previous[0] === g && previous[1] === t) continue;
      previous = [g, t];
      const value = bucketQuantile(request.quantile, bounds, counts.map(Number));
      if (Number.isNaN(value)) continue;
      columns[g]!.t.push(t);
      columns[g]!.v.push(value);
    }
    return { source: plan.source, rowsRead, series: answer(groupLabels, columns, plan.stepSeconds) };
  }

  const result = await store.aggregate(
    request,
    series.every((s) => s.type === 'summary'),
  );
  rowsRead += result.rowsRead;
  for (const [g, t, v] of result.rows) columns[g] = { t, v };
  return { source: plan.source, rowsRead, series: answer(groupLabels, columns, plan.stepSeconds) };
}

/** Groups with at least one point, ordered by their label values so that answers are stable. */
function answer(
  labels: { key: string; value: string }[][],
  columns: { t: number[]; v: number[] }[],
  step: number,
): MetricQueryResult['series'] {
  return labels
    .flatMap((l, g) => (columns[g]!.t.length === 0 ? [] : [{ labels: l, ...columns[g]!, step }]))
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
