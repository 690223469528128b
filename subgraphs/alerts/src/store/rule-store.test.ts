import { describe, expect, it } from 'vitest';
import { makeMetricCondition, makeRule } from '../rules/alert-rule.fixtures.js';
import { ruleDiff } from './rule-store.js';

describe('the audit diff of a rule change', () => {
  it('names only the fields that changed, each with its value before and after', () => {
    const before = makeRule({ labels: { team: 'a', service: 'x' } });
    const after = makeRule({
      labels: { service: 'x', team: 'a' },
      severity: 'HIGH',
      conditions: [makeMetricCondition({ threshold: 95 })],
    });

    expect(ruleDiff(before, after)).toEqual({
      severity: { from: 'MEDIUM', to: 'HIGH' },
      conditions: { from: before.conditions, to: after.conditions },
    });
  });

  it('shows every field as added on creation and as removed on deletion', () => {
    const rule = makeRule();
    expect(ruleDiff(null, rule)).toMatchObject({ name: { from: null, to: 'High CPU' }, forMs: { from: null, to: 0 } });
    expect(Object.keys(ruleDiff(rule, null))).toContain('evaluationIntervalMs');
    expect(ruleDiff(rule, rule)).toEqual({});
  });
});
