import { describe, expect, it } from 'vitest';
import { compare, comparisonOf } from './conditions.js';
import { makeMetricCondition, makeRule } from '../rules/alert-rule.fixtures.js';
import type { AlertRule } from '../rules/alert-rule.js';
import {
  type AlertState,
  type InstanceState,
  type Observation,
  type Transition,
  MAX_FLAP_HISTORY,
  flappingCount,
  initialState,
  next,
} from './alert-state-machine.js';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const s = (seconds: number) => T0 + seconds * 1000;

/** One evaluation: seconds after T0, what it saw (a value of the rule's condition, or no data, or a failure), the state expected after it. */
type Row = readonly [seconds: number, seen: number | 'nodata' | 'error' | 'absent', expected: AlertState];

function observe(rule: AlertRule, seconds: number, seen: Row[1]): Observation {
  const at = s(seconds);
  if (seen === 'nodata' || seen === 'absent') return { at, kind: seen };
  if (seen === 'error') return { at, kind: 'error', message: 'metrics: UNAVAILABLE' };
  const [condition] = rule.conditions;
  if (condition === undefined) throw new Error('a rule without conditions');
  const { operator, threshold } = comparisonOf(condition);
  return { at, kind: 'value', value: seen, conditionTrue: compare(operator, seen, threshold) };
}

/** Runs the rows through `next` and returns, per row, the state reached, so a table compares as a whole. */
function play(rule: AlertRule, rows: readonly Row[], start: InstanceState = initialState()) {
  let state = start;
  const transitions: Transition[] = [];
  const reached = rows.map(([seconds, seen]) => {
    const step = next(state, observe(rule, seconds, seen), rule);
    state = step.state;
    if (step.transition !== undefined) transitions.push(step.transition);
    return [seconds, seen, state.state] as const;
  });
  return { reached, state, transitions };
}

function expectTable(rule: AlertRule, rows: readonly Row[]) {
  expect(play(rule, rows).reached).toEqual(rows);
}

// CPU above 90 (fixtures' default condition), evaluated every 30 s.
describe('pending and firing', () => {
  it('fires at once when for is 0', () => {
    expectTable(makeRule({ forMs: 0 }), [
      [0, 50, 'INACTIVE'],
      [30, 95, 'FIRING'],
      [60, 96, 'FIRING'],
    ]);
  });

  it('stays pending for `for`, then fires', () => {
    expectTable(makeRule({ forMs: 60_000 }), [
      [0, 95, 'PENDING'],
      [30, 95, 'PENDING'],
      [60, 95, 'FIRING'],
      [90, 95, 'FIRING'],
    ]);
  });

  it('returns to inactive on a false evaluation while pending, and the next episode starts its own `for`', () => {
    expectTable(makeRule({ forMs: 60_000 }), [
      [0, 95, 'PENDING'],
      [30, 80, 'INACTIVE'],
      [60, 95, 'PENDING'],
      [90, 95, 'PENDING'],
      [120, 95, 'FIRING'],
    ]);
  });

  it('fires at the first evaluation at or after `for` when the interval does not divide it', () => {
    expectTable(makeRule({ forMs: 45_000 }), [
      [0, 95, 'PENDING'],
      [30, 95, 'PENDING'],
      [60, 95, 'FIRING'],
    ]);
  });

  it('records when the episode became active, fired and resolved, and each transition with its value', () => {
    const { state, transitions } = play(makeRule({ forMs: 60_000 }), [
      [0, 95, 'PENDING'],
      [60, 97, 'FIRING'],
      [90, 50, 'RESOLVED'],
    ]);
    expect(state).toMatchObject({ activeAt: s(0), firedAt: s(60), resolvedAt: s(90), value: 50 });
    expect(transitions).toEqual([
      { from: 'INACTIVE', to: 'PENDING', at: s(0), value: 95 },
      { from: 'PENDING', to: 'FIRING', at: s(60), value: 97 },
      { from: 'FIRING', to: 'RESOLVED', at: s(90), value: 50 },
    ]);
  });
});

describe('resolved', () => {
  it('lasts one evaluation, then is inactive while still false', () => {
    expectTable(makeRule(), [
      [0, 95, 'FIRING'],
      [30, 50, 'RESOLVED'],
      [60, 50, 'INACTIVE'],
      [90, 50, 'INACTIVE'],
    ]);
  });

  it('starts a new episode when true again right after', () => {
    const rule = makeRule({ forMs: 60_000 });
    const { reached, state } = play(rule, [
      [0, 95, 'PENDING'],
      [60, 95, 'FIRING'],
      [90, 50, 'RESOLVED'],
      [120, 95, 'PENDING'],
    ]);
    expect(reached.at(-1)).toEqual([120, 95, 'PENDING']);
    expect(state).toMatchObject({ activeAt: s(120), firedAt: null, resolvedAt: null });
  });
});

