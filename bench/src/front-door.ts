// Gateway overhead with the front door on (authentication, rate limit, query limits), and the cross-subgraph
// query's throughput against a stock @apollo/gateway set-up over the same subgraphs (issue 14). Every service is
// a process of its own started as a deployment would run it (NODE_ENV=production), on free ports, under a Consul
// tag of this run, against the local stack (`npm run stack -- up` first): `npm run front-door -w @heimdall/bench`.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceProcess, System } from '@heimdall/e2e';
import { makeCaller, serviceAuthHeaders, testServiceAuthEnv } from '@heimdall/testkit';
import { localStack } from '@heimdall/stack';
import { percentile } from './measure.js';

const ITERATIONS = 1000;
const WARMUP = 100;
const CONCURRENCY = 8;
const ROUND_MS = 8000;
const ROUNDS = 2;
const SUBGRAPHS = ['metrics', 'logs', 'traces', 'alerts'] as const;
const service = `bench-${randomUUID().slice(0, 8)}`;

const QUERY = `{ service(name: "${service}") { name series { name } logs(limit: 1) { message } operations { name } rules { name } } }`;
const ENTITY_QUERIES: Record<(typeof SUBGRAPHS)[number], string> = {
  metrics: 'query($r:[_Any!]!){_entities(representations:$r){...on Service{series{name}}}}',
  logs: 'query($r:[_Any!]!){_entities(representations:$r){...on Service{logs(limit:1){message}}}}',
  traces: 'query($r:[_Any!]!){_entities(representations:$r){...on Service{operations{name}}}}',
  alerts: 'query($r:[_Any!]!){_entities(representations:$r){...on Service{rules{name}}}}',
};

async function post(url: string, body: unknown, headers: Record<string, string>): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const result = (await response.json()) as { errors?: unknown };
  if (!response.ok || result.errors !== undefined)
    throw new Error(`query failed (${response.status}): ${JSON.stringify(result.errors)}`);
}

async function latencies(fn: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + ITERATIONS; i++) {
    const started = process.hrtime.bigint();
    await fn();
    if (i >= WARMUP) samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return samples.sort((a, b) => a - b);
}

/** Requests per second with CONCURRENCY clients in a loop for `ms`. */
async function throughput(fn: () => Promise<unknown>, ms: number): Promise<number> {
  const deadline = performance.now() + ms;
  let done = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        await fn();
        done++;
      }
    }),
  );
  return done / (ms / 1000);
}

/** CPU seconds a process has used (user + system), from /proc: what each request costs, whatever else runs. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime, fields 14 and 15 of stat (11 and 12 after the name), in clock ticks of 10 ms.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Runs `fn` for a throughput round and reports requests/s and the CPU ms per request of each process. */
async function measuredRound(
  fn: () => Promise<unknown>,
  watched: Record<string, number>,
): Promise<{ rate: number; cpuMs: Record<string, number> }> {
  const before = Object.fromEntries(
    await Promise.all(Object.entries(watched).map(async ([name, pid]) => [name, await cpuSeconds(pid)] as const)),
  );
  const rate = await throughput(fn, ROUND_MS);
  const requests = (rate * ROUND_MS) / 1000;
  const cpuMs: Record<string, number> = {};
  for (const [name, pid] of Object.entries(watched))
    cpuMs[name] = (((await cpuSeconds(pid)) - before[name]!) * 1000) / requests;
  return { rate, cpuMs };
}

