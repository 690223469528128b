// A dashboard panel of 1,000 series, 1 h at 1 m (60,000 points), through the gateway, uncached and cached (issue
// 14). The metrics subgraph and two gateways (the answer cache off in one, on as shipped in the other) run in
// processes of their own with NODE_ENV=production, as they ship. Needs the
// local stack (`npm run stack -- up`): `npm run dashboard -w @heimdall/bench`.
import { create, toBinary } from '@bufbuild/protobuf';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_JWT_AUDIENCE,
  DEFAULT_JWT_ISSUER,
  generateUserSigningKeys,
  signUserToken,
} from '@heimdall/shared/auth';
import { otlp } from '@heimdall/shared/otlp';
import { makeCaller, serviceAuthHeaders, testServiceAuthEnv } from '@heimdall/testkit';
import { localStack } from '@heimdall/stack';
import { startService } from './processes.js';
import { percentile } from './measure.js';

const SERIES = 1000;
const SCRAPES = 360;
const SCRAPE_MS = 10_000;
const RUNS = 60;
const WARMUP = 10;
const service = `dash-${randomUUID().slice(0, 8)}`;

function scrape(timestampMs: number): Uint8Array {
  return toBinary(
    otlp.ExportMetricsServiceRequestSchema,
    create(otlp.ExportMetricsServiceRequestSchema, {
      resourceMetrics: [
        {
          resource: {
            attributes: [{ key: 'service.name', value: { value: { case: 'stringValue' as const, value: service } } }],
          },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'panel_metric',
                  data: {
                    case: 'gauge' as const,
                    value: {
                      dataPoints: Array.from({ length: SERIES }, (_, i) => ({
                        attributes: [
                          { key: 'series', value: { value: { case: 'stringValue' as const, value: `s${i}` } } },
                        ],
                        timeUnixNano: BigInt(timestampMs) * 1_000_000n,
                        value: { case: 'asDouble' as const, value: i + Math.random() },
                      })),
                    },
                  },
                },
              ],
            },
          ],
        },
      ],
    }),
  );
}

const local = localStack(process.env);
const dataDir = await mkdtemp(join(tmpdir(), 'heimdall-dashboard-'));
// Credentials as the e2e system makes them: this process's service-trust secret, a signing key of the run.
const keys = await generateUserSigningKeys();
await writeFile(join(dataDir, 'jwt-public.pem'), keys.publicKeyPem);
const viewerToken = await signUserToken(keys.privateKeyPem, {
  subject: 'bench',
  roles: ['viewer'],
  ttlSeconds: 3600,
  issuer: DEFAULT_JWT_ISSUER,
  audience: DEFAULT_JWT_AUDIENCE,
});
const env = {
  CONSUL_URL: local.endpoints.consulUrl,
  SUBGRAPH_TAG: `bench-${randomUUID().slice(0, 8)}`,
  HOST: '127.0.0.1',
  PORT: '0',
  ...testServiceAuthEnv(),
  JWT_PUBLIC_KEY_FILE: join(dataDir, 'jwt-public.pem'),
};
const metrics = await startService('subgraphs/metrics/src/main.ts', { ...env, CLICKHOUSE_DATA_DIR: dataDir });
const gateway = await startService('gateway/src/main.ts', { ...env, OTLP_PORT: '0', RESPONSE_CACHE_TTL_MS: '0' });
const cachingGateway = await startService('gateway/src/main.ts', { ...env, OTLP_PORT: '0' });
try {
  const start = Math.floor((Date.now() - 65 * 60_000) / 60_000) * 60_000;
  const bodies = Array.from({ length: SCRAPES }, (_, i) => scrape(start + i * SCRAPE_MS));
  await Promise.all(
    Array.from({ length: 4 }, async (_, c) => {
      for (let i = c; i < bodies.length; i += 4) {
        const answer = await fetch(`${metrics.url}/v1/metrics`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-protobuf', ...(await serviceAuthHeaders(makeCaller(['agent']))) },
          body: bodies[i],
        });
        if (answer.status !== 200) throw new Error(`ingest answered ${answer.status}`);
      }
    }),
  );
  // Let ClickHouse merge what was just written, as it would have on a live system.
  await new Promise((resolve) => setTimeout(resolve, 10_000));

  const range = { from: new Date(start).toISOString(), to: new Date(start + 60 * 60_000).toISOString() };
  const query = (fields: string) =>
    `{ metricQuery(input: { name: "panel_metric", matchers: [{ key: "service.name", op: EQ, value: "${service}" }],
        range: { from: "${range.from}", to: "${range.to}" }, step: "1m", aggregation: AVG, groupBy: ["series"] })
        { series { labels { key value } ${fields} } } }`;
  // Straight to the subgraph as the gateway calls it (an internal token), or to the gateway as a viewer.
  const credentials = async (url: string) =>
    url === metrics.url ? await serviceAuthHeaders(makeCaller(['viewer'])) : { authorization: `Bearer ${viewerToken}` };
  const measure = async (url: string, fields: string) => {
    const body = JSON.stringify({ query: query(fields) });
    const latencies: number[] = [];
    let bytes = 0;
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const headers = { 'content-type': 'application/json', ...(await credentials(url)) };
      const started = performance.now();
      const response = await fetch(`${url}/graphql`, { method: 'POST', headers, body });
      const text = await response.text();
      const parsed = JSON.parse(text) as { errors?: unknown[]; data?: { metricQuery: { series: unknown[] } } };
      if (i >= WARMUP) latencies.push(performance.now() - started);
      if (parsed.errors !== undefined || parsed.data?.metricQuery.series.length !== SERIES)
        throw new Error(text.slice(0, 500));
      bytes = text.length;
    }
    latencies.sort((a, b) => a - b);
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), bytes };
  };

  console.log(
    `dashboard panel: ${SERIES} series × 60 points (1 h at 1 m, AVG by series), ${RUNS} runs after ${WARMUP}`,
  );
  for (const [shape, fields] of [
    ['points { timestamp value }', 'points { timestamp value }'],
    ['timestamps values', 'timestamps values'],
    ['packed (PackedPoints)', 'packed'],
  ] as const) {
    const direct = await measure(metrics.url, fields);
    const through = await measure(gateway.url, fields);
    const cached = await measure(cachingGateway.url, fields);
    console.log(
      `  ${shape.padEnd(28)} subgraph p50/p99 ${direct.p50.toFixed(1)} / ${direct.p99.toFixed(1)} ms; gateway uncached ${through.p50.toFixed(1)} / ${through.p99.toFixed(1)} ms; cached ${cached.p50.toFixed(1)} / ${cached.p99.toFixed(1)} ms; ${(through.bytes / 1e6).toFixed(2)} MB`,
    );
  }
} finally {
  await cachingGateway.stop();
  await gateway.stop();
  await metrics.stop();
  await rm(dataDir, { recursive: true, force: true });
}
