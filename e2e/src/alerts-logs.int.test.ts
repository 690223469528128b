import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localStack } from '@heimdall/stack';
import { System } from './system.js';

const local = localStack(process.env);

describe('an alert rule over real logs', () => {
  let system: System;
  let databaseName: string;
  const service = `e2e-payments-${randomUUID().slice(0, 8)}`;

  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: local.endpoints.postgresUrl });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  const query = async <T>(text: string, variables: Record<string, unknown> = {}) => {
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
  /** `count` ERROR records of `service` through the gateway's OTLP entry. */
  const pushErrors = async (count: number, body: string) => {
    const now = BigInt(Date.now()) * 1_000_000n;
    const response = await fetch(`${system.otlpUrl}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await system.authHeaders(['agent'])) },
      body: JSON.stringify({
        resourceLogs: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
            scopeLogs: [
              {
                logRecords: Array.from({ length: count }, (_, i) => ({
                  timeUnixNano: String(now + BigInt(i)),
                  severityNumber: 17,
                  body: { stringValue: `${body} #${i}` },
                })),
              },
            ],
          },
        ],
      }),
    });
    expect(response.status).toBe(200);
  };
  const logRule = (logQuery: string) => ({
    name: 'payment timeouts',
    conditions: [
      { log: { query: logQuery, services: [service], levels: ['ERROR'], window: '5m', operator: 'GT', threshold: 3 } },
    ],
    groupBy: ['service'],
    evaluationInterval: '10s',
  });

  beforeAll(async () => {
    await local.require('consul', 'postgres', 'redis', 'elasticsearch');
    databaseName = `heimdall_e2e_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    await admin(`CREATE DATABASE ${databaseName}`);
    const url = new URL(local.endpoints.postgresUrl);
    url.pathname = `/${databaseName}`;
    system = await System.create(local, process.env.CLICKHOUSE_URL, { postgresUrl: url.toString() });
    for (const name of ['metrics', 'logs', 'alerts'] as const) await system.startSubgraph(name);
    await system.startGateway();
  });
  afterAll(async () => {
    await system?.stop();
    if (databaseName !== undefined) await admin(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
  });

  it('refuses a log query the logs subgraph cannot parse, naming the field', async () => {
    const answer = await query('mutation($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }', {
      input: logRule('(timeout AND'),
    });
    expect(answer.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', argument: 'conditions[0].log.query' },
    });
    expect(answer.errors?.[0]?.message).toMatch(/^conditions\[0\]\.log\.query: does not parse/);
  });

  it(
    'fires per service once more matching lines than the threshold are logged in the window',
    { timeout: 120_000 },
    async () => {
      await pushErrors(5, '결제 요청이 timeout 으로 실패했습니다');
      const created = await query<{ createAlertRule: { id: string } }>(
        'mutation($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }',
        {
          input: logRule('timeout'),
        },
      );
      expect(created.errors).toBeUndefined();
      const ruleId = created.data!.createAlertRule.id;

      const deadline = Date.now() + 60_000;
      let alert: { state: string; value: number; labels: { key: string; value: string }[] } | undefined;
      while (Date.now() < deadline && alert?.state !== 'FIRING') {
        await sleep(500);
        const answer = await query<{ alerts: NonNullable<typeof alert>[] }>(
          'query($ruleId: ID!) { alerts(filter: { ruleId: $ruleId }) { state value labels { key value } } }',
          { ruleId },
        );
        alert = answer.data?.alerts[0];
      }
      expect(alert).toEqual({
        state: 'FIRING',
        value: 5,
        labels: [
          { key: 'alertname', value: 'payment timeouts' },
          { key: 'service', value: service },
        ],
      });
    },
  );
});