describe('keepFiringFor', () => {
  it('keeps firing through a dip shorter than keepFiringFor and resolves after one as long', () => {
    expectTable(makeRule({ keepFiringForMs: 120_000 }), [
      [0, 95, 'FIRING'],
      [60, 50, 'FIRING'],
      [120, 95, 'FIRING'],
      [180, 50, 'FIRING'],
      [240, 50, 'FIRING'],
      [300, 50, 'RESOLVED'],
      [360, 50, 'INACTIVE'],
    ]);
  });

  it('does not hold a pending instance', () => {
    expectTable(makeRule({ forMs: 60_000, keepFiringForMs: 120_000 }), [
      [0, 95, 'PENDING'],
      [30, 50, 'INACTIVE'],
    ]);
  });
});

describe('recovery threshold (hysteresis)', () => {
  const rule = makeRule({
    conditions: [makeMetricCondition({ operator: 'GT', threshold: 90 })],
    recoveryThreshold: 80,
  });

  it('keeps firing above 90 until the value falls below 80', () => {
    expectTable(rule, [
      [0, 95, 'FIRING'],
      [30, 85, 'FIRING'],
      [60, 81, 'FIRING'],
      [90, 79, 'RESOLVED'],
      [120, 85, 'INACTIVE'],
      [150, 91, 'FIRING'],
    ]);
  });

  it('resolves at the recovery threshold itself, since GT 80 no longer holds there', () => {
    expectTable(rule, [
      [0, 95, 'FIRING'],
      [30, 80, 'RESOLVED'],
    ]);
  });

  it('works downwards for LT', () => {
    expectTable(
      makeRule({ conditions: [makeMetricCondition({ operator: 'LT', threshold: 10 })], recoveryThreshold: 20 }),
      [
        [0, 5, 'FIRING'],
        [30, 15, 'FIRING'],
        [60, 21, 'RESOLVED'],
      ],
    );
  });

  it('counts keepFiringFor from when the value crossed the recovery threshold', () => {
    expectTable(makeRule({ recoveryThreshold: 80, keepFiringForMs: 60_000 }), [
      [0, 95, 'FIRING'],
      [30, 85, 'FIRING'],
      [60, 70, 'FIRING'],
      [90, 85, 'FIRING'],
      [120, 70, 'FIRING'],
      [180, 70, 'RESOLVED'],
    ]);
  });
});

describe('no data', () => {
  it('NODATA: enters its own state from any state and leaves it on the next value', () => {
    expectTable(makeRule({ noDataState: 'NODATA' }), [
      [0, 95, 'FIRING'],
      [30, 'nodata', 'NODATA'],
      [60, 'nodata', 'NODATA'],
      [90, 50, 'INACTIVE'],
      [120, 'nodata', 'NODATA'],
      [150, 95, 'FIRING'],
    ]);
  });

  it('ALERTING: counts as true, through pending, with no value', () => {
    const rule = makeRule({ noDataState: 'ALERTING', forMs: 60_000 });
    const { reached, state } = play(rule, [
      [0, 'nodata', 'PENDING'],
      [30, 'nodata', 'PENDING'],
      [60, 'nodata', 'FIRING'],
    ]);
    expect(reached.map((r) => r[2])).toEqual(['PENDING', 'PENDING', 'FIRING']);
    expect(state.value).toBeNull();
  });

  it('ALERTING: keeps a firing instance firing, even below its recovery threshold', () => {
    expectTable(makeRule({ noDataState: 'ALERTING', recoveryThreshold: 80 }), [
      [0, 95, 'FIRING'],
      [30, 'nodata', 'FIRING'],
      [60, 70, 'RESOLVED'],
    ]);
  });

  it('OK: counts as false, resolving a firing instance after keepFiringFor', () => {
    expectTable(makeRule({ noDataState: 'OK', keepFiringForMs: 60_000 }), [
      [0, 95, 'FIRING'],
      [30, 'nodata', 'FIRING'],
      [90, 'nodata', 'RESOLVED'],
      [120, 'nodata', 'INACTIVE'],
    ]);
  });

  it('KEEP_LAST: changes nothing, pending and firing alike', () => {
    const rule = makeRule({ noDataState: 'KEEP_LAST', forMs: 60_000 });
    const { reached, state } = play(rule, [
      [0, 95, 'PENDING'],
      [30, 'nodata', 'PENDING'],
      [60, 95, 'FIRING'],
      [90, 'nodata', 'FIRING'],
      [120, 'nodata', 'FIRING'],
    ]);
    expect(reached.map((r) => r[2])).toEqual(['PENDING', 'PENDING', 'FIRING', 'FIRING', 'FIRING']);
    expect(state.value).toBe(95);
  });

  it('KEEP_LAST: still lets RESOLVED last one evaluation only', () => {
    expectTable(makeRule({ noDataState: 'KEEP_LAST' }), [
      [0, 95, 'FIRING'],
      [30, 50, 'RESOLVED'],
      [60, 'nodata', 'INACTIVE'],
    ]);
  });
});