const local = localStack(process.env);
const system = await System.create(local, process.env.CLICKHOUSE_URL);
const dataDir = await mkdtemp(join(tmpdir(), 'heimdall-bench-ch-'));
const processes: ServiceProcess[] = [];
// BENCH_CPU_PROFILE_DIR: both gateways write a V8 CPU profile there when they stop (where the time goes).
const profileDir = process.env.BENCH_CPU_PROFILE_DIR;
const start = async (entry: string, env: Record<string, string>, profiled = false) => {
  const nodeArgs = profiled && profileDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const started = ServiceProcess.start(entry, process.env, env, undefined, nodeArgs);
  processes.push(started);
  await started.ready();
  return started;
};
try {
  const env = {
    ...system.env(),
    NODE_ENV: 'production',
    PORT: '0',
    LOG_LEVEL: 'info',
    OTLP_TRACES_URL: 'off',
    CLICKHOUSE_DATA_DIR: dataDir,
  };
  const subgraphs = await Promise.all(SUBGRAPHS.map((name) => start(`subgraphs/${name}/src/main.ts`, env)));
  const subgraphUrls = Object.fromEntries(SUBGRAPHS.map((name, i) => [name, `${subgraphs[i]!.url('ready')}/graphql`]));
  // The front door on, with a rate limit no client here reaches: each request still takes its token from Redis.
  const heimdall = await start('gateway/src/main.ts', { ...env, OTLP_PORT: '0', RATE_LIMIT_REQUESTS: '1000000' }, true);
  const stock = await start(
    'bench/src/stock-gateway.ts',
    {
      NODE_ENV: 'production',
      PORT: '0',
      SERVICE_AUTH_SECRET: testServiceAuthEnv().SERVICE_AUTH_SECRET,
      STOCK_SUBGRAPHS: JSON.stringify(SUBGRAPHS.map((name) => ({ name, url: subgraphUrls[name] }))),
    },
    true,
  );
  const heimdallUrl = `${heimdall.url('ready')}/graphql`;
  const stockUrl = stock.url('ready');
  const viewer = await system.authHeaders(['viewer']);
  // The gateway composes the subgraphs it finds in Consul: wait for all four.
  for (let attempt = 0; ; attempt++) {
    try {
      await post(heimdallUrl, { query: QUERY }, viewer);
      break;
    } catch (error) {
      if (attempt > 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  const representations = [{ __typename: 'Service', name: service }];
  const internal = () => serviceAuthHeaders(makeCaller(['viewer']));
  const direct = async () => {
    const headers = await internal();
    await Promise.all(
      SUBGRAPHS.map((name) =>
        post(subgraphUrls[name]!, { query: ENTITY_QUERIES[name], variables: { r: representations } }, headers),
      ),
    );
  };
  const viaHeimdall = () => post(heimdallUrl, { query: QUERY }, viewer);
  const viaStock = () => post(stockUrl, { query: QUERY }, {});

  const directLatency = await latencies(direct);
  const heimdallLatency = await latencies(viaHeimdall);
  const stockLatency = await latencies(viaStock);

  const subgraphPids = Object.fromEntries(SUBGRAPHS.map((name, i) => [name, subgraphs[i]!.child.pid!]));
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const rounds = {
    heimdall: [] as Awaited<ReturnType<typeof measuredRound>>[],
    stock: [] as Awaited<ReturnType<typeof measuredRound>>[],
  };
  for (let round = 0; round < ROUNDS; round++) {
    await throughput(viaHeimdall, 1000);
    rounds.heimdall.push(await measuredRound(viaHeimdall, { gateway: heimdall.child.pid!, ...subgraphPids }));
    await throughput(viaStock, 1000);
    rounds.stock.push(await measuredRound(viaStock, { gateway: stock.child.pid!, ...subgraphPids }));
  }
  const rates = { heimdall: rounds.heimdall.map((r) => r.rate), stock: rounds.stock.map((r) => r.rate) };
  const cpu = (of: typeof rounds.heimdall) => {
    const names = Object.keys(of[0]!.cpuMs);
    return names.map((name) => `${name} ${mean(of.map((r) => r.cpuMs[name]!)).toFixed(2)}`).join(', ');
  };

  const p = (s: number[]) => `p50 ${percentile(s, 50).toFixed(2)} ms, p99 ${percentile(s, 99).toFixed(2)} ms`;
  console.log(
    `cross-subgraph query, ${ITERATIONS} sequential requests after ${WARMUP} warm-up, every service its own process`,
  );
  console.log(`  direct (the 4 entity fetches in parallel): ${p(directLatency)}`);
  console.log(`  through Heimdall's gateway:                ${p(heimdallLatency)}`);
  console.log(`  through the stock gateway:                 ${p(stockLatency)}`);
  console.log(
    `  Heimdall's gateway overhead:               p50 ${(percentile(heimdallLatency, 50) - percentile(directLatency, 50)).toFixed(2)} ms`,
  );
  console.log(
    `  stock gateway overhead:                    p50 ${(percentile(stockLatency, 50) - percentile(directLatency, 50)).toFixed(2)} ms`,
  );
  console.log(
    `throughput, ${CONCURRENCY} concurrent clients, ${ROUNDS} rounds of ${ROUND_MS / 1000} s each, alternating`,
  );
  console.log(`  Heimdall's gateway: ${rates.heimdall.map((r) => r.toFixed(0)).join(', ')} requests/s`);
  console.log(`  stock gateway:      ${rates.stock.map((r) => r.toFixed(0)).join(', ')} requests/s`);
  console.log(`  ratio:              ${(mean(rates.heimdall) / mean(rates.stock)).toFixed(2)}×`);
  console.log('CPU per request (ms), by process, during those rounds');
  console.log(`  with Heimdall's gateway: ${cpu(rounds.heimdall)}`);
  console.log(`  with the stock gateway:  ${cpu(rounds.stock)}`);
} finally {
  for (const started of processes) await started.stop();
  await system.stop();
  await rm(dataDir, { recursive: true, force: true });
}
