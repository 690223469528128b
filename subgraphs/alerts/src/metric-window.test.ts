import { describe, expect, it } from 'vitest';
import { type SeriesPoints, planMetricWindow, windowValues } from './metric-window.js';
import { makeMetricCondition } from './rule.fixtures.js';
import type { Aggregation } from './rule.js';

/** 10:07:42.5 UTC: mid-minute, mid-step. */
const AT = Date.UTC(2026, 10, 22, 10, 7, 42, 500);
const minute = (m: number, s = 0) => Date.UTC(2026, 10, 22, 10, m, s);
const host = (name: string, points: [number, number][]): SeriesPoints => ({ labels: { host: name }, points });

describe('planning the reads of a metric window', () => {
  it('tiles a window of whole minutes with 1-minute steps (the rollup) ending at the last minute boundary', () => {
    expect(planMetricWindow(makeMetricCondition({ aggregation: 'MAX', windowMs: 300_000 }), AT)).toEqual({
      calls: [{ alias: 'value', aggregation: 'MAX', fromMs: minute(2), toMs: minute(7), step: '60s' }],
      countFromMs: minute(2),
    });
  });

  it.each([
    [10_000, '10s', minute(7, 40)],
    [90_000, '30s', minute(7, 30)],
    [45_000, '15s', minute(7, 30)],
    [7_000, '1s', minute(7, 42)],
  ])('reads a %i ms window in steps of %s', (windowMs, step, toMs) => {
    const [call] = planMetricWindow(makeMetricCondition({ aggregation: 'SUM', windowMs }), AT).calls;
    expect(call).toMatchObject({ step, toMs, fromMs: toMs - windowMs });
  });

  it('reads AVG as the window sum over the window count', () => {
    const plan = planMetricWindow(makeMetricCondition({ aggregation: 'AVG', windowMs: 120_000 }), AT);
    expect(plan.calls.map((c) => [c.alias, c.aggregation])).toEqual([
      ['sum', 'SUM'],
      ['count', 'COUNT'],
    ]);
  });

  it('reads RATE as one window-long step, with the step before it to count the first increase from', () => {
    expect(planMetricWindow(makeMetricCondition({ aggregation: 'RATE', windowMs: 300_000 }), AT)).toEqual({
      calls: [{ alias: 'value', aggregation: 'RATE', fromMs: minute(0) - 300_000, toMs: minute(5), step: '300s' }],
      countFromMs: minute(0),
    });
  });

  it('reads a percentile as one window-long step', () => {
    expect(planMetricWindow(makeMetricCondition({ aggregation: 'P99', windowMs: 60_000 }), AT)).toEqual({
      calls: [{ alias: 'value', aggregation: 'P99', fromMs: minute(6), toMs: minute(7), step: '60s' }],
      countFromMs: minute(6),
    });
  });
});

describe('one value per series over the window', () => {
  const combined = (aggregation: Aggregation, answers: Record<string, SeriesPoints[]>) => {
    const condition = makeMetricCondition({ aggregation, windowMs: 180_000 });
    return windowValues(condition, planMetricWindow(condition, AT), new Map(Object.entries(answers)));
  };
  const steps: [number, number][] = [
    [minute(4), 3],
    [minute(5), 9],
    [minute(6), 6],
  ];

  it.each<[Aggregation, number]>([
    ['SUM', 18],
    ['COUNT', 18],
    ['MIN', 3],
    ['MAX', 9],
    ['LAST', 6],
  ])('combines the steps of %s into %d', (aggregation, value) => {
    expect(combined(aggregation, { value: [host('a', steps)] })).toEqual([{ labels: { host: 'a' }, value }]);
  });

  it('weighs every sample the same in an AVG, whatever step it fell in', () => {
    const value = combined('AVG', {
      sum: [host('a', [[minute(4), 10], [minute(6), 50]])],
      count: [host('a', [[minute(4), 1], [minute(6), 4]])],
    });
    expect(value).toEqual([{ labels: { host: 'a' }, value: 12 }]);
  });

  it('leaves out a series without a point in the window, so that it counts as missing, not as 0', () => {
    expect(combined('SUM', { value: [host('a', steps), host('b', [])] })).toEqual([{ labels: { host: 'a' }, value: 18 }]);
  });

  it('does not count the step that only primes a RATE', () => {
    const condition = makeMetricCondition({ aggregation: 'RATE', windowMs: 300_000 });
    const plan = planMetricWindow(condition, AT);
    const answers = new Map([['value', [host('a', [[plan.calls[0]!.fromMs, 1e9], [plan.countFromMs, 2.5]])]]]);
    expect(windowValues(condition, plan, answers)).toEqual([{ labels: { host: 'a' }, value: 2.5 }]);
  });
});
