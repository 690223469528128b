// 1,000 enabled alert rules at a 1-minute interval against the real metrics subgraph (issue 12). The metrics subgraph
// and one alerts instance run in processes of their own with NODE_ENV=production, as they ship, on the local stack's
// Consul, PostgreSQL (a database of the benchmark's own) and Redis. Needs the local stack (`npm run stack -- up`):
// `npm run alerts -w @heimdall/bench`.
//
// Steady state: evaluations per second, their duration (p50/p99), how late they start, ClickHouse rows read per
// evaluation, and whether every rule was evaluated within its interval. Capacity: the alerts instance is stopped
// until every rule is overdue, then started again; how fast it works off the 1,000 overdue evaluations is what one
// instance can sustain, so the limit in rules per minute.
import { create, toBinary } from '@bufbuild/protobuf';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { otlp } from '@heimdall/shared/otlp';
import { localStack } from '@heimdall/stack';
import { type ServiceProcess, startService } from './processes.js';
import { removeRedisKeys } from './measure.js';

const RULES = 1000;
const SCRAPE_MS = 10_000;
const HISTORY_MS = 15 * 60_000;
const STEADY_MS = Number(process.env.ALERTS_BENCH_STEADY_MS ?? 180_000);
const INTERVAL_MS = 60_000;
const CAPACITY_CONCURRENCY = (process.env.ALERTS_BENCH_CONCURRENCY ?? '16,64').split(',').map(Number);

const local = localStack(process.env);
const tag = `bench-alerts-${randomUUID().slice(0, 8)}`;
const databaseName = `heimdall_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

/** One scrape of every rule's series: service svc-<i>, host h1; one in ten above the threshold. */
function scrape(timestampMs: number): Uint8Array {
  const str = (value: string) => ({ value: { case: 'stringValue' as const, value } });
  return toBinary(
    otlp.ExportMetricsServiceRequestSchema,
    create(otlp.ExportMetricsServiceRequestSchema, {
      resourceMetrics: Array.from({ length: RULES }, (_, i) => ({
        resource: { attributes: [{ key: 'service.name', value: str(`svc-${i}`) }] },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'bench_cpu_percent',
                data: {
                  case: 'gauge' as const,
                  value: {
                    dataPoints: [
                      {
                        attributes: [{ key: 'host', value: str('h1') }],
                        timeUnixNano: BigInt(timestampMs) * 1_000_000n,
                        value: { case: 'asDouble' as const, value: (i % 10 === 0 ? 92 : 40) + Math.random() * 5 },
                      },
                    ],
                  },
                },
              },
            ],
          },
        ],
      })),
    }),
  );
}

/** Counters and histogram buckets of a Prometheus text, summed over labels other than those asked for. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

function buckets(text: string, name: string): Map<number, number> {
  const result = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le !== undefined)
      result.set(le === '+Inf' ? Infinity : Number(le), Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return result;
}

/** A quantile of the observations between two scrapes, interpolated within its bucket (as Prometheus does). */
function quantile(before: string, after: string, name: string, q: number): number {
  const a = buckets(before, name);
  const b = buckets(after, name);
  const bounds = [...b.keys()].sort((x, y) => x - y);
  const counts = bounds.map((le) => (b.get(le) ?? 0) - (a.get(le) ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i]! >= rank) {
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const upper = bounds[i]!;
      if (upper === Infinity) return lower;
      const below = i === 0 ? 0 : counts[i - 1]!;
      return lower + ((upper - lower) * (rank - below)) / Math.max(counts[i]! - below, 1);
    }
  }
  return bounds.at(-2) ?? Number.NaN;
}

/** CPU seconds a process has used (user + system), from /proc. */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (pid === undefined) return Number.NaN;
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function createRule(url: string, i: number): Promise<Response> {
  return fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }',
      variables: {
        input: {
          name: `CPU svc-${i}`,
          labels: [{ key: 'service', value: `svc-${i}` }],
          annotations: [{ key: 'summary', value: '{{ $labels.host }} at {{ $value | printf "%.1f" }}%' }],
          conditions: [
            {
              metric: {
                name: 'bench_cpu_percent',
                matchers: [{ key: 'service.name', op: 'EQ', value: `svc-${i}` }],
                aggregation: 'AVG',
                window: '5m',
                operator: 'GT',
                threshold: 90,
              },
            },
          ],
          groupBy: ['host'],
          evaluationInterval: '1m',
        },
      },
    }),
  });
}

const ms = (seconds: number) => `${(seconds * 1000).toFixed(1)} ms`;

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: local.endpoints.postgresUrl });
  await client.connect();
  await client.query(sql).finally(() => client.end());
}

await local.require('consul', 'postgres', 'redis');
await admin(`CREATE DATABASE ${databaseName}`);
const databaseUrl = new URL(local.endpoints.postgresUrl);
databaseUrl.pathname = `/${databaseName}`;
const pool = new pg.Pool({ connectionString: databaseUrl.toString(), max: 2 });
const dataDir = await mkdtemp(join(tmpdir(), 'heimdall-alerts-bench-'));
const env = {
  CONSUL_URL: local.endpoints.consulUrl,
  SUBGRAPH_TAG: tag,
  CONSUL_CHECK_INTERVAL: '1s',
  CONSUL_CHECK_TIMEOUT: '1s',
  HOST: '127.0.0.1',
  PORT: '0',
};
const alertsEnv = {
  ...env,
  DATABASE_URL: databaseUrl.toString(),
  REDIS_URL: local.endpoints.redisUrl,
  QUEUE_PREFIX: tag,
  LOG_LEVEL: 'info',
};
const metrics = await startService('subgraphs/metrics/src/main.ts', { ...env, CLICKHOUSE_DATA_DIR: dataDir });
let alerts: ServiceProcess | undefined;
let pushing: NodeJS.Timeout | undefined;
const push = async (timestampMs: number) => {
  const answer = await fetch(`${metrics.url}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body: scrape(timestampMs),
  });
  if (answer.status !== 200) throw new Error(`ingest answered ${answer.status}`);
};
const scrapeAlerts = async () => (await fetch(`${alerts!.url}/metrics`)).text();

