/**
 * How a metric condition's window becomes metricQuery calls, and their answers one value per series.
 *
 * metricQuery aggregates per step, with steps aligned to the epoch (and whole minutes from the 1-minute rollup).
 * A condition wants one value over its window, so the window is read as the steps that tile it exactly, ending at
 * the last step boundary before the evaluation (`to`), and the steps are combined:
 * - SUM, COUNT: summed; MIN, MAX: the least and greatest; LAST: the last step that has a value.
 * - AVG: the mean of the steps' means, which is the mean of the samples when every step has as many (regular
 *   scrapes) and close to it otherwise. The exact mean (the window's SUM over its COUNT) would take a second
 *   metricQuery, doubling what each evaluation costs ClickHouse (bench/README.md).
 * - RATE and the percentiles do not combine across steps (a counter's increase needs the step before it, a
 *   percentile of percentiles is not one): they read one step as long as the window, the last complete one, and
 *   RATE also the step before it, which its first step's increase is counted from.
 * The step is the longest of 1m, 30s, 15s, 10s, 5s, 1s that divides the window, so a window of whole minutes reads
 * the rollup and an answer is at most one step old (RATE and percentiles: at most one window). Windows count in
 * whole seconds.
 */
import type { Labels, SeriesValue } from '../evaluation/conditions.js';
import type { Aggregation, MetricCondition } from '../rules/alert-rule.js';

const STEPS_S = [60, 30, 15, 10, 5, 1] as const;

/** The metricQuery a condition's window is read with. */
export interface MetricWindowPlan {
  readonly aggregation: Aggregation;
  readonly fromMs: number;
  readonly toMs: number;
  /** A metricQuery step, e.g. "60s". */
  readonly step: string;
  /** Steps that start before this (Unix ms) only prime a RATE and are not counted. */
  readonly countFromMs: number;
}

/** One series of the answer: its labels and its points (step start in ms, value). */
export interface SeriesPoints {
  readonly labels: Labels;
  readonly points: readonly (readonly [number, number])[];
}

function windowSeconds(windowMs: number): number {
  return Math.max(1, Math.round(windowMs / 1000));
}

export function planMetricWindow(
  condition: Pick<MetricCondition, 'aggregation' | 'windowMs'>,
  at: number,
): MetricWindowPlan {
  const window = windowSeconds(condition.windowMs);
  const { aggregation } = condition;
  if (aggregation === 'RATE' || aggregation.startsWith('P')) {
    const toMs = Math.floor(at / (window * 1000)) * window * 1000;
    const fromMs = toMs - window * 1000;
    return {
      aggregation,
      fromMs: aggregation === 'RATE' ? fromMs - window * 1000 : fromMs,
      toMs,
      step: `${window}s`,
      countFromMs: fromMs,
    };
  }
  const step = STEPS_S.find((s) => window % s === 0) ?? 1;
  const toMs = Math.floor(at / (step * 1000)) * step * 1000;
  const fromMs = toMs - window * 1000;
  return { aggregation, fromMs, toMs, step: `${step}s`, countFromMs: fromMs };
}

function combine(aggregation: Aggregation, values: readonly number[]): number {
  switch (aggregation) {
    case 'SUM':
    case 'COUNT':
      return values.reduce((a, b) => a + b, 0);
    case 'MIN':
      return Math.min(...values);
    case 'MAX':
      return Math.max(...values);
    case 'AVG':
      return values.reduce((a, b) => a + b, 0) / values.length;
    default:
      // LAST, and the one-step reads (RATE, percentiles): the last step's value.
      return values[values.length - 1]!;
  }
}

/** One value per series over the window; a series without a point in the window has none. */
export function windowValues(plan: MetricWindowPlan, answer: readonly SeriesPoints[]): SeriesValue[] {
  return answer.flatMap((series) => {
    const values = series.points.filter(([t]) => t >= plan.countFromMs).map(([, v]) => v);
    return values.length === 0 ? [] : [{ labels: series.labels, value: combine(plan.aggregation, values) }];
  });
}
