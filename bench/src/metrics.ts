// Metrics ingest and query (issue 5). Needs the local stack (`npm run stack -- up`):
// `npm run metrics -w @heimdall/bench`.
import { create, toBinary } from '@bufbuild/protobuf';
import { randomUUID } from 'node:crypto';
import { System } from '@heimdall/e2e/system';
import { otlp } from '@heimdall/shared';
import { decodeOtlpRequest } from '@heimdall/shared';
import { localStack } from '@heimdall/stack';
import { toRows } from '@heimdall/metrics/ingest';

const CLIENTS = 4;
const BATCHES_PER_CLIENT = 50;
const SERIES_PER_BATCH = 100;
const POINTS_PER_SERIES = 10;
const service = `bench-${randomUUID().slice(0, 8)}`;

/** One OTLP protobuf request of SERIES_PER_BATCH × POINTS_PER_SERIES gauge points (1,000). */
function batch(client: number, index: number, startMs: number): Uint8Array {
  const request = create(otlp.ExportMetricsServiceRequestSchema, {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { value: { case: 'stringValue' as const, value: service } } }] },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'bench_ingest',
                data: {
                  case: 'gauge' as const,
                  value: {
                    dataPoints: Array.from({ length: SERIES_PER_BATCH * POINTS_PER_SERIES }, (_, i) => ({
                      // 10 groups of batches × 100 series per batch: 1,000 series in all.
                      attributes: [{ key: 'series', value: { value: { case: 'stringValue' as const, value: `${(client * BATCHES_PER_CLIENT + index) % 10}-${i % SERIES_PER_BATCH}` } } }],
                      timeUnixNano: BigInt(startMs + Math.floor(i / SERIES_PER_BATCH) * 1000) * 1_000_000n,
                      value: { case: 'asDouble' as const, value: i },
                    })),
                  },
                },
              },
            ],
          },
        ],
      },
    ],
  });
  return toBinary(otlp.ExportMetricsServiceRequestSchema, request);
}

async function run(clients: number, work: (client: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, (_, c) => work(c)));
  return performance.now() - started;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const system = await System.create(localStack(process.env), process.env.CLICKHOUSE_URL);
try {
  const metrics = await system.startSubgraph('metrics');
  await system.startGateway({ OTLP_TRACES_URL: 'off' });
  const start = Date.now() - 60 * 60_000;
  const bodies = Array.from({ length: CLIENTS }, (_, c) => Array.from({ length: BATCHES_PER_CLIENT }, (_, b) => batch(c, b, start + b * 20_000)));
  const points = CLIENTS * BATCHES_PER_CLIENT * SERIES_PER_BATCH * POINTS_PER_SERIES;

  // Baseline: the same rows, decoded and converted ahead of time, inserted directly in batches of 1,000.
  await system.clickhouse.command({ query: 'CREATE TABLE IF NOT EXISTS bench_direct AS samples' });
  const direct = bodies.map((list) =>
    list.map((body) => {
      const decoded = decodeOtlpRequest('metrics', 'protobuf', body);
      if (!decoded.ok) throw new Error(decoded.message);
      return toRows(decoded.request).samples;
    }),
  );
  const directMs = await run(CLIENTS, async (c) => {
    for (const rows of direct[c]!) await system.clickhouse.insert({ table: 'bench_direct', values: rows, format: 'JSONEachRow' });
  });
  const ingestMs = await run(CLIENTS, async (c) => {
    for (const body of bodies[c]!) {
      const response = await fetch(`${metrics.service.url}/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body,
      });
      if (response.status !== 200) throw new Error(`ingest answered ${response.status}: ${await response.text()}`);
    }
  });
  await system.clickhouse.command({ query: 'DROP TABLE bench_direct' });

  // Query: 1 h at 1 m over the series just written, through the gateway, rollup and raw.
  const range = { from: new Date(start).toISOString(), to: new Date(start + 60 * 60_000).toISOString() };
  const query = (step: string) =>
    `{ metricQuery(input: { name: "bench_ingest", matchers: [{ key: "service.name", op: EQ, value: "${service}" }],
        range: { from: "${range.from}", to: "${range.to}" }, step: "${step}", aggregation: AVG, groupBy: ["series"] })
        { source rowsRead series { points { value } } } }`;
  type Answer = { metricQuery: { source: string; rowsRead: number; series: unknown[] } };
  const latencies: number[] = [];
  let rollup: Answer | undefined;
  for (let i = 0; i < 60; i++) {
    const started = performance.now();
    const result = await system.query<Answer>(query('1m'));
    if (i >= 10) latencies.push(performance.now() - started);
    if (result.errors !== undefined) throw new Error(JSON.stringify(result.errors));
    rollup = result.data;
  }
  const raw = (await system.query<Answer>(query('30s'))).data;
  latencies.sort((a, b) => a - b);

  console.log(`ingest: ${points} points, ${CLIENTS} clients, batches of ${SERIES_PER_BATCH * POINTS_PER_SERIES} points (protobuf)`);
  console.log(`  POST /v1/metrics: ${Math.round(points / (ingestMs / 1000))} points/s`);
  console.log(`  direct insert:    ${Math.round(points / (directMs / 1000))} points/s`);
  console.log(`  ratio:            ${(directMs / ingestMs).toFixed(2)}x`);
  console.log(`query: 1 h at 1 m over ${rollup?.metricQuery.series.length} series through the gateway, 50 runs`);
  console.log(`  p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`);
  console.log(`  rows read: rollup ${rollup?.metricQuery.rowsRead}, raw (30 s step) ${raw?.metricQuery.rowsRead}`);
} finally {
  await system.stop();
}
