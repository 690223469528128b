import { describe, expect, it } from 'vitest';
import type { ConditionRead } from '../evaluation/conditions.js';
import { previewRule } from './rule-preview.js';
import { makeRule } from './alert-rule.fixtures.js';

const AT = Date.UTC(2026, 10, 22, 10, 0, 0);
const read = (...series: [string, number][]): ConditionRead[] => [
  { ok: true, series: series.map(([host, value]) => ({ labels: { host }, value })) },
];

describe('previewing an unsaved rule', () => {
  it('shows every label set with its value and the state it would enter, quiet ones included', () => {
    const rule = makeRule({
      forMs: 60_000,
      labels: { team: 'ops' },
      annotations: { summary: '{{ $labels.host }}: {{ $value }}' },
    });

    expect(previewRule(rule, read(['a', 95], ['b', 40]), AT)).toEqual([
      {
        labels: { alertname: 'High CPU', host: 'a', team: 'ops' },
        value: 95,
        state: 'PENDING',
        error: null,
        annotations: { summary: 'a: 95' },
      },
      {
        labels: { alertname: 'High CPU', host: 'b', team: 'ops' },
        value: 40,
        state: 'INACTIVE',
        error: null,
        annotations: { summary: 'b: 40' },
      },
    ]);
  });

  it('fires at once for a rule without `for`', () => {
    expect(previewRule(makeRule(), read(['a', 95]), AT).map((p) => p.state)).toEqual(['FIRING']);
  });

  it('shows no data and a failed read as the rule would take them', () => {
    expect(previewRule(makeRule(), read(), AT)).toMatchObject([
      { labels: { alertname: 'High CPU' }, value: null, state: 'NODATA' },
    ]);
    expect(previewRule(makeRule({ noDataState: 'ALERTING', forMs: 60_000 }), read(), AT)).toMatchObject([
      { state: 'PENDING' },
    ]);
    expect(previewRule(makeRule(), [{ ok: false, message: 'metrics: down' }], AT)).toMatchObject([
      { state: 'ERROR', error: 'conditions[0]: metrics: down' },
    ]);
  });
});
