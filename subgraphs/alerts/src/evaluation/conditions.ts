/**
 * One evaluation of a rule's conditions: each condition's read (one value per label set) is compared with its
 * threshold, and the results are combined per label set with the rule's `match`.
 *
 * Label sets across conditions: a condition's series applies to an instance's label set when all of the
 * series' labels are in that set, so a condition read without grouping (labels {}) applies to every set, and a
 * per-service log count applies to each {service, route} of a metric condition of that service. The instances
 * are the label sets not contained in another one. When several series of a condition apply, the one with the
 * most labels is used.
 *
 * ALL holds for a label set when every condition has a series for it and each is true; ANY when at least one
 * has a series for it that is true. A condition without a series for the set is not true.
 *
 * No data: ALL needs every condition's data, so any condition without a (numeric) series makes the evaluation
 * `nodata`; ANY is `nodata` only when no condition has one. A NaN value (an aggregation over no samples) is no
 * series. A failed read of any condition makes the whole evaluation `error`.
 *
 * The value reported for an instance is that of the condition that decided it, the first in rule order: when
 * the set is true, the first condition true for it; when false, the first false for it (or, when every
 * condition it has is true but ALL misses one, the first it has).
 */
import type { AlertCondition, AlertRule, Operator } from '../rules/alert-rule.js';

export type Labels = Readonly<Record<string, string>>;

export interface SeriesValue {
  readonly labels: Labels;
  readonly value: number;
}

/** What the evaluator read for one condition: a value per label set, or why it could not read. */
export type ConditionRead =
  { readonly ok: true; readonly series: readonly SeriesValue[] } | { readonly ok: false; readonly message: string };

export interface LabelSetResult {
  readonly labels: Labels;
  /** labelSetKey(labels): the instance's identity within its rule. */
  readonly key: string;
  readonly value: number;
  readonly conditionTrue: boolean;
}

export type Evaluation =
  | { readonly kind: 'values'; readonly sets: readonly LabelSetResult[] }
  | { readonly kind: 'nodata' }
  | { readonly kind: 'error'; readonly message: string };

export interface Comparison {
  readonly operator: Operator;
  readonly threshold: number;
}

/** The comparison a condition makes; a log anomaly is true when its score reaches `minScore`. */
export function comparisonOf(condition: AlertCondition): Comparison {
  return condition.kind === 'logAnomaly'
    ? { operator: 'GTE', threshold: condition.minScore }
    : { operator: condition.operator, threshold: condition.threshold };
}

/** False for NaN, whatever the operator (NE included): no value satisfies a condition. */
export function compare(operator: Operator, value: number, threshold: number): boolean {
  if (Number.isNaN(value)) return false;
  switch (operator) {
    case 'GT':
      return value > threshold;
    case 'GTE':
      return value >= threshold;
    case 'LT':
      return value < threshold;
    case 'LTE':
      return value <= threshold;
    case 'EQ':
      return value === threshold;
    case 'NE':
      return value !== threshold;
  }
}

/**
 * Whether a firing instance's value has not yet crossed the rule's recovery threshold (Grafana's hysteresis:
 * the condition's operator applied to the recovery threshold, so "GT 90, recover 80" keeps firing while > 80).
 * False for a rule without one.
 */
export function holdsForRecovery(rule: Pick<AlertRule, 'conditions' | 'recoveryThreshold'>, value: number): boolean {
  const [condition] = rule.conditions;
  if (rule.recoveryThreshold === null || condition === undefined || rule.conditions.length !== 1) return false;
  return compare(comparisonOf(condition).operator, value, rule.recoveryThreshold);
}

/** A canonical text of a label set (keys sorted), equal for equal sets. */
export function labelSetKey(labels: Labels): string {
  return JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((key) => [key, labels[key]]),
  );
}

function contains(set: Labels, subset: Labels): boolean {
  return Object.entries(subset).every(([key, value]) => Object.hasOwn(set, key) && set[key] === value);
}

interface Indexed {
  readonly labels: Labels;
  readonly key: string;
  readonly size: number;
}

function indexed(series: SeriesValue): Indexed & SeriesValue {
  return { ...series, key: labelSetKey(series.labels), size: Object.keys(series.labels).length };
}

/** The label sets not contained in another; only sets with more labels can contain one. */
function instanceSets(candidates: readonly Indexed[]): Indexed[] {
  const unique = [...new Map(candidates.map((c) => [c.key, c])).values()];
  const largest = unique.reduce((max, c) => Math.max(max, c.size), 0);
  return unique.filter(
    (c) => c.size === largest || !unique.some((other) => other.size > c.size && contains(other.labels, c.labels)),
  );
}

function seriesFor(
  set: Indexed,
  series: readonly (Indexed & SeriesValue)[],
  byKey: ReadonlyMap<string, SeriesValue>,
): SeriesValue | undefined {
  const exact = byKey.get(set.key);
  if (exact !== undefined) return exact;
  let best: (Indexed & SeriesValue) | undefined;
  for (const s of series) {
    if (s.size < set.size && (best === undefined || s.size > best.size) && contains(set.labels, s.labels)) best = s;
  }
  return best;
}

export function evaluateConditions(
  rule: Pick<AlertRule, 'conditions' | 'match'>,
  reads: readonly ConditionRead[],
): Evaluation {
  if (reads.length !== rule.conditions.length)
    throw new Error(`${reads.length} reads for ${rule.conditions.length} conditions`);
  const failures = reads.flatMap((read, i) => (read.ok ? [] : [`conditions[${i}]: ${read.message}`]));
  if (failures.length > 0) return { kind: 'error', message: failures.join('; ') };

  const perCondition = reads.map((read) =>
    read.ok ? read.series.filter((s) => !Number.isNaN(s.value)).map(indexed) : [],
  );
  const withData = perCondition.filter((series) => series.length > 0).length;
  if (withData === 0 || (rule.match === 'ALL' && withData < perCondition.length)) return { kind: 'nodata' };

  const byKey = perCondition.map(
    (series) => new Map<string, SeriesValue>([...series].reverse().map((s) => [s.key, s])),
  );
  const sets = instanceSets(perCondition.flat()).map((set): LabelSetResult => {
    const results = rule.conditions.map((condition, i) => {
      const series = seriesFor(set, perCondition[i] ?? [], byKey[i] ?? new Map());
      if (series === undefined) return undefined;
      const { operator, threshold } = comparisonOf(condition);
      return { value: series.value, holds: compare(operator, series.value, threshold) };
    });
    const present = results.filter((r) => r !== undefined);
    const conditionTrue =
      rule.match === 'ALL'
        ? present.length === results.length && present.every((r) => r.holds)
        : present.some((r) => r.holds);
    const reported = present.find((r) => r.holds === conditionTrue) ?? present[0];
    if (reported === undefined) throw new Error(`label set ${set.key} has no series`);
    return { labels: set.labels, key: set.key, value: reported.value, conditionTrue };
  });
  return { kind: 'values', sets };
}
