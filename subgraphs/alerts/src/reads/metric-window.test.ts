import { describe, expect, it } from 'vitest';
import { type SeriesPoints, planMetricWindow, windowValues } from './metric-window.js';
import { makeMetricCondition } from '../rules/alert-rule.fixtures.js';
import type { Aggregation } from '../rules/alert-rule.js';

/** 10:07:42.5 UTC: mid-minute, mid-step. */
const AT = Date.UTC(2026, 10, 22, 10, 7, 42, 500);
const minute = (m: number, s = 0) => Date.UTC(2026, 10, 22, 10, m, s);
const host = (name: string, points: [number, number][]): SeriesPoints => ({ labels: { host: name }, points });

describe('planning the reads of a metric window', () => {
  it('tiles a window of whole minutes with 1-minute steps (the rollup) ending at the last minute boundary', () => {
    expect(planMetricWindow(makeMetricCondition({ aggregation: 'MAX', windowMs: 300_000 }), AT)).toEqual({
      aggregation: 'MAX',
      fromMs: minute(2),
      toMs: minute(7),
      step: '60s',
      countFromMs: minute(2),
    });
  });

  it.each([
    [10_000, '10s', minute(7, 40)],
    [90_000, '30s', minute(7, 30)],
    [45_000, '15s', minute(7, 30)],
    [7_000, '1s', minute(7, 42)],
  ])('reads a %i ms window in steps of %s', (windowMs, step, toMs) => {
    expect(planMetricWindow(makeMetricCondition({ aggregation: 'SUM', windowMs }), AT)).toMatchObject({
      step,
      toMs,
      fromMs: toMs - windowMs,
    });
  });

  it('reads RATE as one window-long step, with the step before it to count the first increase from', () => {
    expect(planMetricWindow(makeMetricCondition({ aggregation: 'RATE', windowMs: 300_000 }), AT)).toEqual({
      aggregation: 'RATE',
      fromMs: minute(0) - 300_000,
      toMs: minute(5),
      step: '300s',
      countFromMs: minute(0),
    });
  });

  it('reads a percentile as one window-long step', () => {
    expect(planMetricWindow(makeMetricCondition({ aggregation: 'P99', windowMs: 60_000 }), AT)).toEqual({
      aggregation: 'P99',
      fromMs: minute(6),
      toMs: minute(7),
      step: '60s',
      countFromMs: minute(6),
    });
  });
});

describe('one value per series over the window', () => {
  const combined = (aggregation: Aggregation, answer: SeriesPoints[]) =>
    windowValues(planMetricWindow(makeMetricCondition({ aggregation, windowMs: 180_000 }), AT), answer);
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
    ['AVG', 6],
  ])('combines the steps of %s into %d', (aggregation, value) => {
    expect(combined(aggregation, [host('a', steps)])).toEqual([{ labels: { host: 'a' }, value }]);
  });

  it('leaves out a series without a point in the window, so that it counts as missing, not as 0', () => {
    expect(combined('SUM', [host('a', steps), host('b', [])])).toEqual([{ labels: { host: 'a' }, value: 18 }]);
  });

  it('does not count the step that only primes a RATE', () => {
    const plan = planMetricWindow(makeMetricCondition({ aggregation: 'RATE', windowMs: 300_000 }), AT);
    expect(
      windowValues(plan, [
        host('a', [
          [plan.fromMs, 1e9],
          [plan.countFromMs, 2.5],
        ]),
      ]),
    ).toEqual([{ labels: { host: 'a' }, value: 2.5 }]);
  });
});
