import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '@heimdall/shared/auth';
import { makeCaller } from '@heimdall/testkit';
import { localStack } from '@heimdall/stack';
import {
  type AlertsInstance,
  type AlertsSystem,
  alertsSystem,
  removeQueues,
  startAlerts,
} from '../alerts-server.fixtures.js';
import { EVALUATION_QUEUE } from '../evaluation/evaluation-scheduler.js';
import { type TestDatabase, createTestDatabase } from '../store/test-database.fixtures.js';

const local = localStack(process.env);

const RULE_FIELDS = `id name description severity labels { key value } annotations { key value } match
  conditions { metric { name matchers { key op value } aggregation window operator threshold } log { query services levels window operator threshold } logAnomaly { service minScore } }
  for evaluationInterval keepFiringFor groupBy recoveryThreshold noDataState errorState enabled channels version createdAt updatedAt`;

const CREATE = `mutation($input: AlertRuleInput!) { createAlertRule(input: $input) { ${RULE_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $version: Int!, $input: AlertRuleInput!) { updateAlertRule(id: $id, version: $version, input: $input) { ${RULE_FIELDS} } }`;

interface Rule {
  id: string;
  name: string;
  severity: string;
  version: number;
  enabled: boolean;
  for: string;
  evaluationInterval: string;
  conditions: { metric: { window: string; threshold: number } | null }[];
  [field: string]: unknown;
}