try {
  // A quarter of an hour of history, then a scrape every 10 s while the benchmark runs.
  const now = Date.now();
  for (let t = now - HISTORY_MS; t <= now; t += SCRAPE_MS) await push(t);
  pushing = setInterval(
    () => void push(Date.now()).catch((error: unknown) => console.error('push failed', error)),
    SCRAPE_MS,
  );

  alerts = await startService('subgraphs/alerts/src/main.ts', alertsEnv);
  const createStarted = performance.now();
  const creates: number[] = [];
  let retried = 0;
  for (let i = 0; i < RULES; i++) {
    const started = performance.now();
    const response = await createRule(alerts.url, i);
    let body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
    // As a script would: an UNAVAILABLE (a store slow for a moment on this shared machine) is tried again once.
    if (body.errors?.[0]?.extensions?.code === 'UNAVAILABLE') {
      retried++;
      await sleep(1000);
      body = (await (await createRule(alerts.url, i)).json()) as typeof body;
    }
    if (body.errors !== undefined) throw new Error(JSON.stringify(body.errors));
    creates.push(performance.now() - started);
  }
  creates.sort((a, b) => a - b);
  console.log(
    `created ${RULES} rules through createAlertRule in ${((performance.now() - createStarted) / 1000).toFixed(1)} s ` +
      `(p50 ${creates[Math.floor(RULES / 2)]!.toFixed(1)} ms, p99 ${creates[Math.floor(RULES * 0.99)]!.toFixed(1)} ms, ${retried} retried; each scheduled at its own phase of the minute)`,
  );

  // One whole interval to settle, then the steady state.
  await sleep(INTERVAL_MS);
  const before = await scrapeAlerts();
  const cpuBefore = [await cpuSeconds(alerts.child.pid), await cpuSeconds(metrics.child.pid)];
  await sleep(STEADY_MS);
  const after = await scrapeAlerts();
  const cpuAfter = [await cpuSeconds(alerts.child.pid), await cpuSeconds(metrics.child.pid)];
  const seconds = STEADY_MS / 1000;
  const delta = (name: string, labels: Record<string, string> = {}) =>
    sample(after, name, labels) - sample(before, name, labels);
  const evaluations = delta('heimdall_alert_evaluations_total');
  const { rows: late } = await pool.query<{ late: string; firing: string }>(
    `SELECT (SELECT count(*) FROM alert_rules r LEFT JOIN alert_rule_evaluations e ON e.rule_id = r.id
              WHERE e.last_evaluated_at IS NULL OR e.last_evaluated_at < now() - interval '${INTERVAL_MS / 1000 + 5} seconds') AS late,
            (SELECT count(*) FROM alert_instances WHERE state = 'firing') AS firing`,
  );
  console.log(
    `steady state, ${seconds} s (${RULES} rules every ${INTERVAL_MS / 1000} s = ${((RULES * 1000) / INTERVAL_MS).toFixed(1)}/s due):`,
  );
  console.log(
    `  evaluations ${evaluations} (${(evaluations / seconds).toFixed(1)}/s; ok ${delta('heimdall_alert_evaluations_total', { outcome: 'ok' })}, ` +
      `error ${delta('heimdall_alert_evaluations_total', { outcome: 'error' })}, failed ${delta('heimdall_alert_evaluations_total', { outcome: 'failed' })}, ` +
      `stale ${delta('heimdall_alert_evaluations_total', { outcome: 'stale' })}); expected ${((RULES * STEADY_MS) / INTERVAL_MS).toFixed(0)}`,
  );
  console.log(
    `  duration p50 ${ms(quantile(before, after, 'heimdall_alert_evaluation_duration_seconds', 0.5))}, ` +
      `p99 ${ms(quantile(before, after, 'heimdall_alert_evaluation_duration_seconds', 0.99))}; ` +
      `start delay p50 ${ms(quantile(before, after, 'heimdall_alert_evaluation_delay_seconds', 0.5))}, p99 ${ms(quantile(before, after, 'heimdall_alert_evaluation_delay_seconds', 0.99))}`,
  );
  console.log(
    `  ClickHouse rows read per evaluation ${(delta('heimdall_alert_metric_rows_read_total') / evaluations).toFixed(1)}`,
  );
  console.log(
    `  rules not evaluated within their interval (+5 s) at the end: ${late[0]!.late}; firing alerts ${late[0]!.firing} (of ${RULES / 10} expected)`,
  );
  console.log(
    `  CPU: alerts ${(((cpuAfter[0]! - cpuBefore[0]!) / seconds) * 100).toFixed(0)}% of a core, metrics ${(((cpuAfter[1]! - cpuBefore[1]!) / seconds) * 100).toFixed(0)}% of a core`,
  );

  for (const concurrency of CAPACITY_CONCURRENCY) {
    await alerts.stop();
    // Every rule's evaluation comes due while no instance runs.
    await sleep(INTERVAL_MS + 5_000);
    alerts = await startService('subgraphs/alerts/src/main.ts', {
      ...alertsEnv,
      EVALUATION_CONCURRENCY: String(concurrency),
    });
    const started = performance.now();
    const first = await scrapeAlerts();
    const cpu = [await cpuSeconds(alerts.child.pid), await cpuSeconds(metrics.child.pid)];
    let last = first;
    while (sample(last, 'heimdall_alert_evaluations_total') < RULES) {
      await sleep(250);
      last = await scrapeAlerts();
    }
    const drained = (performance.now() - started) / 1000;
    const outcomes = ['ok', 'error', 'failed'].map(
      (outcome) =>
        `${outcome} ${sample(last, 'heimdall_alert_evaluations_total', { outcome }) - sample(first, 'heimdall_alert_evaluations_total', { outcome })}`,
    );
    const cpuDone = [await cpuSeconds(alerts.child.pid), await cpuSeconds(metrics.child.pid)];
    console.log(
      `capacity, EVALUATION_CONCURRENCY ${concurrency}: ${RULES} overdue evaluations in ${drained.toFixed(1)} s = ${(RULES / drained).toFixed(0)}/s (${outcomes.join(', ')}) ` +
        `(≈ ${Math.floor((RULES / drained) * 60).toLocaleString('en')} rules at a 1-minute interval); duration p50 ${ms(quantile(first, last, 'heimdall_alert_evaluation_duration_seconds', 0.5))}, ` +
        `p99 ${ms(quantile(first, last, 'heimdall_alert_evaluation_duration_seconds', 0.99))}; CPU alerts ${(((cpuDone[0]! - cpu[0]!) / drained) * 100).toFixed(0)}%, ` +
        `metrics ${(((cpuDone[1]! - cpu[1]!) / drained) * 100).toFixed(0)}% of a core`,
    );
  }
} finally {
  clearInterval(pushing);
  await alerts?.stop();
  await metrics.stop();
  await pool.end();
  await admin(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
  await removeRedisKeys(local.endpoints.redisUrl, tag);
  await rm(dataDir, { recursive: true, force: true });
}