describe('errors', () => {
  it('ERROR: enters its own state with the message, and leaves it on the next value', () => {
    const rule = makeRule({ errorState: 'ERROR' });
    const { reached, state } = play(rule, [
      [0, 95, 'FIRING'],
      [30, 'error', 'ERROR'],
    ]);
    expect(reached.map((r) => r[2])).toEqual(['FIRING', 'ERROR']);
    expect(state).toMatchObject({ error: 'metrics: UNAVAILABLE', value: null });
    expect(next(state, observe(rule, 60, 95), rule).state).toMatchObject({
      state: 'FIRING',
      error: null,
      activeAt: s(60),
    });
  });

  it('ALERTING: counts as true', () => {
    expectTable(makeRule({ errorState: 'ALERTING', forMs: 30_000 }), [
      [0, 'error', 'PENDING'],
      [30, 'error', 'FIRING'],
    ]);
  });

  it('OK: counts as false', () => {
    expectTable(makeRule({ errorState: 'OK' }), [
      [0, 95, 'FIRING'],
      [30, 'error', 'RESOLVED'],
      [60, 'error', 'INACTIVE'],
    ]);
  });

  it('KEEP_LAST: keeps the state and still shows the error', () => {
    const rule = makeRule({ errorState: 'KEEP_LAST' });
    const { state } = play(rule, [
      [0, 95, 'FIRING'],
      [30, 'error', 'FIRING'],
    ]);
    expect(state).toMatchObject({ state: 'FIRING', error: 'metrics: UNAVAILABLE', value: 95 });
  });

  it('moves between NODATA and ERROR as the observations do', () => {
    expectTable(makeRule(), [
      [0, 'nodata', 'NODATA'],
      [30, 'error', 'ERROR'],
      [60, 'nodata', 'NODATA'],
    ]);
  });
});

describe('a label set that went away', () => {
  it('is false for the instance: it resolves after keepFiringFor and keeps its last value', () => {
    const rule = makeRule({ keepFiringForMs: 30_000, recoveryThreshold: 80 });
    const { reached, state } = play(rule, [
      [0, 95, 'FIRING'],
      [30, 'absent', 'FIRING'],
      [60, 'absent', 'RESOLVED'],
    ]);
    expect(reached.map((r) => r[2])).toEqual(['FIRING', 'FIRING', 'RESOLVED']);
    expect(state.value).toBe(95);
  });
});

describe('flapping', () => {
  it('counts the state changes in the last hour', () => {
    const rule = makeRule();
    const rows: Row[] = Array.from({ length: 8 }, (_, i) => [
      i * 600,
      i % 2 === 0 ? 95 : 50,
      i % 2 === 0 ? 'FIRING' : 'RESOLVED',
    ]);
    const { state } = play(rule, rows);
    // Changes at 0, 10, ..., 70 min; the hour up to 70 min holds those after 10 min.
    expect(flappingCount(state, s(4200))).toBe(6);
    expect(flappingCount(state, s(4200 + 3600))).toBe(0);
  });

  it('forgets changes older than an hour as evaluations go on', () => {
    const { state } = play(makeRule(), [
      [0, 95, 'FIRING'],
      [30, 50, 'RESOLVED'],
      [4000, 50, 'INACTIVE'],
    ]);
    expect(state.changes).toEqual([s(4000)]);
  });

  it('keeps at most MAX_FLAP_HISTORY change times, so the count saturates there', () => {
    const rule = makeRule({ keepFiringForMs: 0 });
    const rows: Row[] = Array.from({ length: 300 }, (_, i) => [
      i * 10,
      i % 2 === 0 ? 95 : 50,
      i % 2 === 0 ? 'FIRING' : 'RESOLVED',
    ]);
    const { state } = play(rule, rows);
    expect(state.changes).toHaveLength(MAX_FLAP_HISTORY);
    expect(flappingCount(state, s(2990))).toBe(MAX_FLAP_HISTORY);
  });
});

describe('restored state', () => {
  it('resumes the `for` timer from the stored activeAt after a restart', () => {
    const rule = makeRule({ forMs: 300_000 });
    const before = play(rule, [
      [0, 95, 'PENDING'],
      [60, 95, 'PENDING'],
    ]).state;
    const stored = JSON.parse(JSON.stringify(before)) as InstanceState;
    const after = play(
      rule,
      [
        [240, 95, 'PENDING'],
        [300, 95, 'FIRING'],
      ],
      stored,
    );
    expect(after.reached.map((r) => r[2])).toEqual(['PENDING', 'FIRING']);
    expect(after.state).toMatchObject({ activeAt: s(0), firedAt: s(300) });
  });

  it('resumes a keepFiringFor dip from the stored time it began', () => {
    const rule = makeRule({ keepFiringForMs: 120_000 });
    const stored = JSON.parse(
      JSON.stringify(
        play(rule, [
          [0, 95, 'FIRING'],
          [60, 50, 'FIRING'],
        ]).state,
      ),
    ) as InstanceState;
    expect(play(rule, [[180, 50, 'RESOLVED']], stored).reached).toEqual([[180, 50, 'RESOLVED']]);
  });

  it('ignores an observation not later than the last one evaluated, such as a retried job', () => {
    const rule = makeRule();
    const firing = play(rule, [[60, 95, 'FIRING']]).state;
    expect(next(firing, observe(rule, 60, 50), rule)).toEqual({ state: firing });
    expect(next(firing, observe(rule, 30, 50), rule)).toEqual({ state: firing });
  });
});