describe('the alert rules API', () => {
  let database: TestDatabase;
  let system: AlertsSystem;
  let alerts: AlertsInstance;
  let schedules: Queue;
  const service = `checkout-${randomUUID().slice(0, 8)}`;

  const makeRuleInput = (overrides: Record<string, unknown> = {}) => ({
    name: `High CPU ${randomUUID().slice(0, 8)}`,
    labels: [{ key: 'service', value: service }],
    conditions: [
      {
        metric: {
          name: 'cpu_usage',
          matchers: [{ key: 'service.name', op: 'EQ', value: service }],
          aggregation: 'AVG',
          window: '5m',
          operator: 'GT',
          threshold: 90,
        },
      },
    ],
    // Disabled unless a test says otherwise: nothing here is about evaluations.
    enabled: false,
    ...overrides,
  });
  const create = async (overrides: Record<string, unknown> = {}, caller?: Caller) => {
    const answer = await alerts.graphql<{ createAlertRule: Rule }>(CREATE, { input: makeRuleInput(overrides) }, caller);
    expect(answer.errors).toBeUndefined();
    return answer.data!.createAlertRule;
  };
  const errorOf = (answer: { errors?: { message: string; extensions?: Record<string, unknown> }[] }) => {
    expect(answer.errors).toHaveLength(1);
    return answer.errors![0]!;
  };

  beforeAll(async () => {
    await local.require('postgres', 'redis', 'consul');
    database = await createTestDatabase(local.endpoints.postgresUrl);
    system = alertsSystem(database.url);
    alerts = await startAlerts(local, system);
    schedules = new Queue(EVALUATION_QUEUE, { connection: { url: local.endpoints.redisUrl }, prefix: system.prefix });
  });
  afterAll(async () => {
    await alerts?.stop();
    await schedules?.close();
    if (system !== undefined) await removeQueues(local.endpoints.redisUrl, system);
    await database?.drop();
  });

  describe('create and read', () => {
    it('stores a rule with the defaults applied and shows it as written', async () => {
      const rule = await create({
        enabled: true,
        annotations: [{ key: 'summary', value: '{{ $labels.service }} at {{ $value }}' }],
      });

      expect(rule).toMatchObject({
        severity: 'MEDIUM',
        match: 'ALL',
        for: '0s',
        evaluationInterval: '1m',
        keepFiringFor: '0s',
        noDataState: 'NODATA',
        errorState: 'ERROR',
        enabled: true,
        version: 1,
        groupBy: [],
        channels: [],
        recoveryThreshold: null,
        labels: [{ key: 'service', value: service }],
        annotations: [{ key: 'summary', value: '{{ $labels.service }} at {{ $value }}' }],
        conditions: [
          {
            metric: {
              name: 'cpu_usage',
              matchers: [{ key: 'service.name', op: 'EQ', value: service }],
              aggregation: 'AVG',
              window: '5m',
              operator: 'GT',
              threshold: 90,
            },
            log: null,
            logAnomaly: null,
          },
        ],
      });
      const read = await alerts.graphql<{ alertRule: Rule }>(
        `query($id: ID!) { alertRule(id: $id) { ${RULE_FIELDS} } }`,
        { id: rule.id },
      );
      expect(read.data?.alertRule).toEqual(rule);
    });

    it('lists rules by name a page at a time, filtered by service, severity and enabled', async () => {
      const prefix = `paged-${randomUUID().slice(0, 8)}`;
      for (const [name, severity] of [
        ['b', 'LOW'],
        ['a', 'HIGH'],
        ['c', 'HIGH'],
      ] as const)
        await create({ name: `${prefix} ${name}`, severity });
      const page = (after: string | null) =>
        alerts.graphql<{ alertRules: { nodes: { name: string }[]; endCursor: string | null; hasNextPage: boolean } }>(
          'query($after: String, $search: String) { alertRules(filter: { search: $search }, first: 2, after: $after) { nodes { name } endCursor hasNextPage } }',
          { after, search: prefix },
        );

      const first = (await page(null)).data!.alertRules;
      const second = (await page(first.endCursor)).data!.alertRules;

      expect(first.nodes.map((r) => r.name)).toEqual([`${prefix} a`, `${prefix} b`]);
      expect(first.hasNextPage).toBe(true);
      expect(second).toEqual({
        nodes: [{ name: `${prefix} c` }],
        endCursor: expect.any(String) as string,
        hasNextPage: false,
      });
      const high = await alerts.graphql<{ alertRules: { nodes: { name: string }[] } }>(
        'query($search: String) { alertRules(filter: { search: $search, severities: [HIGH], enabled: false }) { nodes { name } } }',
        { search: prefix },
      );
      expect(high.data?.alertRules.nodes.map((r) => r.name)).toEqual([`${prefix} a`, `${prefix} c`]);
    });

    it('answers a cursor it did not give out with BAD_USER_INPUT', async () => {
      const answer = await alerts.graphql('{ alertRules(after: "nope") { nodes { id } } }');
      expect(errorOf(answer)).toMatchObject({
        message: 'after: not a cursor this list gave out',
        extensions: { code: 'BAD_USER_INPUT', argument: 'after' },
      });
    });

    it('lists a service its rules through Service.rules', async () => {
      const rule = await create();
      const answer = await alerts.graphql<{ _entities: { rules: { id: string }[] }[] }>(
        'query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Service { rules { id } } } }',
        { reps: [{ __typename: 'Service', name: service }] },
      );
      expect(answer.data?._entities[0]?.rules.map((r) => r.id)).toContain(rule.id);
    });
  });

  describe('validation', () => {
    it.each([
      ['empty conditions', { conditions: [] }, 'conditions: must not be empty', 'conditions'],
      [
        'a bad duration',
        { conditions: [{ metric: { name: 'cpu', aggregation: 'AVG', window: '5x', operator: 'GT', threshold: 1 } }] },
        'conditions[0].metric.window: "5x" is not a duration such as 30s, 5m, 1h30m or 1d (unexpected "5x")',
        'conditions[0].metric.window',
      ],
      [
        'a missing threshold',
        { conditions: [{ metric: { name: 'cpu', aggregation: 'AVG', window: '5m', operator: 'GT' } }] },
        'conditions[0].metric.threshold: is required',
        'conditions[0].metric.threshold',
      ],
      [
        'an interval below 10s',
        { evaluationInterval: '5s' },
        'evaluationInterval: must be at least 10s',
        'evaluationInterval',
      ],
      [
        'two kinds in one condition',
        {
          conditions: [
            {
              metric: { name: 'cpu', aggregation: 'AVG', window: '5m', operator: 'GT', threshold: 1 },
              logAnomaly: { service: 'a', minScore: 3 },
            },
          ],
        },
        'conditions[0]: has metric and logAnomaly; a condition is exactly one of them',
        'conditions[0]',
      ],
      [
        'a recovery threshold on the wrong side',
        { recoveryThreshold: 95 },
        'recoveryThreshold: must be below the threshold 90: a rule firing above it resolves once the value falls to the recovery threshold',
        'recoveryThreshold',
      ],
    ])('refuses %s with BAD_USER_INPUT naming the field', async (_, overrides, message, argument) => {
      const answer = await alerts.graphql(CREATE, { input: makeRuleInput(overrides) });
      expect(errorOf(answer)).toMatchObject({ message, extensions: { code: 'BAD_USER_INPUT', argument } });
    });

    it('reports every problem, the first in the message and all in the details', async () => {
      const answer = await alerts.graphql(CREATE, { input: makeRuleInput({ name: ' ', for: 'soon' }) });
      expect(errorOf(answer)).toMatchObject({
        message: 'name: must not be empty (and 1 more)',
        extensions: {
          code: 'BAD_USER_INPUT',
          errors: [
            { field: 'name', message: 'must not be empty' },
            { field: 'for', message: '"soon" is not a duration such as 30s, 5m, 1h30m or 1d (unexpected "soon")' },
          ],
        },
      });
    });

    it('leaves an unknown aggregation to GraphQL, which names where it is', async () => {
      const input = makeRuleInput({
        conditions: [{ metric: { name: 'cpu', aggregation: 'MEDIAN', window: '5m', operator: 'GT', threshold: 1 } }],
      });
      const error = errorOf(await alerts.graphql(CREATE, { input }));
      expect(error.extensions?.code).toBe('BAD_USER_INPUT');
      expect(error.message).toContain(
        'at "input.conditions[0].metric.aggregation"; Value "MEDIAN" does not exist in "Aggregation" enum.',
      );
    });

    it('cannot check a log query while the logs subgraph is unreachable, and says so', async () => {
      const input = makeRuleInput({
        conditions: [{ log: { query: 'timeout', window: '5m', operator: 'GT', threshold: 10 } }],
      });
      expect(errorOf(await alerts.graphql(CREATE, { input }))).toMatchObject({
        message: 'no passing instance of logs in Consul',
        extensions: { code: 'UNAVAILABLE', service: 'logs' },
      });
    });
  });

  describe('updates and optimistic concurrency', () => {
    it('replaces the fields, bumps the version and records who changed what', async () => {
      const rule = await create({}, makeCaller(['editor'], 'alice@example.com'));

      const answer = await alerts.graphql<{ updateAlertRule: Rule }>(
        UPDATE,
        { id: rule.id, version: 1, input: makeRuleInput({ name: rule.name, severity: 'CRITICAL', for: '2m' }) },
        makeCaller(['editor'], 'bob@example.com'),
      );

      expect(answer.data?.updateAlertRule).toMatchObject({ version: 2, severity: 'CRITICAL', for: '2m' });
      const changes = await alerts.graphql<{
        alertRule: { changes: { action: string; actor: string; version: number; diff: string }[] };
      }>('query($id: ID!) { alertRule(id: $id) { changes { action actor version diff } } }', { id: rule.id });
      const [update, creation] = changes.data!.alertRule.changes;
      expect(update).toMatchObject({ action: 'UPDATE', actor: 'bob@example.com', version: 2 });
      expect(JSON.parse(update!.diff)).toEqual({
        severity: { from: 'MEDIUM', to: 'CRITICAL' },
        forMs: { from: 0, to: 120_000 },
      });
      expect(creation).toMatchObject({ action: 'CREATE', actor: 'alice@example.com', version: 1 });
      expect(JSON.parse(creation!.diff)).toMatchObject({
        name: { from: null, to: rule.name },
        severity: { from: null, to: 'MEDIUM' },
      });
    });

    it('refuses an update made against a version that is no longer current with CONFLICT', async () => {
      const rule = await create();
      await alerts.graphql(UPDATE, {
        id: rule.id,
        version: 1,
        input: makeRuleInput({ name: rule.name, severity: 'HIGH' }),
      });

      const stale = await alerts.graphql(UPDATE, {
        id: rule.id,
        version: 1,
        input: makeRuleInput({ name: rule.name, severity: 'LOW' }),
      });

      expect(errorOf(stale)).toMatchObject({
        message: `alert rule ${rule.id} is at version 2, not 1: someone changed it since you read it; read it again and reapply your change`,
        extensions: { code: 'CONFLICT', id: rule.id, version: 1, currentVersion: 2 },
      });
      const read = await alerts.graphql<{ alertRule: Rule }>(
        'query($id: ID!) { alertRule(id: $id) { severity version } }',
        { id: rule.id },
      );
      expect(read.data?.alertRule).toEqual({ severity: 'HIGH', version: 2 });
    });

    it('lets exactly one of two concurrent updates of the same version through', async () => {
      const rule = await create();
      const answers = await Promise.all(
        (['HIGH', 'LOW'] as const).map((severity) =>
          alerts.graphql(UPDATE, { id: rule.id, version: 1, input: makeRuleInput({ name: rule.name, severity }) }),
        ),
      );
      expect(answers.map((a) => a.errors?.[0]?.extensions?.code ?? 'ok').sort()).toEqual(['CONFLICT', 'ok']);
    });

    it('answers NOT_FOUND for a rule that does not exist and BAD_USER_INPUT for an id that cannot be one', async () => {
      const missing = randomUUID();
      expect(errorOf(await alerts.graphql(UPDATE, { id: missing, version: 1, input: makeRuleInput() }))).toMatchObject({
        message: `no alert rule with id ${missing}`,
        extensions: { code: 'NOT_FOUND' },
      });
      expect(errorOf(await alerts.graphql(UPDATE, { id: 'rule-1', version: 1, input: makeRuleInput() }))).toMatchObject(
        {
          message: 'id: "rule-1" is not a rule id (a UUID)',
          extensions: { code: 'BAD_USER_INPUT', argument: 'id' },
        },
      );
    });
  });

  describe('enabling, disabling and deleting', () => {
    const ENABLE =
      'mutation($id: ID!, $enabled: Boolean!, $version: Int) { setAlertRuleEnabled(id: $id, enabled: $enabled, version: $version) { enabled version } }';
    const DELETE = 'mutation($id: ID!, $version: Int) { deleteAlertRule(id: $id, version: $version) }';

    it('schedules an enabled rule at its interval, reschedules it when the interval changes and unschedules it when disabled', async () => {
      const rule = await create({ enabled: true, evaluationInterval: '30s' });
      expect(await schedules.getJobScheduler(rule.id)).toMatchObject({ every: 30_000 });

      await alerts.graphql(UPDATE, {
        id: rule.id,
        version: 1,
        input: makeRuleInput({ name: rule.name, enabled: true, evaluationInterval: '45s' }),
      });
      expect(await schedules.getJobScheduler(rule.id)).toMatchObject({ every: 45_000 });

      const disabled = await alerts.graphql<{ setAlertRuleEnabled: { enabled: boolean; version: number } }>(ENABLE, {
        id: rule.id,
        enabled: false,
      });
      expect(disabled.data?.setAlertRuleEnabled).toEqual({ enabled: false, version: 3 });
      expect(await schedules.getJobScheduler(rule.id)).toBeUndefined();

      const enabled = await alerts.graphql<{ setAlertRuleEnabled: { enabled: boolean; version: number } }>(ENABLE, {
        id: rule.id,
        enabled: true,
        version: 3,
      });
      expect(enabled.data?.setAlertRuleEnabled).toEqual({ enabled: true, version: 4 });
      expect(await schedules.getJobScheduler(rule.id)).toMatchObject({ every: 45_000 });
    });

    it('deletes a rule once (a retried delete answers false), unschedules it and keeps its audit trail', async () => {
      const rule = await create({ enabled: true }, makeCaller(['editor'], 'carol'));

      expect(errorOf(await alerts.graphql(DELETE, { id: rule.id, version: 7 })).extensions).toMatchObject({
        code: 'CONFLICT',
        currentVersion: 1,
      });
      expect(
        (
          await alerts.graphql<{ deleteAlertRule: boolean }>(
            DELETE,
            { id: rule.id, version: 1 },
            makeCaller(['editor'], 'carol'),
          )
        ).data,
      ).toEqual({ deleteAlertRule: true });
      expect((await alerts.graphql<{ deleteAlertRule: boolean }>(DELETE, { id: rule.id })).data).toEqual({
        deleteAlertRule: false,
      });

      expect(
        (await alerts.graphql<{ alertRule: null }>('query($id: ID!) { alertRule(id: $id) { id } }', { id: rule.id }))
          .data,
      ).toEqual({ alertRule: null });
      expect(await schedules.getJobScheduler(rule.id)).toBeUndefined();
      const { rows } = await alerts.pool.query<{ action: string; actor: string }>(
        'SELECT action, actor FROM alert_rule_audit WHERE rule_id = $1 ORDER BY id',
        [rule.id],
      );
      expect(rows).toEqual([
        { action: 'create', actor: 'carol' },
        { action: 'delete', actor: 'carol' },
      ]);
    });
  });
  it('keeps answering after PostgreSQL ends its connections (a restart or failover), on new ones', async () => {
    const count = () => alerts.graphql<{ alerts: unknown[] }>('{ alerts(first: 1) { state } }');
    expect((await count()).errors).toBeUndefined();
    // What a PostgreSQL restart does to the service's idle connections.
    const admin = new pg.Client({ connectionString: local.endpoints.postgresUrl });
    await admin.connect();
    const { rowCount } = await admin
      .query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [
        new URL(database.url).pathname.slice(1),
      ])
      .finally(() => admin.end());
    expect(rowCount).toBeGreaterThan(0);
    await sleep(200);

    expect((await count()).errors).toBeUndefined();
  });
});
