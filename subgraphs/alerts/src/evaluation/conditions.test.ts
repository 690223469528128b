import { describe, expect, it } from 'vitest';
import {
  type ConditionRead,
  type Labels,
  compare,
  evaluateConditions,
  holdsForRecovery,
  labelSetKey,
} from './conditions.js';
import {
  makeLogAnomalyCondition,
  makeLogCondition,
  makeMetricCondition,
  makeRule,
} from '../rules/alert-rule.fixtures.js';
import type { Operator } from '../rules/alert-rule.js';

function read(...series: [Labels, number][]): ConditionRead {
  return { ok: true, series: series.map(([labels, value]) => ({ labels, value })) };
}

function summary(evaluation: ReturnType<typeof evaluateConditions>) {
  if (evaluation.kind !== 'values') return evaluation;
  return Object.fromEntries(evaluation.sets.map((s) => [s.key, [s.value, s.conditionTrue]]));
}

const cpuOver90 = makeMetricCondition({ operator: 'GT', threshold: 90 });
const errorsOver10 = makeLogCondition({ operator: 'GT', threshold: 10 });
const a = { service: 'a' };
const b = { service: 'b' };

describe('comparison', () => {
  it.each<[Operator, number, boolean]>([
    ['GT', 90, false],
    ['GT', 90.1, true],
    ['GTE', 90, true],
    ['LT', 90, false],
    ['LT', 89, true],
    ['LTE', 90, true],
    ['EQ', 90, true],
    ['EQ', 91, false],
    ['NE', 91, true],
    ['NE', 90, false],
  ])('%s 90 with %d is %s', (operator, value, expected) => {
    expect(compare(operator, value, 90)).toBe(expected);
  });

  it('never holds for NaN, not even NE', () => {
    for (const operator of ['GT', 'LT', 'EQ', 'NE', 'GTE', 'LTE'] as const)
      expect(compare(operator, Number.NaN, 90)).toBe(false);
  });

  it('treats a log anomaly as reached at its minimum score', () => {
    const rule = makeRule({ conditions: [makeLogAnomalyCondition({ minScore: 3 })] });
    expect(summary(evaluateConditions(rule, [read([{ service: 'checkout' }, 3])]))).toEqual({
      [labelSetKey({ service: 'checkout' })]: [3, true],
    });
  });
});

describe('recovery threshold', () => {
  it('keeps holding while the value has not crossed it, in the direction of the operator', () => {
    const above = makeRule({ recoveryThreshold: 80 });
    expect([85, 80.5, 80, 79].map((v) => holdsForRecovery(above, v))).toEqual([true, true, false, false]);
    const below = makeRule({
      conditions: [makeMetricCondition({ operator: 'LT', threshold: 10 })],
      recoveryThreshold: 20,
    });
    expect([15, 20, 21].map((v) => holdsForRecovery(below, v))).toEqual([true, false, false]);
  });

  it('never holds for a rule without one', () => {
    expect(holdsForRecovery(makeRule(), 1_000)).toBe(false);
  });
});

