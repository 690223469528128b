import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceTokens } from '@heimdall/shared/auth';
import { makeCaller, testServiceAuthEnv } from '@heimdall/testkit';
import { localStack } from '@heimdall/stack';
import { ServiceProcess } from './service-process.js';
import { System } from './system.js';

const local = localStack(process.env);

describe('secrets in the logs', () => {
  let system: System;
  let dataDir: string;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    await local.require('consul', 'redis', 'jaeger');
    system = await System.create(local, process.env.CLICKHOUSE_URL);
    dataDir = await mkdtemp(join(tmpdir(), 'heimdall-secrets-ch-'));
  });
  afterAll(async () => {
    for (const service of processes) await service.stop();
    await system.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('never show a token, an API key, the service secret or the signing key, at debug level, through every path that handles them', async () => {
    const env = { ...system.env(), LOG_LEVEL: 'debug', CLICKHOUSE_DATA_DIR: dataDir, OTLP_TRACES_URL: 'off' };
    const metrics = ServiceProcess.start('subgraphs/metrics/src/main.ts', process.env, env);
    processes.push(metrics);
    await metrics.ready();
    const gateway = ServiceProcess.start('gateway/src/main.ts', process.env, { ...env, OTLP_PORT: '0' }, [
      /"event":"ready"/,
      /"event":"otlp_listening"/,
    ]);
    processes.push(gateway);
    await gateway.ready();
    const graphqlUrl = `${gateway.url('ready')}/graphql`;
    const otlpUrl = gateway.url('otlp_listening');

    const tokens = {
      admin: await system.token(['admin']),
      viewer: await system.token(['viewer']),
      expired: await system.token(['viewer'], { issuedAt: Date.now() - 2 * 3600_000 }),
      wrongAudience: await system.token(['admin'], { audience: 'elsewhere' }),
    };
    const graphql = async (token: string, query: string) =>
      (
        await fetch(graphqlUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query }),
        })
      ).json() as Promise<{
        data?: { createApiKey?: { key: string; apiKey: { id: string } } };
      }>;
    const push = async (headers: Record<string, string>) =>
      (
        await fetch(`${otlpUrl}/v1/metrics`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: '{"resourceMetrics":[]}',
        })
      ).status;

    // Wait until the gateway composed the metrics subgraph: its schema read carries an internal token too.
    for (
      let i = 0;
      i < 100 && (await graphql(tokens.viewer, '{ service(name: "s") { series { name } } }')).data === undefined;
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const created = (
      await graphql(tokens.admin, 'mutation { createApiKey(name: "e2e-secrets") { key apiKey { id } } }')
    ).data!.createApiKey!;
    expect(await push({ 'x-api-key': created.key })).toBe(200);
    expect(await push({ authorization: `Bearer ${created.key}` })).toBe(200);
    expect(await push({ authorization: `Bearer ${tokens.expired}` })).toBe(401);
    expect(await push({ authorization: `Bearer ${tokens.wrongAudience}` })).toBe(401);
    expect(await push({ 'x-api-key': `${created.key.slice(0, -4)}AAAA` })).toBe(401);
    await graphql(tokens.viewer, '{ service(name: "s") { series { name } } }');
    await graphql(tokens.expired, '{ service(name: "s") { name } }');
    const forged = await new ServiceTokens({
      service: 'gateway',
      secrets: ['not the cluster secret, but long enough'],
    }).headers(makeCaller());
    const direct = await fetch(`${metrics.url('ready')}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...forged },
      body: '{"query":"{ __typename }"}',
    });
    expect(direct.status).toBe(401);
    await graphql(tokens.admin, `mutation { revokeApiKey(id: "${created.apiKey.id}") }`);
    expect(await push({ 'x-api-key': created.key })).toBe(401);

    expect(await gateway.stop()).toBe(0);
    expect(await metrics.stop()).toBe(0);
    const output = [...gateway.lines, ...metrics.lines].join('\n');
    // The logs are not empty of the events that handled the secrets: refusals were logged, without them.
    expect(output).toMatch(/token refused/);
    expect(output).toMatch(/invalid internal token refused/);
    for (const secret of [
      ...Object.values(tokens),
      created.key,
      created.key.split('_').slice(2).join('_'),
      testServiceAuthEnv().SERVICE_AUTH_SECRET,
      forged['x-service-auth']!,
    ]) {
      expect(output).not.toContain(secret);
    }
    expect(output).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}/);
    expect(output).not.toMatch(/hmd_[0-9a-f]{16}_/);
    expect(output).not.toMatch(/PRIVATE KEY/);
  }, 180_000);

  it('are not echoed when a secret is refused at start, and the variable is named', async () => {
    const weak = 'short-secret-value';
    const gateway = ServiceProcess.start(
      'gateway/src/main.ts',
      process.env,
      { ...system.env(), SERVICE_AUTH_SECRET: weak },
      [],
    );
    expect(await gateway.exit()).toBe(1);
    const output = gateway.lines.join('\n');
    expect(output).toMatch(/SERVICE_AUTH_SECRET: each secret needs at least 32 characters/);
    expect(output).not.toContain(weak);
  }, 60_000);

  it('warn at every start when authentication is turned off', async () => {
    const gateway = ServiceProcess.start('gateway/src/main.ts', process.env, {
      ...system.env(),
      LOG_LEVEL: 'info',
      AUTH_DISABLED: 'true',
      OTLP_PORT: '0',
      OTLP_TRACES_URL: 'off',
    });
    processes.push(gateway);
    await gateway.ready();
    expect(gateway.lines.some((line) => line.includes('"level":40') && line.includes('"event":"auth_disabled"'))).toBe(
      true,
    );
    expect(await gateway.stop()).toBe(0);
  }, 60_000);
});
