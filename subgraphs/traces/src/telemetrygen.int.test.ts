import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localStack } from '@heimdall/stack';
import { type TracesServer, startTracesServer } from './traces-server.fixtures.js';

/**
 * An OTLP client Heimdall did not write: the OpenTelemetry Collector's telemetrygen (Go, OTLP/HTTP protobuf).
 * Built once with `go install` into the Heimdall cache, outside the checkout; a cold build takes a few minutes.
 */
const local = localStack(process.env);
const MODULE = 'github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen@v0.161.0';
const GOBIN = join(local.config.cacheDir, 'bin');
const TELEMETRYGEN = join(GOBIN, 'telemetrygen');

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/** Builds telemetrygen into the cache unless it is there; fails with how to build it when Go is missing. */
async function ensureTelemetrygen(): Promise<void> {
  if (existsSync(TELEMETRYGEN)) return;
  if (spawnSync('go', ['version']).error !== undefined) {
    throw new Error(
      `telemetrygen is not built and Go is not installed. Install Go 1.24+ and run: GOBIN=${GOBIN} go install ${MODULE}`,
    );
  }
  const built = await run('go', ['install', MODULE], { ...process.env, GOBIN });
  if (built.code !== 0) throw new Error(`go install ${MODULE} failed:\n${built.output}`);
}

describe('telemetrygen pushing to the traces subgraph', () => {
  let server: TracesServer;
  beforeAll(async () => {
    await local.require('consul', 'jaeger');
    await ensureTelemetrygen();
    server = await startTracesServer(local);
  }, 20 * 60_000);
  afterAll(() => server?.stop());

  it('stores every trace it sends, each with every span', async () => {
    const service = `telemetrygen-${randomUUID().slice(0, 8)}`;
    const [workers, tracesPerWorker, childSpans] = [4, 100, 4];
    const started = Date.now();
    const sent = await run(TELEMETRYGEN, [
      'traces',
      '--otlp-http',
      '--otlp-insecure',
      '--otlp-endpoint',
      new URL(server.url).host,
      '--service',
      service,
      // As the gateway forwards an agent's push: with an internal token (60 s, longer than the run).
      ...Object.entries(await server.agentHeaders()).flatMap(([name, value]) => [
        '--otlp-header',
        `${name}="${value}"`,
      ]),
      '--workers',
      String(workers),
      '--traces',
      String(tracesPerWorker),
      '--child-spans',
      String(childSpans),
      '--rate',
      '0',
    ]);
    expect(sent.code, sent.output).toBe(0);

    const range = `{ from: "${new Date(started - 60_000).toISOString()}", to: "${new Date(Date.now() + 60_000).toISOString()}" }`;
    const result = await server.graphql<{ traces: { spanCount: number; errorCount: number }[] }>(
      `{ traces(filter: { service: "${service}", range: ${range}, limit: 1000 }) { spanCount errorCount } }`,
    );
    expect(result.errors).toBeUndefined();
    const traces = result.data!.traces;
    expect(traces).toHaveLength(workers * tracesPerWorker);
    expect(new Set(traces.map((t) => t.spanCount))).toEqual(new Set([1 + childSpans]));
  });
});
