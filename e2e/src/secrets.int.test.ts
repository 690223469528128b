import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceTokens } from '@heimdall/shared';
import { makeCaller, testServiceAuthEnv } from '@heimdall/shared/testing';
import { REPO_DIR, localStack } from '@heimdall/stack';
import { System } from './system.js';

const local = localStack(process.env);

/** A service run as `npm start` runs it: its own process, its own output, its environment as its only input. */
class ServiceProcess {
  readonly lines: string[] = [];
  private readonly exited: Promise<number | null>;

  constructor(
    readonly child: ChildProcess,
    private readonly waitFor: RegExp[],
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (line) => this.lines.push(line));
  }

  static start(entry: string, env: Record<string, string>, waitFor: RegExp[] = [/"event":"ready"/]): ServiceProcess {
    // Not vitest's own variables (NODE_ENV=test among them): the service sees what npm start gives it.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_ENV' && !key.startsWith('VITEST')));
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_DIR, entry)], { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    return new ServiceProcess(child, waitFor);
  }

  /** Resolves once every expected line was logged; fails with the output when the process exits first. */
  async ready(ms = 45_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.waitFor.every((pattern) => this.lines.some((line) => pattern.test(line)))) {
      if (this.child.exitCode !== null || Date.now() > deadline) throw new Error(`not ready:\n${this.lines.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The `url` of the first line logging `event`. */
  url(event: string): string {
    const line = this.lines.find((l) => l.includes(`"event":"${event}"`));
    return (JSON.parse(line!) as { url: string }).url;
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  exit(): Promise<number | null> {
    return this.exited;
  }
}

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
    const metrics = ServiceProcess.start('subgraphs/metrics/src/main.ts', env);
    processes.push(metrics);
    await metrics.ready();
    const gateway = ServiceProcess.start('gateway/src/main.ts', { ...env, OTLP_PORT: '0' }, [/"event":"ready"/, /"event":"otlp_listening"/]);
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
      (await fetch(graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query }) })).json() as Promise<{
        data?: { createApiKey?: { key: string; apiKey: { id: string } } };
      }>;
    const push = async (headers: Record<string, string>) =>
      (await fetch(`${otlpUrl}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"resourceMetrics":[]}' })).status;

    // Wait until the gateway composed the metrics subgraph: its schema read carries an internal token too.
    for (let i = 0; i < 100 && (await graphql(tokens.viewer, '{ service(name: "s") { series { name } } }')).data === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const created = (await graphql(tokens.admin, 'mutation { createApiKey(name: "e2e-secrets") { key apiKey { id } } }')).data!.createApiKey!;
    expect(await push({ 'x-api-key': created.key })).toBe(200);
    expect(await push({ authorization: `Bearer ${created.key}` })).toBe(200);
    expect(await push({ authorization: `Bearer ${tokens.expired}` })).toBe(401);
    expect(await push({ authorization: `Bearer ${tokens.wrongAudience}` })).toBe(401);
    expect(await push({ 'x-api-key': `${created.key.slice(0, -4)}AAAA` })).toBe(401);
    await graphql(tokens.viewer, '{ service(name: "s") { series { name } } }');
    await graphql(tokens.expired, '{ service(name: "s") { name } }');
    const forged = await new ServiceTokens({ service: 'gateway', secrets: ['not the cluster secret, but long enough'] }).headers(makeCaller());
    const direct = await fetch(`${metrics.url('ready')}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...forged }, body: '{"query":"{ __typename }"}' });
    expect(direct.status).toBe(401);
    await graphql(tokens.admin, `mutation { revokeApiKey(id: "${created.apiKey.id}") }`);
    expect(await push({ 'x-api-key': created.key })).toBe(401);

    expect(await gateway.stop()).toBe(0);
    expect(await metrics.stop()).toBe(0);
    const output = [...gateway.lines, ...metrics.lines].join('\n');
    // The logs are not empty of the events that handled the secrets: refusals were logged, without them.
    expect(output).toMatch(/token refused/);
    expect(output).toMatch(/invalid internal token refused/);
    for (const secret of [...Object.values(tokens), created.key, created.key.split('_')[2]!, testServiceAuthEnv().SERVICE_AUTH_SECRET, forged['x-service-auth']!]) {
      expect(output).not.toContain(secret);
    }
    expect(output).not.toMatch(/eyJ[\w-]{10,}\.[\w-]{10,}/);
    expect(output).not.toMatch(/hmd_[0-9a-f]{16}_/);
    expect(output).not.toMatch(/PRIVATE KEY/);
  }, 180_000);

  it('are not echoed when a secret is refused at start, and the variable is named', async () => {
    const weak = 'short-secret-value';
    const gateway = ServiceProcess.start('gateway/src/main.ts', { ...system.env(), SERVICE_AUTH_SECRET: weak }, []);
    expect(await gateway.exit()).toBe(1);
    const output = gateway.lines.join('\n');
    expect(output).toMatch(/SERVICE_AUTH_SECRET: each secret needs at least 32 characters/);
    expect(output).not.toContain(weak);
  }, 60_000);

  it('warn at every start when authentication is turned off', async () => {
    const gateway = ServiceProcess.start('gateway/src/main.ts', { ...system.env(), LOG_LEVEL: 'info', AUTH_DISABLED: 'true', OTLP_PORT: '0', OTLP_TRACES_URL: 'off' });
    processes.push(gateway);
    await gateway.ready();
    expect(gateway.lines.some((line) => line.includes('"level":40') && line.includes('"event":"auth_disabled"'))).toBe(true);
    expect(await gateway.stop()).toBe(0);
  }, 60_000);
});
