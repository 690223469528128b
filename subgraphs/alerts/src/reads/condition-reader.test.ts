import { describe, expect, it } from 'vitest';
import { heimdallError } from '@heimdall/shared/errors';
import type { GraphQLPeer } from './logs-peer.js';
import { ANOMALY_LOOKBACK_MS, ConditionReader } from './condition-reader.js';
import {
  makeLogAnomalyCondition,
  makeLogCondition,
  makeMetricCondition,
  makeRule,
} from '../rules/alert-rule.fixtures.js';

const AT = Date.UTC(2026, 10, 22, 10, 7, 42);

/** A peer that answers each GraphQL call with `answer` and remembers what it was asked. */
function makePeer(answer: (query: string, variables: Record<string, unknown>) => unknown) {
  const calls: { query: string; variables: Record<string, unknown> }[] = [];
  const peer: GraphQLPeer = {
    graphql: async <T>(query: string, variables: Record<string, unknown> = {}) => {
      calls.push({ query, variables });
      await Promise.resolve();
      return answer(query, variables) as T;
    },
  };
  return { peer, calls };
}

const unused = makePeer(() => {
  throw new Error('not asked');
}).peer;

describe('reading metric conditions', () => {
  it('asks metricQuery for the window grouped by the rule, and answers one value per series with the rows read', async () => {
    const metrics = makePeer(() => ({
      metricQuery: {
        rowsRead: 120,
        series: [
          {
            labels: [{ key: 'host', value: 'a' }],
            timestamps: ['2026-11-22T10:07:20.000Z', '2026-11-22T10:07:30.000Z'],
            values: [91, 97],
          },
        ],
      },
    }));
    const reader = new ConditionReader({ metrics: metrics.peer, logs: unused });
    const rule = makeRule({
      groupBy: ['host'],
      conditions: [
        makeMetricCondition({
          aggregation: 'MAX',
          windowMs: 20_000,
          matchers: [{ key: 'service.name', op: 'EQ', value: 'checkout' }],
        }),
      ],
    });

    const result = await reader.read(rule, AT, 'r1');

    expect(result).toEqual({ reads: [{ ok: true, series: [{ labels: { host: 'a' }, value: 97 }] }], rowsRead: 120 });
    expect(metrics.calls[0]?.variables).toEqual({
      input: {
        name: 'cpu_usage',
        matchers: [{ key: 'service.name', op: 'EQ', value: 'checkout' }],
        range: { from: '2026-11-22T10:07:20.000Z', to: '2026-11-22T10:07:40.000Z' },
        step: '10s',
        aggregation: 'MAX',
        groupBy: ['host'],
      },
    });
  });

  it('turns a failed read into a value naming the subgraph, and tells who is interested', async () => {
    const failures: unknown[] = [];
    const metrics = makePeer(() => {
      throw heimdallError('UNAVAILABLE', {
        message: 'no passing instance of metrics in Consul',
        retryAfterSeconds: 5,
        service: 'metrics',
      });
    });
    const reader = new ConditionReader({
      metrics: metrics.peer,
      logs: unused,
      onFailure: (failure) => failures.push(failure),
    });

    const result = await reader.read(makeRule(), AT, 'r1');

    expect(result.reads).toEqual([{ ok: false, message: 'metrics: no passing instance of metrics in Consul' }]);
    expect(failures).toMatchObject([{ source: 'metrics', rule: 'r1', condition: 0 }]);
  });
});

describe('reading log conditions', () => {
  it('counts the matching entries of the window as one series, 0 included', async () => {
    const logs = makePeer(() => ({ c0: { total: 0 } }));
    const reader = new ConditionReader({ metrics: unused, logs: logs.peer });

    const result = await reader.read(
      makeRule({ conditions: [makeLogCondition({ query: 'timeout', levels: ['ERROR'], windowMs: 300_000 })] }),
      AT,
      'r1',
    );

    expect(result.reads).toEqual([{ ok: true, series: [{ labels: {}, value: 0 }] }]);
    expect(logs.calls[0]?.variables).toEqual({
      f0: {
        query: 'timeout',
        levels: ['ERROR'],
        range: { from: '2026-11-22T10:02:42.000Z', to: '2026-11-22T10:07:42.000Z' },
      },
    });
  });

  it('counts per service, in one request, when the rule groups by service', async () => {
    const logs = makePeer(() => ({ c0: { total: 12 }, c1: { total: 3 } }));
    const reader = new ConditionReader({ metrics: unused, logs: logs.peer });
    const rule = makeRule({
      groupBy: ['service'],
      conditions: [makeLogCondition({ query: '', services: ['checkout', 'cart'], levels: [] })],
    });

    const result = await reader.read(rule, AT, 'r1');

    expect(result.reads).toEqual([
      {
        ok: true,
        series: [
          { labels: { service: 'checkout' }, value: 12 },
          { labels: { service: 'cart' }, value: 3 },
        ],
      },
    ]);
    expect(logs.calls).toHaveLength(1);
    expect(Object.values(logs.calls[0]!.variables).map((f) => (f as { services: string[] }).services)).toEqual([
      ['checkout'],
      ['cart'],
    ]);
  });

  it('reads the highest anomaly score of the lookback, 0 without anomalies', async () => {
    const logs = makePeer((_, variables) => ({
      logVolumeAnomalies: variables.service === 'checkout' ? [{ score: 2.5 }, { score: 4.1 }] : [],
    }));
    const reader = new ConditionReader({ metrics: unused, logs: logs.peer });
    const rule = makeRule({
      match: 'ANY',
      conditions: [makeLogAnomalyCondition({ service: 'checkout' }), makeLogAnomalyCondition({ service: 'cart' })],
    });

    const result = await reader.read(rule, AT, 'r1');

    expect(result.reads).toEqual([
      { ok: true, series: [{ labels: {}, value: 4.1 }] },
      { ok: true, series: [{ labels: {}, value: 0 }] },
    ]);
    expect(logs.calls[0]?.variables).toEqual({
      service: 'checkout',
      from: new Date(AT - ANOMALY_LOOKBACK_MS).toISOString(),
      to: new Date(AT).toISOString(),
    });
  });
});