describe('combining conditions per label set', () => {
  it('evaluates each label set of a single condition on its own', () => {
    const result = evaluateConditions(makeRule(), [read([a, 95], [b, 50])]);
    expect(summary(result)).toEqual({ [labelSetKey(a)]: [95, true], [labelSetKey(b)]: [50, false] });
  });

  it('ALL needs every condition true for the label set and reports the value of the first false one', () => {
    const rule = makeRule({ match: 'ALL', conditions: [cpuOver90, errorsOver10] });
    const result = evaluateConditions(rule, [read([a, 95], [b, 95]), read([a, 20], [b, 5])]);
    expect(summary(result)).toEqual({ [labelSetKey(a)]: [95, true], [labelSetKey(b)]: [5, false] });
  });

  it('ANY needs one condition true and reports the value of the first true one', () => {
    const rule = makeRule({ match: 'ANY', conditions: [cpuOver90, errorsOver10] });
    const result = evaluateConditions(rule, [read([a, 50], [b, 95]), read([a, 20], [b, 5])]);
    expect(summary(result)).toEqual({ [labelSetKey(a)]: [20, true], [labelSetKey(b)]: [95, true] });
  });

  it('reports the first condition with a value when none is true', () => {
    const rule = makeRule({ match: 'ANY', conditions: [cpuOver90, errorsOver10] });
    expect(summary(evaluateConditions(rule, [read([a, 50]), read([a, 5])]))).toEqual({ [labelSetKey(a)]: [50, false] });
  });

  it('applies an ungrouped value to every label set', () => {
    const rule = makeRule({ match: 'ALL', conditions: [cpuOver90, errorsOver10] });
    const result = evaluateConditions(rule, [read([a, 95], [b, 95]), read([{}, 11])]);
    expect(summary(result)).toEqual({ [labelSetKey(a)]: [95, true], [labelSetKey(b)]: [95, true] });
  });

  it('applies a per-service value to every finer label set of that service', () => {
    const rule = makeRule({ match: 'ALL', conditions: [cpuOver90, errorsOver10] });
    const pay = { service: 'a', route: '/pay' };
    const cart = { service: 'a', route: '/cart' };
    const result = evaluateConditions(rule, [read([pay, 95], [cart, 80]), read([a, 11], [b, 50])]);
    expect(summary(result)).toEqual({
      [labelSetKey(pay)]: [95, true],
      [labelSetKey(cart)]: [80, false],
      [labelSetKey(b)]: [50, false],
    });
  });

  it('under ALL, a label set one condition lacks is not true; under ANY the other condition decides', () => {
    const reads = [read([a, 95], [b, 95]), read([a, 11])];
    expect(
      summary(evaluateConditions(makeRule({ match: 'ALL', conditions: [cpuOver90, errorsOver10] }), reads)),
    ).toEqual({
      [labelSetKey(a)]: [95, true],
      [labelSetKey(b)]: [95, false],
    });
    expect(
      summary(evaluateConditions(makeRule({ match: 'ANY', conditions: [cpuOver90, errorsOver10] }), reads)),
    ).toEqual({
      [labelSetKey(a)]: [95, true],
      [labelSetKey(b)]: [95, true],
    });
  });

  it('identifies a label set by its labels, whatever their order', () => {
    const result = evaluateConditions(makeRule({ conditions: [cpuOver90, errorsOver10] }), [
      read([{ service: 'a', route: '/x' }, 95]),
      read([{ route: '/x', service: 'a' }, 11]),
    ]);
    expect(summary(result)).toEqual({ [labelSetKey({ route: '/x', service: 'a' })]: [95, true] });
  });
});

describe('no data and errors', () => {
  it('is nodata when the only condition has no series or only NaN', () => {
    expect(evaluateConditions(makeRule(), [read()])).toEqual({ kind: 'nodata' });
    expect(evaluateConditions(makeRule(), [read([a, Number.NaN])])).toEqual({ kind: 'nodata' });
  });

  it('under ALL is nodata when any condition has no series; under ANY only when none has', () => {
    const reads = [read([a, 95]), read()];
    expect(evaluateConditions(makeRule({ match: 'ALL', conditions: [cpuOver90, errorsOver10] }), reads)).toEqual({
      kind: 'nodata',
    });
    expect(
      summary(evaluateConditions(makeRule({ match: 'ANY', conditions: [cpuOver90, errorsOver10] }), reads)),
    ).toEqual({ [labelSetKey(a)]: [95, true] });
    expect(
      evaluateConditions(makeRule({ match: 'ANY', conditions: [cpuOver90, errorsOver10] }), [read(), read()]),
    ).toEqual({ kind: 'nodata' });
  });

  it('drops a NaN series and keeps the others', () => {
    expect(summary(evaluateConditions(makeRule(), [read([a, Number.NaN], [b, 95])]))).toEqual({
      [labelSetKey(b)]: [95, true],
    });
  });

  it('is an error naming every condition whose read failed', () => {
    const rule = makeRule({ match: 'ANY', conditions: [cpuOver90, errorsOver10] });
    expect(evaluateConditions(rule, [{ ok: false, message: 'metrics: UNAVAILABLE' }, read([a, 1])])).toEqual({
      kind: 'error',
      message: 'conditions[0]: metrics: UNAVAILABLE',
    });
  });
});
