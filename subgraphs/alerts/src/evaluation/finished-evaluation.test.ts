import { describe, expect, it } from 'vitest';
import { labelSetKey } from './conditions.js';
import { finishEvaluation, retireInstances } from './finished-evaluation.js';
import { evaluateRule } from './rule-instances.js';
import { initialState } from './alert-state-machine.js';
import { makeRule } from '../rules/alert-rule.fixtures.js';

const AT = Date.UTC(2026, 11, 7, 10, 0, 0);
const rule = {
  ...makeRule({
    name: 'High CPU',
    labels: { team: 'payments' },
    annotations: { summary: '{{ $labels.service }} at {{ $value }}' },
  }),
  id: 'rule-1',
  version: 3,
};
const read = (...series: [service: string, value: number][]) => [
  { ok: true as const, series: series.map(([service, value]) => ({ labels: { service }, value })) },
];

describe('an evaluation finished for the store', () => {
  it('hands over each kept instance with its service, rendered annotations and whether it changed', () => {
    const first = evaluateRule(rule, read(['checkout', 95]), [], AT);
    const second = evaluateRule(rule, read(['checkout', 97], ['cart', 99]), first.instances, AT + 60_000);
    const finished = finishEvaluation(rule, second);
    expect(
      finished.instances.map((i) => ({
        key: i.instance.key,
        service: i.service,
        annotations: i.annotations,
        changed: i.changed,
      })),
    ).toEqual([
      {
        key: labelSetKey({ service: 'checkout' }),
        service: 'checkout',
        annotations: { summary: 'checkout at 97' },
        changed: false,
      },
      { key: labelSetKey({ service: 'cart' }), service: 'cart', annotations: { summary: 'cart at 99' }, changed: true },
    ]);
  });

  it('turns each transition into the state change to record, labelled and annotated', () => {
    const finished = finishEvaluation(rule, evaluateRule(rule, read(['cart', 99]), [], AT));
    expect(finished.changes).toEqual([
      expect.objectContaining({
        ruleId: 'rule-1',
        ruleVersion: 3,
        from: 'INACTIVE',
        to: 'FIRING',
        labels: { alertname: 'High CPU', service: 'cart', team: 'payments' },
        annotations: { summary: 'cart at 99' },
        reason: 'evaluation',
      }),
    ]);
  });
});

describe('retiring the alerts of a disabled or deleted rule', () => {
  it('ends every instance not INACTIVE, saying why', () => {
    const { instances } = evaluateRule(rule, read(['cart', 99]), [], AT);
    const changes = retireInstances(rule, instances, AT + 1_000, 'rule deleted');
    expect(changes).toEqual([
      expect.objectContaining({
        from: 'FIRING',
        to: 'INACTIVE',
        reason: 'rule deleted',
        at: new Date(AT + 1_000).toISOString(),
      }),
    ]);
  });

  it('has nothing to say of instances already INACTIVE', () => {
    const quiet = { labels: { service: 'cart' }, key: labelSetKey({ service: 'cart' }), state: initialState() };
    expect(retireInstances(rule, [quiet], AT, 'rule disabled')).toEqual([]);
  });
});
