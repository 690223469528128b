// The notification pipeline of the alerts subgraph (issue 13), one alerts instance in a process of its own with
// NODE_ENV=production, on the local stack's Consul, PostgreSQL (a database of the benchmark's own) and Redis, sending
// to a webhook receiver in this process. Needs the local stack (`npm run stack -- up`):
// `npm run notifications -w @heimdall/bench`.
//
// State changes are put on `alert-state-changes` as the evaluator's publisher puts them (the evaluation itself is
// the alerts benchmark's). Three phases: the delay from a state change to the webhook receiving it with group wait 0
// (one rule, so one group, per change, spaced out); deliveries per second (many groups due at once); the alerts
// process's memory with 10,000 active alerts.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import pg from 'pg';
import { makeCaller, serviceAuthHeaders, testServiceAuthEnv } from '@heimdall/testkit';
import { localStack } from '@heimdall/stack';
import { startService } from './processes.js';
import { removeRedisKeys } from './measure.js';

const LATENCY_CHANGES = Number(process.env.NOTIFICATIONS_BENCH_LATENCY ?? 300);
const LATENCY_SPACING_MS = 40;
const THROUGHPUT_GROUPS = Number(process.env.NOTIFICATIONS_BENCH_THROUGHPUT ?? 2000);
const ACTIVE_ALERTS = 10_000;
const ALERTS_PER_RULE = 100;

