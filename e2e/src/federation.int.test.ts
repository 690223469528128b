import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test as base, beforeAll, describe, expect } from 'vitest';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import pg from 'pg';
import { loadConfig, serviceEnvSchema } from '@heimdall/shared/config';
import { createSubgraphPlatform, serveSubgraphSchema } from '@heimdall/shared/graphql';
import type { Platform } from '@heimdall/shared/http';
import { REPO_DIR, localStack } from '@heimdall/stack';
import { type GraphQLErrorBody, System } from './system.js';

const local = localStack(process.env);
const fullQuery = (service: string) => `{ service(name: "${service}") {
  name
  series { name labels { key value } }
  logs(limit: 1) { message level }
  operations { name }
  rules { name severity }
} }`;

interface ServiceAnswer {
  service: {
    name: string;
    series: { name: string; labels: { key: string; value: string }[] }[] | null;
    logs: { message: string; level: string }[] | null;
    operations: { name: string }[] | null;
    rules: { name: string; severity: string }[] | null;
  };
}

/** Polls until `check` holds, for at most `ms`; returns whether it did. */
async function eventually(check: () => Promise<boolean>, ms = 20_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(200);
  }
  return false;
}

/** One record of `service` in each subgraph's store, so each field proves it read its real store. */
async function seedStores(system: System, service: string): Promise<void> {
  await system.clickhouse.insert({
    table: 'series',
    values: [
      {
        fingerprint: '42',
        metric: 'http_requests_total',
        type: 'sum',
        unit: '1',
        description: 'requests',
        service,
        labels: { service, route: '/pay' },
        last_seen: Date.now(),
      },
    ],
    format: 'JSONEachRow',
  });
  await system.elasticsearch.index({
    index: 'logs',
    refresh: true,
    document: { timestamp: new Date().toISOString(), level: 'ERROR', message: '결제 요청이 실패했습니다', service },
  });
  await system.pool.query(`INSERT INTO alert_rules (name, severity, labels) VALUES ($1, 'high', $2)`, [
    'checkout error rate',
    JSON.stringify({ service }),
  ]);
  const now = BigInt(Date.now()) * 1_000_000n;
  const posted = await fetch(`${local.endpoints.jaegerOtlpHttpUrl}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: randomBytes(16).toString('hex'),
                  spanId: randomBytes(8).toString('hex'),
                  name: 'POST /pay',
                  kind: 2,
                  startTimeUnixNano: String(now - 1_000_000n),
                  endTimeUnixNano: String(now),
                },
              ],
            },
          ],
        },
      ],
    }),
  });
  expect(posted.status).toBe(200);
}

const expected = (service: string): ServiceAnswer['service'] => ({
  name: service,
  series: [
    {
      name: 'http_requests_total',
      labels: [
        { key: 'route', value: '/pay' },
        { key: 'service', value: service },
      ],
    },
  ],
  logs: [{ message: '결제 요청이 실패했습니다', level: 'ERROR' }],
  operations: [{ name: 'POST /pay' }],
  rules: [{ name: 'checkout error rate', severity: 'HIGH' }],
});

/**
 * Each test gets a system of its own (its own Consul tag, ClickHouse folder, gateway and subgraphs) and a service
 * name of its own for the data it seeds, so no test reads what another wrote; the system stops after the test.
 */
const it = base.extend<{ system: System; service: string; seeded: () => Promise<void> }>({
  // eslint-disable-next-line no-empty-pattern -- vitest reads the fixtures a test uses from this parameter's pattern
  system: async ({}, use) => {
    const system = await System.create(local, process.env.CLICKHOUSE_URL);
    await use(system);
    await system.stop();
  },
  // eslint-disable-next-line no-empty-pattern
  service: async ({}, use) => use(`checkout-${randomUUID().slice(0, 8)}`),
  /** Seeds each store with the test's service; the rules it adds are deleted after the test. */
  seeded: async ({ system, service }, use) => {
    let seeded = false;
    await use(async () => {
      await seedStores(system, service);
      seeded = true;
    });
    if (!seeded) return;
    const cleanup = new pg.Client({ connectionString: local.endpoints.postgresUrl });
    await cleanup.connect();
    await cleanup.query(`DELETE FROM alert_rules WHERE labels ->> 'service' = $1`, [service]);
    await cleanup.end();
  },
});

/** Starts the four subgraphs (and the gateway, unless it runs), seeds the stores and waits until the whole answer is there. */
async function startAll(
  system: System,
  service: string,
  seed: () => Promise<void>,
  gatewayEnv: Record<string, string> = {},
): Promise<void> {
  for (const name of ['metrics', 'logs', 'traces', 'alerts'] as const) await system.startSubgraph(name);
  if (system.gateway === undefined) await system.startGateway(gatewayEnv);
  await seed();
  const answered = await eventually(async () => {
    const result = await system.query<ServiceAnswer>(fullQuery(service));
    return result.errors === undefined && (result.data?.service.operations?.length ?? 0) > 0;
  });
  expect(answered).toBe(true);
}

describe('the federated system', () => {
  beforeAll(() => local.require('consul', 'elasticsearch', 'jaeger', 'postgres', 'redis'));

  it('starts before its subgraphs and answers one query with every signal, each read by its own subgraph from its store', async ({
    system,
    service,
    seeded,
  }) => {
    await system.startGateway({ SUBGRAPH_RETENTION_MS: '600000' });
    expect(await system.query(`{ service(name: "${service}") { name } }`)).toEqual({
      data: { service: { name: service } },
    });

    await startAll(system, service, seeded);

    const result = await system.query<ServiceAnswer>(fullQuery(service));
    expect(result.errors).toBeUndefined();
    expect(result.data?.service).toEqual(expected(service));
  });

  it('answers with the other parts and an UNAVAILABLE error when a subgraph dies, and recovers when it is back', async ({
    system,
    service,
    seeded,
  }) => {
    await startAll(system, service, seeded, { SUBGRAPH_RETENTION_MS: '600000' });
    await system.crash('metrics');

    const partial = await system.query<ServiceAnswer>(fullQuery(service));
    expect(partial.data?.service).toEqual({ ...expected(service), series: null });
    expect(partial.errors).toEqual([
      expect.objectContaining({
        path: ['service', 'series'],
        extensions: expect.objectContaining({ code: 'UNAVAILABLE', service: 'metrics' }) as unknown,
      }) as GraphQLErrorBody,
    ]);

    // Enough failures in the window open the breaker, which then answers at once without calling out.
    for (let i = 0; i < 6; i++) await system.query(fullQuery(service));
    const metrics = await (await fetch(`${system.gateway!.service.url}/metrics`)).text();
    expect(metrics).toMatch(/heimdall_circuit_breaker_state\{policy="subgraph_metrics"[^}]*\} 2/);

    await system.startSubgraph('metrics');
    const recovered = await eventually(
      async () => (await system.query<ServiceAnswer>(fullQuery(service))).errors === undefined,
    );
    expect(recovered).toBe(true);
    expect((await system.query<ServiceAnswer>(fullQuery(service))).data?.service).toEqual(expected(service));
  });

  it('takes OTLP metrics at the gateway and answers metricQuery through it, rollup and raw agreeing', async ({
    system,
    service,
  }) => {
    await system.startSubgraph('metrics');
    await system.startGateway();
    const now = Date.now();
    const points = Array.from({ length: 120 }, (_, i) => ({ ms: now - 3 * 60_000 + i * 1000, value: i % 10 }));
    const body = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'queue_depth',
                  gauge: {
                    dataPoints: points.map((p) => ({
                      timeUnixNano: String(BigInt(p.ms) * 1_000_000n),
                      asDouble: p.value,
                    })),
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const pushed = await fetch(`${system.otlpUrl!}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await system.authHeaders(['agent'])) },
      body: JSON.stringify(body),
    });
    expect(pushed.status).toBe(200);

    const from = new Date(now - 10 * 60_000).toISOString();
    const to = new Date(now + 60_000).toISOString();
    const query = (step: string) =>
      system.query<{ metricQuery: { source: string; series: { points: { value: number }[] }[] } }>(
        `{ metricQuery(input: { name: "queue_depth", matchers: [{ key: "service.name", op: EQ, value: "${service}" }],
            range: { from: "${from}", to: "${to}" }, step: "${step}", aggregation: SUM }) { source series { points { value } } } }`,
      );
    const total = (result: Awaited<ReturnType<typeof query>>) =>
      result.data!.metricQuery.series.flatMap((s) => s.points).reduce((sum, p) => sum + p.value, 0);
    const rollup = await query('1m');
    const raw = await query('15s');
    expect(rollup.data?.metricQuery.source).toBe('ROLLUP_1M');
    expect(raw.data?.metricQuery.source).toBe('RAW');
    expect(total(rollup)).toBe(points.reduce((sum, p) => sum + p.value, 0));
    expect(total(raw)).toBe(total(rollup));

    const unknownSignal = await fetch(`${system.otlpUrl!}/v1/profiles`, {
      method: 'POST',
      body: '{}',
      headers: await system.authHeaders(['agent']),
    });
    expect(unknownSignal.status).toBe(404);
  });

  it('keeps serving the previous supergraph when a new subgraph does not compose', async ({
    system,
    service,
    seeded,
  }) => {
    await startAll(system, service, seeded);
    const outcomes: boolean[] = [];
    system.gateway!.supergraph.onComposition((event) => outcomes.push(event.ok));
    const rogue = await startConflictingSubgraph(system);
    try {
      expect(await eventually(() => Promise.resolve(outcomes.includes(false)))).toBe(true);
      const result = await system.query<ServiceAnswer>(fullQuery(service));
      expect(result.errors).toBeUndefined();
      expect(result.data?.service).toEqual(expected(service));

      // A later change still composes while the bad subgraph is registered: a restarted subgraph comes back.
      await system.crash('logs');
      await system.startSubgraph('logs');
      const composedAfter = outcomes.length;
      expect(await eventually(() => Promise.resolve(outcomes.slice(composedAfter).includes(true)))).toBe(true);
      expect((await system.query<ServiceAnswer>(fullQuery(service))).data?.service).toEqual(expected(service));
    } finally {
      await rogue.service.stop();
    }
  });

  it('removes an instance from Consul when its process gets SIGTERM', async ({ system }) => {
    const instanceId = `traces-e2e-${randomUUID().slice(0, 8)}`;
    // As `npm start` runs it: not under vitest's NODE_ENV=test, which changes how Apollo Server handles signals.
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => key !== 'NODE_ENV' && !key.startsWith('VITEST')),
    );
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO_DIR, 'subgraphs', 'traces', 'src', 'main.ts')],
      {
        env: { ...inherited, ...system.env(), SERVICE_INSTANCE_ID: instanceId, LOG_LEVEL: 'info' },
        stdio: 'ignore',
      },
    );
    const registered = async () =>
      (await system.consul.passing('traces', undefined, system.tag)).instances.some((i) => i.id === instanceId);
    expect(await eventually(registered, 30_000)).toBe(true);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const agent = (await (await fetch(`${local.endpoints.consulUrl}/v1/agent/services`)).json()) as Record<
      string,
      unknown
    >;
    expect(Object.keys(agent)).not.toContain(instanceId);
  });

  it('lets a process that started and stopped the system in-process exit by itself', async () => {
    // Embedders (tests, benchmarks) stop services without process.exit: an open Consul watch would hang them.
    // The child finds the stack from its environment, as this process does; nothing of it goes on its command line.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST')));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO_DIR, 'e2e', 'src', 'stopped-system.fixtures.ts')],
      {
        env: inherited,
        stdio: 'ignore',
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const outcome = await Promise.race([exited, sleep(60_000).then(() => 'still running' as const)]);
    if (outcome === 'still running') child.kill('SIGKILL');
    expect(outcome).toBe(0);
  }, 90_000);

  it('shows one gateway query as one trace across the gateway and the subgraphs it called', async ({
    system,
    service,
    seeded,
  }) => {
    await startAll(system, service, seeded);
    const traceId = randomBytes(16).toString('hex');
    const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
    const result = await system.query<ServiceAnswer>(fullQuery(service), { traceparent });
    expect(result.errors).toBeUndefined();

    // Stopping flushes every service's spans to Jaeger.
    await system.stop();
    const services = new Set<string>();
    const found = await eventually(async () => {
      const response = await fetch(`${local.endpoints.jaegerQueryUrl}/api/traces/${traceId}`);
      if (!response.ok) return false;
      const body = (await response.json()) as { data: { processes: Record<string, { serviceName: string }> }[] };
      for (const process of Object.values(body.data[0]?.processes ?? {})) services.add(process.serviceName);
      return ['gateway', 'metrics', 'logs', 'traces', 'alerts'].every((s) => services.has(s));
    });
    expect([...services].sort()).toEqual(['alerts', 'gateway', 'logs', 'metrics', 'traces']);
    expect(found).toBe(true);
  });
});

/** A subgraph whose `Service.name` is an Int: it cannot compose with the others. */
async function startConflictingSubgraph(system: System): Promise<Platform> {
  const platform = createSubgraphPlatform({
    name: 'rogue',
    version: '0.0.1',
    env: loadConfig(serviceEnvSchema(0), system.env()),
    consul: system.consul,
  });
  const typeDefs = parse(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
    type Service @key(fields: "name") { name: Int! rogue: Boolean }
  `);
  await serveSubgraphSchema(platform, buildSubgraphSchema([{ typeDefs, resolvers: {} }]), {});
  await platform.service.start({ host: '127.0.0.1', port: 0 });
  return platform;
}
