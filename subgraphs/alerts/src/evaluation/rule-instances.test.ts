import { describe, expect, it } from 'vitest';
import { type ConditionRead, type Labels, labelSetKey } from './conditions.js';
import {
  type AlertInstance,
  type RuleEvaluation,
  alertLabels,
  evaluateRule,
  renderAnnotations,
  resumeAfterOutage,
} from './rule-instances.js';
import { makeRule } from '../rules/alert-rule.fixtures.js';
import type { AlertRule } from '../rules/alert-rule.js';
import { initialState } from './alert-state-machine.js';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const min = (minutes: number) => T0 + minutes * 60_000;
const a = { service: 'a' };
const b = { service: 'b' };

function values(...series: [Labels, number][]): ConditionRead[] {
  return [{ ok: true, series: series.map(([labels, value]) => ({ labels, value })) }];
}

/** Evaluates the rule at each minute with the given reads, carrying the instances over like the store would. */
function run(rule: AlertRule, evaluations: readonly [minute: number, reads: ConditionRead[]][]): RuleEvaluation[] {
  let instances: readonly AlertInstance[] = [];
  return evaluations.map(([minute, reads]) => {
    const result = evaluateRule(rule, reads, instances, min(minute));
    instances = result.instances;
    return result;
  });
}

function states(result: RuleEvaluation | undefined) {
  return Object.fromEntries((result?.instances ?? []).map((i) => [i.key, i.state.state]));
}

describe('evaluating a rule over its instances', () => {
  it('keeps one instance per label set and reports transitions with their labels', () => {
    const [first] = run(makeRule(), [[0, values([a, 95], [b, 50])]]);
    expect(states(first)).toEqual({ [labelSetKey(a)]: 'FIRING' });
    expect(first?.transitions).toEqual([
      { from: 'INACTIVE', to: 'FIRING', at: min(0), value: 95, key: labelSetKey(a), labels: a },
    ]);
  });

  it('resolves an instance whose series went away, and forgets it once it has been quiet for an hour', () => {
    const results = run(makeRule(), [
      [0, values([a, 95], [b, 95])],
      [1, values([b, 95])],
      [2, values([b, 95])],
      [63, values([b, 95])],
    ]);
    expect(results.map(states)).toEqual([
      { [labelSetKey(a)]: 'FIRING', [labelSetKey(b)]: 'FIRING' },
      { [labelSetKey(a)]: 'RESOLVED', [labelSetKey(b)]: 'FIRING' },
      { [labelSetKey(a)]: 'INACTIVE', [labelSetKey(b)]: 'FIRING' },
      { [labelSetKey(b)]: 'FIRING' },
    ]);
  });

  it('shows a rule that never had data as one NODATA instance without labels, gone once data comes and an hour passes', () => {
    const results = run(makeRule(), [
      [0, values()],
      [1, values([a, 50])],
      [62, values([a, 50])],
    ]);
    expect(results.map(states)).toEqual([{ [labelSetKey({})]: 'NODATA' }, { [labelSetKey({})]: 'INACTIVE' }, {}]);
  });

  it('applies a failed read to every known instance', () => {
    const results = run(makeRule(), [
      [0, values([a, 95], [b, 95])],
      [1, [{ ok: false, message: 'metrics: UNAVAILABLE' }]],
    ]);
    expect(states(results[1])).toEqual({ [labelSetKey(a)]: 'ERROR', [labelSetKey(b)]: 'ERROR' });
    expect(results[1]?.instances.map((i) => i.state.error)).toEqual([
      'conditions[0]: metrics: UNAVAILABLE',
      'conditions[0]: metrics: UNAVAILABLE',
    ]);
  });

  it('stores no instance for label sets that stayed quiet', () => {
    expect(run(makeRule(), [[0, values([a, 10], [b, 20])]])[0]?.instances).toEqual([]);
  });
});

describe('labels and annotations of an instance', () => {
  const rule = makeRule({
    name: 'High CPU',
    labels: { team: 'payments', service: 'rule-wins' },
    annotations: {
      summary: '{{ $labels.alertname }} on {{ $labels.pod }}: {{ $value | printf "%.1f" }}',
      owner: '{{ $labels.team | upper }}',
    },
  });
  const instance = makeFiringInstance(rule, { pod: 'p-1', service: 'checkout' }, 93.46);

  it('adds alertname and the rule labels, which override the series labels', () => {
    expect(alertLabels(rule, instance)).toEqual({
      alertname: 'High CPU',
      pod: 'p-1',
      service: 'rule-wins',
      team: 'payments',
    });
  });

  it('renders the annotations with those labels and the value', () => {
    expect(renderAnnotations(rule, instance)).toEqual({ summary: 'High CPU on p-1: 93.5', owner: 'PAYMENTS' });
  });
});

function makeFiringInstance(rule: AlertRule, labels: Labels, value: number): AlertInstance {
  const [instance] = evaluateRule(rule, values([labels, value]), [], min(0)).instances;
  if (instance === undefined) throw new Error('the instance did not fire');
  return instance;
}

describe('resuming after an evaluator outage', () => {
  const pending = (lastEvaluatedMinute: number): AlertInstance => ({
    labels: a,
    key: labelSetKey(a),
    state: {
      ...initialState(),
      state: 'PENDING',
      value: 95,
      activeAt: min(0),
      lastEvaluatedAt: min(lastEvaluatedMinute),
    },
  });

  it('keeps a PENDING timer across a gap of up to an hour', () => {
    expect(resumeAfterOutage(pending(10), min(70))).toEqual(pending(10));
  });

  it('restarts a PENDING timer after a longer gap, so the alert does not fire on what nobody saw', () => {
    const rule = makeRule({ forMs: 300_000 });
    const resumed = resumeAfterOutage(pending(10), min(71));
    expect(resumed.state.activeAt).toBe(min(71));
    const after = evaluateRule(rule, values([a, 95]), [resumed], min(71));
    expect(after.instances.map((i) => i.state.state)).toEqual(['PENDING']);
    expect(after.transitions).toEqual([]);
  });
});
