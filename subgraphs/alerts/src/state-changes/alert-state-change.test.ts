import { describe, expect, it } from 'vitest';
import { labelSetKey } from '../evaluation/conditions.js';
import { makeLogCondition, makeRule } from '../rules/alert-rule.fixtures.js';
import { stateChangeOf } from './alert-state-change.js';
import { initialState } from '../evaluation/alert-state-machine.js';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);

describe('a state change as notifications get it', () => {
  it('carries the rule, the alert labels, the rendered annotations, the times and the flapping count', () => {
    const rule = {
      ...makeRule({
        name: 'CPU',
        labels: { team: 'ops' },
        annotations: { summary: '{{ $labels.host }} {{ $value }}' },
        channels: ['c1'],
      }),
      id: 'r1',
      version: 4,
    };
    const labels = { host: 'a' };
    const state = {
      ...initialState(),
      state: 'FIRING' as const,
      value: 97,
      activeAt: T0,
      firedAt: T0 + 60_000,
      lastEvaluatedAt: T0 + 60_000,
      changes: [T0, T0 + 60_000],
    };

    const change = stateChangeOf(
      rule,
      { labels, key: labelSetKey(labels), state },
      { from: 'PENDING', to: 'FIRING', at: T0 + 60_000, value: 97, key: labelSetKey(labels), labels },
      'evaluation',
    );

    expect(change).toEqual({
      ruleId: 'r1',
      ruleVersion: 4,
      ruleName: 'CPU',
      severity: 'MEDIUM',
      channels: ['c1'],
      notification: {
        groupBy: null,
        groupWaitMs: null,
        groupIntervalMs: null,
        repeatIntervalMs: null,
        sendResolved: null,
      },
      instanceKey: labelSetKey(labels),
      labels: { alertname: 'CPU', host: 'a', team: 'ops' },
      annotations: { summary: 'a 97' },
      from: 'PENDING',
      to: 'FIRING',
      at: '2026-11-22T10:01:00.000Z',
      value: 97,
      activeAt: '2026-11-22T10:00:00.000Z',
      firedAt: '2026-11-22T10:01:00.000Z',
      resolvedAt: null,
      flapping: 2,
      error: null,
      reason: 'evaluation',
      logQueries: [],
    });
  });

  it('carries the log conditions narrowed to the alert’s service, for sample lines', () => {
    const rule = {
      ...makeRule({
        conditions: [makeLogCondition({ query: 'timeout', services: [], levels: ['ERROR'], windowMs: 300_000 })],
        groupBy: ['service'],
      }),
      id: 'r1',
      version: 1,
    };
    const labels = { service: 'checkout' };
    const state = { ...initialState(), state: 'FIRING' as const, activeAt: T0, firedAt: T0 };
    const change = stateChangeOf(
      rule,
      { labels, key: labelSetKey(labels), state },
      { from: 'PENDING', to: 'FIRING', at: T0, value: 12, key: labelSetKey(labels), labels },
      'evaluation',
    );
    expect(change.logQueries).toEqual([
      { query: 'timeout', services: ['checkout'], levels: ['ERROR'], windowMs: 300_000 },
    ]);
  });
});
