// Metrics ingest and query (issue 5). Needs the local stack (`npm run stack -- up`):
// `npm run metrics -w @heimdall/bench`.
import { create, toBinary } from '@bufbuild/protobuf';
import { randomUUID } from 'node:crypto';
import { System } from '@heimdall/e2e';
import { decodeOtlpRequest, otlp } from '@heimdall/shared/otlp';
import { localStack } from '@heimdall/stack';
import { toRows } from '@heimdall/metrics';
import { concurrently, percentile } from './measure.js';
import { internalHeaders } from './credentials.js';

const CLIENTS = 4;
const SERIES = 1000;
/** An agent scraping every 10 s for an hour: 360 requests of one point per series (1,000 points each). */
const SCRAPE_MS = 10_000;
const SCRAPES = 360;
const QUERY_RUNS = 60;
const WARMUP_RUNS = 10;
const service = `bench-${randomUUID().slice(0, 8)}`;

function scrape(timestampMs: number): Uint8Array {
  const request = create(otlp.ExportMetricsServiceRequestSchema, {
    resourceMetrics: [
      {
        resource: {
          attributes: [{ key: 'service.name', value: { value: { case: 'stringValue' as const, value: service } } }],
        },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'bench_ingest',
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
  });
  return toBinary(otlp.ExportMetricsServiceRequestSchema, request);
}

/** The same scrapes through POST /v1/metrics and, as the baseline, inserted directly. */
// Pushes straight to the metrics subgraph carry the internal token the gateway adds for an agent.
const agentHeaders = internalHeaders('agent');

async function ingest(system: System, metricsUrl: string, start: number) {
  const bodies = Array.from({ length: SCRAPES }, (_, i) => scrape(start + i * SCRAPE_MS));
  // Baseline: the same sample rows, decoded and converted ahead of time, inserted directly in batches of 1,000
  // into a copy of the samples table with its own copy of the rollup view, so ClickHouse does the same work.
  await system.clickhouse.command({ query: 'CREATE TABLE bench_direct AS samples' });
  await system.clickhouse.command({ query: 'CREATE TABLE bench_direct_1m AS samples_1m' });
  const view = (
    await (
      await system.clickhouse.query({
        query: "SELECT as_select FROM system.tables WHERE name = 'samples_1m_mv'",
        format: 'JSONEachRow',
      })
    ).json<{ as_select: string }>()
  )[0]!;
  await system.clickhouse.command({
    query: `CREATE MATERIALIZED VIEW bench_direct_mv TO bench_direct_1m AS ${view.as_select.replace(/\bFROM (\w+\.)?samples\b/, 'FROM bench_direct')}`,
  });
  const rows = bodies.map((body) => {
    const decoded = decodeOtlpRequest('metrics', 'protobuf', body);
    if (!decoded.ok) throw new Error(decoded.message);
    return toRows(decoded.request).samples;
  });
  const directMs = await concurrently(rows, CLIENTS, async (values) => {
    await system.clickhouse.insert({ table: 'bench_direct', values, format: 'JSONEachRow' });
  });
  const ingestMs = await concurrently(bodies, CLIENTS, async (body) => {
    const response = await fetch(`${metricsUrl}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', ...(await agentHeaders()) },
      body,
    });
    if (response.status !== 200) throw new Error(`ingest answered ${response.status}: ${await response.text()}`);
  });
  for (const table of ['bench_direct_mv', 'bench_direct_1m', 'bench_direct'])
    await system.clickhouse.command({ query: `DROP TABLE ${table}` });
  return { ingestMs, directMs };
}

const system = await System.create(localStack(process.env), process.env.CLICKHOUSE_URL);
try {
  const metrics = await system.startSubgraph('metrics');
  await system.startGateway({ OTLP_TRACES_URL: 'off' });
  const start = Math.floor((Date.now() - 65 * 60_000) / 60_000) * 60_000;
  const points = SCRAPES * SERIES;
  const { ingestMs, directMs } = await ingest(system, metrics.service.url, start);
  // Queries are measured once ClickHouse has merged what was just written, as it would have on a live system.
  while (
    Number(
      (
        await (
          await system.clickhouse.query({ query: 'SELECT count() AS n FROM system.merges', format: 'JSONEachRow' })
        ).json<{ n: string }>()
      )[0]!.n,
    ) > 0
  ) {
    await new Promise((resolve) => setTimeout(resolve, 500));
  }

  // Query: 1 h at 1 m over the 1,000 series just written, through the gateway.
  const range = { from: new Date(start).toISOString(), to: new Date(start + 60 * 60_000).toISOString() };
  const query = (step: string, fields: string, groupBy = '["series"]') =>
    `{ metricQuery(input: { name: "bench_ingest", matchers: [{ key: "service.name", op: EQ, value: "${service}" }],
        range: { from: "${range.from}", to: "${range.to}" }, step: "${step}", aggregation: AVG, groupBy: ${groupBy} })
        { source rowsRead series { labels { key value } ${fields} } } }`;
  type Answer = {
    metricQuery: { source: string; rowsRead: number; series: { values?: number[]; points?: unknown[] }[] };
  };
  const measure = async (fields: string, groupBy?: string) => {
    const latencies: number[] = [];
    let answer: Answer | undefined;
    for (let i = 0; i < WARMUP_RUNS + QUERY_RUNS; i++) {
      const started = performance.now();
      const result = await system.query<Answer>(query('1m', fields, groupBy));
      if (i >= WARMUP_RUNS) latencies.push(performance.now() - started);
      if (result.errors !== undefined) throw new Error(JSON.stringify(result.errors));
      answer = result.data;
    }
    latencies.sort((a, b) => a - b);
    const series = answer!.metricQuery.series;
    const returned = series.reduce((n, s) => n + (s.values ?? s.points ?? []).length, 0);
    return { latencies, answer: answer!, returned, series: series.length };
  };
  const objects = await measure('points { timestamp value }');
  const columns = await measure('timestamps values');
  // The usual dashboard panel: the 1,000 series aggregated into one line.
  const overall = await measure('points { timestamp value }', '[]');
  const raw = (await system.query<Answer>(query('30s', 'values'))).data!;

  console.log(
    `ingest: ${points} gauge points (${SERIES} series every ${SCRAPE_MS / 1000} s for 1 h), ${CLIENTS} clients, protobuf requests of ${SERIES} points`,
  );
  console.log(`  POST /v1/metrics: ${Math.round(points / (ingestMs / 1000))} points/s`);
  console.log(`  direct insert:    ${Math.round(points / (directMs / 1000))} points/s`);
  console.log(`  ratio:            ${(directMs / ingestMs).toFixed(2)}x`);
  for (const [shape, m] of [
    ['by series, as points { timestamp value }', objects],
    ['by series, as timestamps values', columns],
    ['of all series together, as points { timestamp value }', overall],
  ] as const) {
    console.log(
      `query: 1 h at 1 m, AVG ${shape}: ${m.series} series / ${m.returned} points, through the gateway, ${QUERY_RUNS} runs`,
    );
    console.log(
      `  p50 ${percentile(m.latencies, 50).toFixed(1)} ms, p99 ${percentile(m.latencies, 99).toFixed(1)} ms (source ${m.answer.metricQuery.source})`,
    );
  }
  console.log(`rows read: rollup ${columns.answer.metricQuery.rowsRead}, raw (30 s step) ${raw.metricQuery.rowsRead}`);
} finally {
  await system.stop();
}
