import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localStack } from '@heimdall/stack';
import {
  type AlertsInstance,
  type AlertsSystem,
  alertsSystem,
  counterValue,
  removeQueues,
  startAlerts,
} from '../alerts-server.fixtures.js';
import { EVALUATION_QUEUE } from './evaluation-scheduler.js';
import { STATE_CHANGES_QUEUE } from '../state-changes/state-change-publisher.js';
import type { AlertStateChange } from '../store/index.js';
import { type TestDatabase, createTestDatabase } from '../store/test-database.fixtures.js';

const local = localStack(process.env);
const INTERVAL_MS = 10_000;

/** Polls until `check` holds, for at most `ms`. */
async function eventually<T>(check: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await sleep(200);
  }
}

/**
 * Evaluation on the real Redis and PostgreSQL. No metrics subgraph runs under this system's tag, so every metric
 * read fails: each evaluation is one the rule's errorState decides (ERROR), which is all these tests need.
 */
describe('scheduled evaluation', () => {
  let database: TestDatabase;
  let system: AlertsSystem;
  const instances: AlertsInstance[] = [];
  let schedules: Queue;
  let stateChanges: Queue<AlertStateChange>;
  /** The test's own reads of the store. */
  let pool: pg.Pool;
  const service = `payments-${randomUUID().slice(0, 8)}`;

  const start = async () => {
    const instance = await startAlerts(local, system);
    instances.push(instance);
    return instance;
  };
  const ruleInput = (name: string) => ({
    name,
    labels: [{ key: 'service', value: service }],
    annotations: [{ key: 'summary', value: '{{ $labels.alertname }} on {{ $labels.service }}' }],
    conditions: [{ metric: { name: 'cpu_usage', aggregation: 'MAX', window: '10s', operator: 'GT', threshold: 90 } }],
    evaluationInterval: '10s',
  });
  const create = async (on: AlertsInstance, name: string) => {
    const answer = await on.graphql<{ createAlertRule: { id: string } }>(
      'mutation($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }',
      { input: ruleInput(name) },
    );
    expect(answer.errors).toBeUndefined();
    return answer.data!.createAlertRule.id;
  };
  const evaluationsOf = async (ruleId: string) => {
    const { rows } = await pool.query<{ evaluations: string; last: Date }>(
      'SELECT evaluations, last_evaluated_at AS last FROM alert_rule_evaluations WHERE rule_id = $1',
      [ruleId],
    );
    return rows[0] === undefined
      ? undefined
      : { evaluations: Number(rows[0].evaluations), last: rows[0].last.getTime() };
  };
  const firstChange = async (ruleId: string) => {
    const { rows } = await pool.query<{ at: Date }>(
      'SELECT at FROM alert_state_history WHERE rule_id = $1 ORDER BY id LIMIT 1',
      [ruleId],
    );
    return rows[0] === undefined ? undefined : { at: rows[0].at.getTime() };
  };

  beforeAll(async () => {
    await local.require('postgres', 'redis', 'consul');
    database = await createTestDatabase(local.endpoints.postgresUrl);
    system = alertsSystem(database.url);
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    // Dropping the test database at the end ends connections the pool may still be closing.
    pool.on('error', () => undefined);
    schedules = new Queue(EVALUATION_QUEUE, { connection: { url: local.endpoints.redisUrl }, prefix: system.prefix });
    stateChanges = new Queue<AlertStateChange>(STATE_CHANGES_QUEUE, {
      connection: { url: local.endpoints.redisUrl },
      prefix: system.prefix,
    });
  });
  afterAll(async () => {
    for (const instance of instances) await instance.stop();
    await schedules?.close();
    await stateChanges?.close();
    if (system !== undefined) await removeQueues(local.endpoints.redisUrl, system);
    await pool?.end();
    await database?.drop();
  });

  it(
    'evaluates each rule exactly once per interval with two instances running, neither repeating the other’s work',
    { timeout: 90_000 },
    async () => {
      const [a, b] = [await start(), await start()];
      const rules: string[] = [];
      for (let i = 0; i < 6; i++) rules.push(await create(i % 2 === 0 ? a : b, `twice-${i}`));

      await sleep(3.2 * INTERVAL_MS);
      // Stopping lets evaluations under way finish: what PostgreSQL and the counters hold afterwards is final.
      await a.stop();
      await b.stop();
      const metrics = [await a.metrics(), await b.metrics()];

      let total = 0;
      for (const ruleId of rules) {
        const first = await firstChange(ruleId);
        const evaluated = await evaluationsOf(ruleId);
        // Every scheduled time once, none skipped: the count is the number of intervals from the first to the last.
        expect(evaluated!.evaluations).toBe((evaluated!.last - first!.at) / INTERVAL_MS + 1);
        expect(evaluated!.evaluations).toBeGreaterThanOrEqual(3);
        total += evaluated!.evaluations;
      }
      const byInstance = metrics.map((text) =>
        counterValue(text, 'heimdall_alert_evaluations_total', { outcome: 'error' }),
      );
      // Which instance takes a due evaluation is BullMQ's choice (the one whose worker asks first), so how the work
      // splits is not asserted: only that the two together did each evaluation once.
      expect(byInstance[0]! + byInstance[1]!).toBe(total);
      expect(
        metrics.map((text) => counterValue(text, 'heimdall_alert_evaluations_total', { outcome: 'stale' })),
      ).toEqual([0, 0]);
      expect(
        metrics
          .map((text) => counterValue(text, 'heimdall_alert_read_failures_total', { source: 'metrics' }))
          .reduce((x, y) => x + y),
      ).toBe(total);
    },
  );

  it('follows errorState when a read fails, shows why, and publishes the change for notifications', async () => {
    const alerts = await start();
    const name = `unreadable-${randomUUID().slice(0, 8)}`;
    const ruleId = await create(alerts, name);

    const job = await eventually(async () =>
      (await stateChanges.getJobs(['waiting', 'active', 'completed'])).find((j) => j.data.ruleId === ruleId),
    );

    expect(job.id).toBe(`state-change-${job.data.id}`);
    expect(job.data).toMatchObject({
      ruleId,
      ruleVersion: 1,
      ruleName: name,
      severity: 'MEDIUM',
      channels: [],
      labels: { alertname: name, service },
      annotations: { summary: `${name} on ${service}` },
      from: 'INACTIVE',
      to: 'ERROR',
      value: null,
      // The rules of the test before are restored by this instance too and fail alike: once they have opened the
      // breaker towards metrics, that is the reason given.
      error: expect.stringMatching(
        /^conditions\[0\]: metrics: (no passing instance of metrics in Consul|peer_metrics is unavailable: circuit open)$/,
      ) as string,
      flapping: 1,
      reason: 'evaluation',
    });
    const answer = await alerts.graphql<{
      alerts: {
        state: string;
        error: string;
        labels: { key: string; value: string }[];
        annotations: { key: string; value: string }[];
      }[];
    }>(
      'query($ruleId: ID!) { alerts(filter: { ruleId: $ruleId }) { state error labels { key value } annotations { key value } } }',
      { ruleId },
    );
    expect(answer.data?.alerts).toEqual([
      {
        state: 'ERROR',
        error: job.data.error,
        labels: [
          { key: 'alertname', value: name },
          { key: 'service', value: service },
        ],
        annotations: [{ key: 'summary', value: `${name} on ${service}` }],
      },
    ]);
    const { rows } = await pool.query<{ published: boolean }>(
      'SELECT published_at IS NOT NULL AS published FROM alert_state_history WHERE rule_id = $1',
      [ruleId],
    );
    expect(rows).toEqual([{ published: true }]);
    expect(counterValue(await alerts.metrics(), 'heimdall_alert_state_changes_published_total')).toBeGreaterThanOrEqual(
      1,
    );
  });

  it('restores the schedules from PostgreSQL at start, and a rule whose evaluation throws does not stop the others', async () => {
    for (const instance of instances) await instance.stop();
    const condition = [
      {
        kind: 'metric',
        name: 'cpu_usage',
        matchers: [],
        aggregation: 'MAX',
        windowMs: 10_000,
        operator: 'GT',
        threshold: 90,
      },
    ];
    const insert = async (name: string, annotations: Record<string, string>) => {
      const { rows } = await pool.query<{ id: string }>(
        `INSERT INTO alert_rules (name, conditions, annotations, evaluation_interval_ms) VALUES ($1, $2, $3, 10000) RETURNING id`,
        [name, JSON.stringify(condition), JSON.stringify(annotations)],
      );
      return rows[0]!.id;
    };
    // Written while no alerts instance ran (or Redis lost its data): only PostgreSQL knows them.
    const healthy = await insert('restored', {});
    const broken = await insert('broken', { summary: '{{ $labels.' });
    const orphan = randomUUID();
    await schedules.upsertJobScheduler(
      orphan,
      { every: 60_000, startDate: Date.now() + 3_600_000 },
      { name: 'evaluate', data: { ruleId: orphan, intervalMs: 60_000 } },
    );

    const alerts = await start();

    expect(await schedules.getJobScheduler(orphan)).toBeUndefined();
    const evaluated = await eventually(async () => {
      const healthyRuns = await evaluationsOf(healthy);
      return healthyRuns !== undefined &&
        counterValue(await alerts.metrics(), 'heimdall_alert_evaluations_total', { outcome: 'failed' }) > 0
        ? healthyRuns
        : undefined;
    });
    expect(evaluated.evaluations).toBeGreaterThanOrEqual(1);
    expect(await evaluationsOf(broken)).toBeUndefined();
    expect(await schedules.getJobScheduler(broken)).toMatchObject({ every: 10_000 });
  });
});
