import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localStack } from '@heimdall/stack';
import { System } from './system.js';

const local = localStack(process.env);

/** Polls until `check` gives a value, for at most `ms`. */
async function eventually<T>(check: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await sleep(250);
  }
}

interface Alert {
  state: string;
  value: number | null;
  since: string;
  activeAt: string | null;
  firedAt: string | null;
  resolvedAt: string | null;
  lastEvaluatedAt: string | null;
  error: string | null;
  labels: { key: string; value: string }[];
  annotations: { key: string; value: string }[];
}

const ALERT_FIELDS =
  'state value since activeAt firedAt resolvedAt lastEvaluatedAt error labels { key value } annotations { key value }';

/**
 * A rule watching a metric pushed over OTLP through the gateway, evaluated by the alerts subgraph reading the real
 * metrics subgraph (ClickHouse) through its API, every 10 s (the shortest interval a rule may have).
 */
describe('an alert rule over real metrics', () => {
  let system: System;
  let databaseName: string;
  const service = `e2e-checkout-${randomUUID().slice(0, 8)}`;
  let current = 95;
  let pushing: NodeJS.Timeout | undefined;

  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: local.endpoints.postgresUrl });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  /** One gauge point per second of `times` (Unix ms) for host h1, through the gateway's OTLP endpoint. */
  const push = async (times: number[], value: number) => {
    const response = await fetch(`${system.otlpUrl}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await system.authHeaders(['agent'])) },
      body: JSON.stringify({
        resourceMetrics: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'e2e_cpu_percent',
                    gauge: {
                      dataPoints: times.map((t) => ({
                        attributes: [{ key: 'host', value: { stringValue: 'h1' } }],
                        timeUnixNano: String(BigInt(t) * 1_000_000n),
                        asDouble: value,
                      })),
                    },
                  },
                ],
              },
            ],
          },
        ],
      }),
    });
    expect(response.status).toBe(200);
  };
  const query = async <T>(text: string, variables: Record<string, unknown> = {}) => {
    // An editor: the test writes rules and reads them back.
    const response = await fetch(`${system.gateway!.service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await system.authHeaders(['editor'])) },
      body: JSON.stringify({ query: text, variables }),
    });
    return (await response.json()) as {
      data?: T;
      errors?: { message: string; extensions?: Record<string, unknown> }[];
    };
  };
  const ruleInput = {
    name: 'CPU high',
    labels: [
      { key: 'service', value: service },
      { key: 'team', value: 'payments' },
    ],
    annotations: [{ key: 'summary', value: '{{ $labels.host }} at {{ $value | printf "%.0f" }}%' }],
    conditions: [
      {
        metric: {
          name: 'e2e_cpu_percent',
          matchers: [{ key: 'service.name', op: 'EQ', value: service }],
          aggregation: 'MAX',
          window: '10s',
          operator: 'GT',
          threshold: 90,
        },
      },
    ],
    groupBy: ['host'],
    for: '20s',
    evaluationInterval: '10s',
  };
  /** The rule's alerts; none while the gateway has no alerts instance to ask (just after a restart). */
  const alertsOf = async (ruleId: string) => {
    const answer = await query<{ alerts: Alert[] }>(
      `query($ruleId: ID!) { alerts(filter: { ruleId: $ruleId }) { ${ALERT_FIELDS} } }`,
      { ruleId },
    );
    if (answer.errors?.[0]?.extensions?.code === 'UNAVAILABLE') return [];
    expect(answer.errors).toBeUndefined();
    return answer.data!.alerts;
  };
  const inState = (ruleId: string, state: string, ms = 30_000) =>
    eventually(async () => (await alertsOf(ruleId)).find((a) => a.state === state), ms);
  const restartAlerts = async () => {
    await system.stopSubgraph('alerts');
    await system.startSubgraph('alerts');
  };

  beforeAll(async () => {
    await local.require('consul', 'postgres', 'redis', 'elasticsearch');
    databaseName = `heimdall_e2e_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    await admin(`CREATE DATABASE ${databaseName}`);
    const url = new URL(local.endpoints.postgresUrl);
    url.pathname = `/${databaseName}`;
    system = await System.create(local, process.env.CLICKHOUSE_URL, { postgresUrl: url.toString() });
    for (const name of ['metrics', 'logs', 'alerts'] as const) await system.startSubgraph(name);
    await system.startGateway();
    // Half a minute of history, then a point a second from now on.
    const now = Date.now();
    await push(
      Array.from({ length: 30 }, (_, i) => now - (30 - i) * 1000),
      current,
    );
    pushing = setInterval(() => void push([Date.now()], current).catch(() => undefined), 1000);
  });
  afterAll(async () => {
    clearInterval(pushing);
    await system?.stop();
    if (databaseName !== undefined) await admin(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
  });

  it('previews a rule against the metrics as they are now', async () => {
    const answer = await query<{
      previewAlertRule: {
        labels: { key: string; value: string }[];
        value: number;
        state: string;
        annotations: { key: string; value: string }[];
      }[];
    }>(
      'query($input: AlertRuleInput!) { previewAlertRule(input: $input) { labels { key value } value state annotations { key value } } }',
      { input: ruleInput },
    );
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.previewAlertRule).toEqual([
      {
        labels: [
          { key: 'alertname', value: 'CPU high' },
          { key: 'host', value: 'h1' },
          { key: 'service', value: service },
          { key: 'team', value: 'payments' },
        ],
        value: 95,
        state: 'PENDING',
        annotations: [{ key: 'summary', value: 'h1 at 95%' }],
      },
    ]);
  });

  it(
    'goes pending → firing → resolved, keeps its state and its `for` timer across alerts restarts, and errors when metrics are down',
    { timeout: 180_000 },
    async () => {
      const created = await query<{ createAlertRule: { id: string } }>(
        'mutation($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }',
        { input: ruleInput },
      );
      expect(created.errors).toBeUndefined();
      const ruleId = created.data!.createAlertRule.id;

      const pending = await inState(ruleId, 'PENDING');
      expect(pending).toMatchObject({
        value: 95,
        firedAt: null,
        annotations: [{ key: 'summary', value: 'h1 at 95%' }],
      });
      // While the `for` timer runs: a new alerts process must go on from the stored activeAt.
      await restartAlerts();

      const firing = await inState(ruleId, 'FIRING');
      expect(firing.activeAt).toBe(pending.activeAt);
      // Evaluations fall every 10 s from the first: firing on the second after activeAt is `for` 20s, not reset.
      expect(Date.parse(firing.firedAt!) - Date.parse(pending.activeAt!)).toBe(20_000);

      await restartAlerts();
      const restartedAt = Date.now();
      // The next evaluation, by the new process, finds it firing and keeps it so: no change since it fired.
      const kept = await eventually(
        async () => (await alertsOf(ruleId)).find((a) => Date.parse(a.lastEvaluatedAt!) > restartedAt),
        30_000,
      );
      expect(kept).toMatchObject({
        state: 'FIRING',
        since: firing.firedAt,
        firedAt: firing.firedAt,
        activeAt: pending.activeAt,
      });
      // The service's own view, across subgraphs: its active alerts next to its series.
      const serviceView = await query<{
        service: {
          series: { name: string }[];
          alerts: { state: string; annotations: { key: string; value: string }[] }[];
        };
      }>(`{ service(name: "${service}") { series { name } alerts { state annotations { key value } } } }`);
      expect(serviceView.data?.service).toEqual({
        series: [{ name: 'e2e_cpu_percent' }],
        alerts: [{ state: 'FIRING', annotations: [{ key: 'summary', value: 'h1 at 95%' }] }],
      });

      current = 50;
      const resolved = await inState(ruleId, 'RESOLVED', 40_000);
      expect(resolved).toMatchObject({ value: 50, firedAt: firing.firedAt, activeAt: pending.activeAt });

      const history = await query<{ alertHistory: { from: string; to: string; at: string; value: number }[] }>(
        'query($ruleId: ID!, $range: TimeRangeInput!) { alertHistory(ruleId: $ruleId, range: $range) { from to at value } }',
        {
          ruleId,
          range: {
            from: new Date(Date.now() - 600_000).toISOString(),
            to: new Date(Date.now() + 60_000).toISOString(),
          },
        },
      );
      expect(history.data?.alertHistory.slice(0, 3).reverse()).toEqual([
        { from: 'INACTIVE', to: 'PENDING', at: pending.activeAt, value: 95 },
        { from: 'PENDING', to: 'FIRING', at: firing.firedAt, value: 95 },
        { from: 'FIRING', to: 'RESOLVED', at: resolved.resolvedAt, value: 50 },
      ]);

      // The metrics subgraph goes away: the rule's errorState (ERROR) shows what happened.
      await system.crash('metrics');
      const failed = await inState(ruleId, 'ERROR', 40_000);
      expect(failed.error).toMatch(/^conditions\[0\]: metrics: /);
      const metrics = await fetch(`${system.subgraphs.get('alerts')!.service.url}/metrics`).then((r) => r.text());
      expect(metrics).toMatch(/heimdall_alert_read_failures_total\{source="metrics",[^}]*\} [1-9]/);
    },
  );
});