const local = localStack(process.env);
const tag = `bench-notifications-${randomUUID().slice(0, 8)}`;
const databaseName = `heimdall_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: local.endpoints.postgresUrl });
  await client.connect();
  await client.query(sql).finally(() => client.end());
}

async function rssMiB(pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? Number.NaN;

/** Receiver: for each alert in each message, when it arrived minus when its change was published (an annotation). */
const arrivals: { at: number; delays: number[]; alerts: number }[] = [];
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const at = Date.now();
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      alerts: { annotations: { publishedAt?: string } }[];
    };
    arrivals.push({
      at,
      alerts: body.alerts.length,
      delays: body.alerts.map((a) => at - Number(a.annotations.publishedAt)),
    });
    res.writeHead(200).end('ok');
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

await local.require('consul', 'postgres', 'redis');
await admin(`CREATE DATABASE ${databaseName}`);
const databaseUrl = new URL(local.endpoints.postgresUrl);
databaseUrl.pathname = `/${databaseName}`;
const pool = new pg.Pool({ connectionString: databaseUrl.toString(), max: 2 });
const alerts = await startService('subgraphs/alerts/src/main.ts', {
  ...testServiceAuthEnv(),
  CONSUL_URL: local.endpoints.consulUrl,
  SUBGRAPH_TAG: tag,
  CONSUL_CHECK_INTERVAL: '1s',
  CONSUL_CHECK_TIMEOUT: '1s',
  HOST: '127.0.0.1',
  PORT: '0',
  DATABASE_URL: databaseUrl.toString(),
  REDIS_URL: local.endpoints.redisUrl,
  QUEUE_PREFIX: tag,
  NOTIFICATION_SECRET_KEY: randomBytes(32).toString('base64'),
  NOTIFICATION_GROUP_WAIT: '0',
  NOTIFICATION_BUSINESS_HOURS: 'always',
  NOTIFICATION_DIGEST_AT: 'always',
});
const changes = new Queue('alert-state-changes', { connection: { url: local.endpoints.redisUrl }, prefix: tag });

let nextId = 1;
function change(
  ruleId: string,
  channel: string,
  instance: string,
): { name: string; data: Record<string, unknown>; opts: { jobId: string } } {
  const id = String(nextId++);
  const now = new Date().toISOString();
  return {
    name: 'state-change',
    opts: { jobId: `state-change-${id}` },
    data: {
      id,
      ruleId,
      ruleVersion: 1,
      ruleName: `Bench ${ruleId.slice(0, 8)}`,
      severity: 'HIGH',
      channels: [channel],
      instanceKey: instance,
      labels: { alertname: `Bench ${ruleId.slice(0, 8)}`, instance, service: 'bench' },
      annotations: { publishedAt: String(Date.now()) },
      from: 'PENDING',
      to: 'FIRING',
      at: now,
      value: 1,
      activeAt: now,
      firedAt: now,
      resolvedAt: null,
      flapping: 1,
      error: null,
      reason: 'evaluation',
    },
  };
}

async function waitFor(messages: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (arrivals.length < messages) {
    if (Date.now() > deadline) throw new Error(`only ${arrivals.length} of ${messages} messages arrived`);
    await sleep(20);
  }
}

try {
  const created = await fetch(`${alerts.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await serviceAuthHeaders(makeCaller(['editor']))) },
    body: JSON.stringify({
      query: 'mutation($input: NotificationChannelInput!) { createNotificationChannel(input: $input) { id } }',
      variables: { input: { name: 'bench', type: 'WEBHOOK', webhook: { url: receiverUrl, secret: 'bench-secret' } } },
    }),
  });
  const channel = ((await created.json()) as { data: { createNotificationChannel: { id: string } } }).data
    .createNotificationChannel.id;
  const rssIdle = await rssMiB(alerts.child.pid);

  // 1. Delay, one group per change, group wait 0.
  for (let i = 0; i < LATENCY_CHANGES; i++) {
    await changes.addBulk([change(randomUUID(), channel, 'a')]);
    await sleep(LATENCY_SPACING_MS);
  }
  await waitFor(LATENCY_CHANGES, 60_000);
  const delays = arrivals.flatMap((a) => a.delays).sort((a, b) => a - b);
  console.log(
    `delay state change → webhook (group wait 0), ${delays.length} changes: p50 ${quantile(delays, 0.5)} ms, p99 ${quantile(delays, 0.99)} ms, max ${delays.at(-1)} ms`,
  );

  // 2. Deliveries per second: THROUGHPUT_GROUPS groups due at once.
  const before = arrivals.length;
  const started = Date.now();
  const batch = Array.from({ length: THROUGHPUT_GROUPS }, () => change(randomUUID(), channel, 'a'));
  for (let i = 0; i < batch.length; i += 500) await changes.addBulk(batch.slice(i, i + 500));
  await waitFor(before + THROUGHPUT_GROUPS, 300_000);
  const seconds = (arrivals.at(-1)!.at - started) / 1000;
  console.log(
    `deliveries: ${THROUGHPUT_GROUPS} messages (one group each) in ${seconds.toFixed(1)} s from the first publish: ${(THROUGHPUT_GROUPS / seconds).toFixed(0)}/s`,
  );

  // 3. Memory with 10,000 active alerts (100 rules × 100 instances).
  const publishStarted = Date.now();
  const many = [];
  for (let r = 0; r < ACTIVE_ALERTS / ALERTS_PER_RULE; r++) {
    const rule = randomUUID();
    for (let i = 0; i < ALERTS_PER_RULE; i++) many.push(change(rule, channel, `i-${i}`));
  }
  for (let i = 0; i < many.length; i += 500) await changes.addBulk(many.slice(i, i + 500));
  for (;;) {
    const { rows } = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM notification_alerts WHERE state = 'firing'`,
    );
    if (Number(rows[0]?.n) >= ACTIVE_ALERTS + LATENCY_CHANGES + THROUGHPUT_GROUPS) break;
    await sleep(200);
  }
  const applied = (Date.now() - publishStarted) / 1000;
  await sleep(5000);
  console.log(
    `${ACTIVE_ALERTS} more active alerts applied in ${applied.toFixed(1)} s (${(ACTIVE_ALERTS / applied).toFixed(0)} changes/s); ` +
      `alerts process RSS: ${rssIdle.toFixed(0)} MiB idle with a channel, ${(await rssMiB(alerts.child.pid)).toFixed(0)} MiB with ${ACTIVE_ALERTS + LATENCY_CHANGES + THROUGHPUT_GROUPS} active alerts`,
  );
} finally {
  await alerts.stop();
  await changes.close();
  // Every queue of the benchmark's prefix (state changes, deliveries, evaluation schedules).
  await removeRedisKeys(local.endpoints.redisUrl, tag);
  await pool.end();
  await admin(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
  receiver.close();
}
