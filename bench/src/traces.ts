// Trace ingest and trace queries (issue 11). Needs the local stack (`npm run stack -- up`):
// `npm run traces -w @heimdall/bench`.
//
// Ingest: the traces subgraph runs in its own process as it ships (`node --import tsx subgraphs/traces/src/main.ts`,
// NODE_ENV=production); the same protobuf requests of 500 spans go, from the same concurrent clients, to its
// POST /v1/traces and straight to Jaeger's OTLP receiver, in alternating rounds. Queries go through the gateway
// (in this process) to that traces subgraph. Jaeger is one of the benchmark's own, from the stack's definition, on
// free ports with its data in a temp folder: every run starts from an empty store, and the shared stack's Jaeger is
// left as it was (hundreds of thousands of traces there slow every other test's reads).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { create, toBinary } from '@bufbuild/protobuf';
import { System } from '@heimdall/e2e';
import { otlp } from '@heimdall/shared/otlp';
import { type PrivateStack, REPO_DIR, freeTestPort, localStack, privateStack } from '@heimdall/stack';
import { internalHeaders } from './credentials.js';
import { concurrently, percentile } from './measure.js';

const CLIENTS = 8;
const SPANS_PER_REQUEST = 500;
const SPANS_PER_TRACE = 10;
/**
 * Requests per round and target; rounds alternate between the targets, short enough that both see the same
 * background load (other work on the machine's 2 cores moves either figure by 2×).
 */
const REQUESTS_PER_ROUND = 20;
const ROUNDS = 10;
const WARMUP_REQUESTS = 20;
const SEARCH_TRACES = 100_000;
const QUERY_RUNS = 100;
const QUERY_WARMUP = 10;
/** The filtered search takes Jaeger's badger seconds: fewer runs. */
const FILTERED_SEARCH_RUNS = 20;

const run = randomUUID().slice(0, 8);
const local = localStack(process.env);
const { Span_SpanKind: Kind, Status_StatusCode: Code } = otlp;

const text = (key: string, value: string) => ({ key, value: { value: { case: 'stringValue' as const, value } } });
const int = (key: string, value: bigint) => ({ key, value: { value: { case: 'intValue' as const, value } } });

/**
 * One request of `SPANS_PER_REQUEST` spans: traces of `SPANS_PER_TRACE` spans across three services (a SERVER root,
 * CLIENT calls, the callee's SERVER spans, INTERNAL work), HTTP attributes, one error in ten traces.
 */
function makeRequest(
  prefix: string,
  endMs: number,
  spansPerTrace = SPANS_PER_TRACE,
  spans = SPANS_PER_REQUEST,
): Uint8Array {
  const byService = new Map<string, otlp.Span[]>();
  const add = (service: string, span: otlp.Span) => byService.set(service, [...(byService.get(service) ?? []), span]);
  for (let t = 0; t < spans / spansPerTrace; t++) {
    const traceId = new Uint8Array(randomBytes(16));
    const start = BigInt(endMs - 200) * 1_000_000n;
    const root = create(otlp.SpanSchema, {
      traceId,
      spanId: new Uint8Array(randomBytes(8)),
      name: 'GET /checkout',
      kind: Kind.SERVER,
      startTimeUnixNano: start,
      endTimeUnixNano: start + 150_000_000n,
      attributes: [
        text('http.request.method', 'GET'),
        text('http.route', '/checkout'),
        int('http.response.status_code', 200n),
      ],
      ...(t % 10 === 0 ? { status: { code: Code.ERROR, message: 'payment failed' } } : {}),
    });
    add(`${prefix}-front`, root);
    for (let i = 1; i < spansPerTrace; i++) {
      const service = i % 3 === 0 ? `${prefix}-payments` : i % 3 === 1 ? `${prefix}-front` : `${prefix}-inventory`;
      add(
        service,
        create(otlp.SpanSchema, {
          traceId,
          spanId: new Uint8Array(randomBytes(8)),
          parentSpanId: root.spanId,
          name: i % 3 === 1 ? `render ${i}` : i % 3 === 0 ? 'POST /pay' : 'GET /stock',
          kind: i % 3 === 1 ? Kind.INTERNAL : Kind.SERVER,
          startTimeUnixNano: start + BigInt(i) * 10_000_000n,
          endTimeUnixNano: start + BigInt(i) * 10_000_000n + 8_000_000n,
          attributes: [text('code.function', `step${i}`), int('db.rows', BigInt(i))],
        }),
      );
    }
  }
  const request = create(otlp.ExportTraceServiceRequestSchema, {
    resourceSpans: [...byService].map(([service, list]) => ({
      resource: { attributes: [text('service.name', service), text('host.name', 'bench-1')] },
      scopeSpans: [{ scope: { name: 'bench', version: '1.0.0' }, spans: list }],
    })),
  });
  return toBinary(otlp.ExportTraceServiceRequestSchema, request);
}

const agentHeaders = internalHeaders('agent');
const adminHeaders = internalHeaders('admin');

async function post(url: string, body: Uint8Array): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', ...(await agentHeaders()) },
    body: Buffer.from(body),
  });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
}

/** CPU seconds (user + system) a process has used, from /proc. */
async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The pid listening on a port, from `ss` (undefined where `ss` is missing): to see where CPU time goes. */
function listenerPid(port: number): number | undefined {
  const listing = spawnSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' }).stdout ?? '';
  const pid = /pid=(\d+)/.exec(listing)?.[1];
  return pid === undefined ? undefined : Number(pid);
}

/** The private Jaeger's OTLP/HTTP traces receiver. */
const otlpTracesUrl = (jaeger: PrivateStack) => `${jaeger.endpoints.jaegerOtlpHttpUrl}/v1/traces`;

/** The traces subgraph as it ships, in a process of its own; resolves once it logged that it is ready. */
async function spawnTraces(system: System, jaeger: PrivateStack): Promise<{ child: ChildProcess; url: string }> {
  const port = await freeTestPort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_DIR, 'subgraphs', 'traces', 'src', 'main.ts')], {
    cwd: join(REPO_DIR, 'subgraphs', 'traces'),
    // Its log level as it ships (info): the ready line is logged at info.
    env: {
      ...process.env,
      ...system.env(),
      NODE_ENV: 'production',
      PORT: String(port),
      LOG_LEVEL: 'info',
      JAEGER_QUERY_URL: jaeger.endpoints.jaegerQueryUrl,
      JAEGER_OTLP_URL: otlpTracesUrl(jaeger),
      OTLP_TRACES_URL: otlpTracesUrl(jaeger),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    setTimeout(() => reject(new Error('the traces subgraph was not ready after 60 s')), 60_000).unref();
    child.once('exit', (code) => reject(new Error(`the traces subgraph exited (${code})`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.includes('"event":"ready"')) resolve();
    });
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

async function ingest(jaeger: PrivateStack, tracesUrl: string, tracesPid: number) {
  const jaegerPid = listenerPid(Number(new URL(otlpTracesUrl(jaeger)).port));
  const jaegerCpu = () => (jaegerPid === undefined ? Promise.resolve(Number.NaN) : cpuSeconds(jaegerPid));
  const jaegerUrl = otlpTracesUrl(jaeger);
  const heimdallUrl = `${tracesUrl}/v1/traces`;
  const now = Date.now();
  const requests = (target: string, round: number) =>
    Array.from({ length: REQUESTS_PER_ROUND }, (_, i) => makeRequest(`bench-${run}-${target}`, now - round * 1000 - i));
  await concurrently(
    Array.from({ length: WARMUP_REQUESTS }, (_, i) => makeRequest(`bench-${run}-warm`, now - i)),
    CLIENTS,
    (body) => post(jaegerUrl, body),
  );
  await concurrently(
    Array.from({ length: WARMUP_REQUESTS }, (_, i) => makeRequest(`bench-${run}-warm`, now - i)),
    CLIENTS,
    (body) => post(heimdallUrl, body),
  );

  const elapsed = { direct: 0, heimdall: 0 };
  const ratios: number[] = [];
  const cpu = { traces: 0, jaegerDirect: 0, jaegerHeimdall: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    const directBodies = requests('direct', round);
    let jaegerBefore = await jaegerCpu();
    const direct = await concurrently(directBodies, CLIENTS, (body) => post(jaegerUrl, body));
    cpu.jaegerDirect += (await jaegerCpu()) - jaegerBefore;
    const bodies = requests('heimdall', round);
    const cpuBefore = await cpuSeconds(tracesPid);
    jaegerBefore = await jaegerCpu();
    const heimdall = await concurrently(bodies, CLIENTS, (body) => post(heimdallUrl, body));
    cpu.traces += (await cpuSeconds(tracesPid)) - cpuBefore;
    cpu.jaegerHeimdall += (await jaegerCpu()) - jaegerBefore;
    elapsed.direct += direct;
    elapsed.heimdall += heimdall;
    ratios.push(direct / heimdall);
  }
  const spans = REQUESTS_PER_ROUND * ROUNDS * SPANS_PER_REQUEST;
  return {
    spans,
    directRate: spans / (elapsed.direct / 1000),
    heimdallRate: spans / (elapsed.heimdall / 1000),
    ratios: ratios.sort((a, b) => a - b),
    /** CPU ms per request: the traces subgraph, and Jaeger when pushed to directly or through Heimdall. */
    cpuMs: Object.fromEntries(
      Object.entries(cpu).map(([k, v]) => [k, (v * 1000) / (REQUESTS_PER_ROUND * ROUNDS)]),
    ) as Record<keyof typeof cpu, number>,
  };
}

/** Latencies of `runs` calls after a warm-up, sorted; a call that fails counts as Infinity (shown as "failed"). */
async function time(fn: () => Promise<void>, runs = QUERY_RUNS): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < QUERY_WARMUP + runs; i++) {
    const started = performance.now();
    const ok = await fn().then(
      () => true,
      (error: unknown) => {
        if (i >= QUERY_WARMUP)
          console.error(`  a run failed: ${error instanceof Error ? error.message.slice(0, 300) : String(error)}`);
        return false;
      },
    );
    if (i >= QUERY_WARMUP) samples.push(ok ? performance.now() - started : Number.POSITIVE_INFINITY);
  }
  return samples.sort((a, b) => a - b);
}

/** The same read at three layers: Jaeger's own API, the traces subgraph's GraphQL, and through the gateway. */
async function layers(
  system: System,
  jaeger: PrivateStack,
  subgraphUrl: string,
  jaegerPath: string,
  query: string,
  expect: (data: Record<string, unknown>) => boolean,
  runs = QUERY_RUNS,
) {
  const graphql = async (answer: Promise<{ data?: Record<string, unknown>; errors?: unknown[] }>) => {
    const result = await answer;
    if (result.errors !== undefined || result.data === undefined || !expect(result.data))
      throw new Error(`unexpected answer: ${JSON.stringify(result).slice(0, 500)}`);
  };
  const api = await time(async () => {
    const response = await fetch(`${jaeger.endpoints.jaegerQueryUrl}${jaegerPath}`);
    if (!response.ok) throw new Error(`Jaeger answered ${response.status}`);
    await response.arrayBuffer();
  }, runs);
  const subgraph = await time(
    async () =>
      graphql(
        fetch(`${subgraphUrl}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(await adminHeaders()) },
          body: JSON.stringify({ query }),
        }).then((r) => r.json() as Promise<{ data?: Record<string, unknown>; errors?: unknown[] }>),
      ),
    runs,
  );
  const gateway = await time(() => graphql(system.query<Record<string, unknown>>(query)), runs);
  return { api, subgraph, gateway };
}

async function queries(system: System, jaeger: PrivateStack, subgraphUrl: string) {
  // One trace of 500 spans, read whole.
  const big = makeRequest(`bench-${run}-big`, Date.now() - 1000, SPANS_PER_REQUEST, SPANS_PER_REQUEST);
  await post(otlpTracesUrl(jaeger), big);
  const bigTraceId = (
    await system.query<{ traces: { traceId: string }[] }>(
      `{ traces(filter: { service: "bench-${run}-big-front", range: { from: "${new Date(Date.now() - 600_000).toISOString()}", to: "${new Date(Date.now() + 60_000).toISOString()}" } }) { traceId } }`,
    )
  ).data!.traces[0]!.traceId;
  const trace = await layers(
    system,
    jaeger,
    subgraphUrl,
    `/api/v3/traces/${bigTraceId}?raw_traces=true`,
    `{ trace(traceId: "${bigTraceId}") { traceId spanCount errorCount durationMs
      spans { spanId parentSpanId operationName service { name } kind status { code message } startTime endTime durationMs tags { key type value } } } }`,
    (d) => (d.trace as { spanCount: number }).spanCount === SPANS_PER_REQUEST,
  );

  // 100,000 traces of one service in the last hour, then searches over the hour.
  const service = `bench-${run}-search`;
  const started = performance.now();
  const perRequest = 500;
  const bodies = Array.from({ length: SEARCH_TRACES / perRequest }, (_, i) => {
    const end = Date.now() - 3_000_000 + Math.floor((i * 3_000_000) / (SEARCH_TRACES / perRequest));
    return makeSearchRequest(service, end, perRequest);
  });
  await concurrently(bodies, CLIENTS, (body) => post(otlpTracesUrl(jaeger), body));
  const loadSeconds = (performance.now() - started) / 1000;
  const [from, to] = [Date.now() - 3_600_000, Date.now() + 60_000];
  const range = `{ from: "${new Date(from).toISOString()}", to: "${new Date(to).toISOString()}" }`;
  const search = (params: Record<string, string>) =>
    `/api/traces?${new URLSearchParams({ service, start: String(from * 1000), end: String(to * 1000), limit: '20', ...params }).toString()}`;
  const twenty = (d: Record<string, unknown>) => (d.traces as unknown[]).length === 20;
  const searchAll = await layers(
    system,
    jaeger,
    subgraphUrl,
    search({}),
    `{ traces(filter: { service: "${service}", range: ${range}, limit: 20 }) { traceId rootSpan { operationName } durationMs spanCount errorCount } }`,
    twenty,
  );
  const searchFiltered = await layers(
    system,
    jaeger,
    subgraphUrl,
    search({
      operation: 'GET /search',
      tags: JSON.stringify({ 'http.route': '/search', error: 'true' }),
      minDuration: '5000us',
    }),
    `{ traces(filter: { service: "${service}", operation: "GET /search", tags: [{ key: "http.route", value: "/search" }], minDurationMs: 5, errorsOnly: true, range: ${range}, limit: 20 }) { traceId durationMs spanCount errorCount } }`,
    twenty,
    FILTERED_SEARCH_RUNS,
  );
  return { trace, searchAll, searchFiltered, loadSeconds };
}

/** `count` single-span traces of `service`, ending at `endMs`; one in ten in error. */
function makeSearchRequest(service: string, endMs: number, count: number): Uint8Array {
  const spans = Array.from({ length: count }, (_, i) =>
    create(otlp.SpanSchema, {
      traceId: new Uint8Array(randomBytes(16)),
      spanId: new Uint8Array(randomBytes(8)),
      name: 'GET /search',
      kind: Kind.SERVER,
      startTimeUnixNano: BigInt(endMs - 10 - (i % 20)) * 1_000_000n,
      endTimeUnixNano: BigInt(endMs) * 1_000_000n,
      attributes: [text('http.route', '/search')],
      ...(i % 10 === 0 ? { status: { code: Code.ERROR } } : {}),
    }),
  );
  const request = create(otlp.ExportTraceServiceRequestSchema, {
    resourceSpans: [{ resource: { attributes: [text('service.name', service)] }, scopeSpans: [{ spans }] }],
  });
  return toBinary(otlp.ExportTraceServiceRequestSchema, request);
}

await local.require('consul', 'jaeger');
const jaeger = await privateStack(['jaeger'], process.env);
const system = await System.create(local, process.env.CLICKHOUSE_URL);
let traces: ChildProcess | undefined;
try {
  await system.startSubgraph('metrics');
  const spawned = await spawnTraces(system, jaeger);
  traces = spawned.child;
  await system.startGateway({ OTLP_TRACES_URL: 'off' });

  const i = await ingest(jaeger, spawned.url, traces.pid!);
  // What the forwarder did with the RED points of the pushes: sent, or dropped and why.
  const red = (await (await fetch(`${spawned.url}/metrics`)).text())
    .split('\n')
    .filter((line) => /^heimdall_red_points_(sent|dropped)_total/.test(line))
    .map((line) =>
      `${line.split('{')[0]}${/reason="(\w+)"/.exec(line)?.[1] ?? ''} ${line.split(' ').at(-1)}`.replace(
        'heimdall_red_points_',
        '',
      ),
    );
  const q = await queries(system, jaeger, spawned.url);

  const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : 'failed');
  const p = (s: number[]) =>
    `p50 ${ms(percentile(s, 50))}, p99 ${ms(percentile(s, 99))}${s.some((v) => !Number.isFinite(v)) ? ` (${s.filter((v) => !Number.isFinite(v)).length} of ${s.length} failed)` : ''}`;
  console.log(
    `ingest: ${i.spans} spans per target in protobuf requests of ${SPANS_PER_REQUEST} (traces of ${SPANS_PER_TRACE} spans, 3 services), ${CLIENTS} clients, ${ROUNDS} alternating rounds`,
  );
  console.log(`  POST /v1/traces (traces subgraph, own process, RED included): ${Math.round(i.heimdallRate)} spans/s`);
  console.log(`  straight to Jaeger's OTLP receiver:                          ${Math.round(i.directRate)} spans/s`);
  console.log(
    `  ratio: ${(i.heimdallRate / i.directRate).toFixed(2)}x overall; per round min ${i.ratios[0]!.toFixed(2)}, median ${percentile(i.ratios, 50).toFixed(2)}, max ${i.ratios.at(-1)!.toFixed(2)}`,
  );
  console.log(
    `  CPU per request of ${SPANS_PER_REQUEST} spans: traces subgraph ${i.cpuMs.traces.toFixed(1)} ms; Jaeger ${i.cpuMs.jaegerDirect.toFixed(1)} ms pushed directly, ${i.cpuMs.jaegerHeimdall.toFixed(1)} ms through Heimdall`,
  );
  console.log(`  RED points: ${red.join('; ')}`);
  console.log(`queries, ${QUERY_RUNS} runs after ${QUERY_WARMUP} warm-up, at three layers:`);
  const l = (m: Awaited<ReturnType<typeof layers>>) =>
    `gateway ${p(m.gateway)}; subgraph ${p(m.subgraph)}; Jaeger's API ${p(m.api)}`;
  console.log(`  trace(traceId) of a ${SPANS_PER_REQUEST}-span trace, every span with its tags: ${l(q.trace)}`);
  console.log(
    `  traces(filter) of one service with ${SEARCH_TRACES} traces in the hour (loaded in ${q.loadSeconds.toFixed(0)} s), limit 20: ${l(q.searchAll)}`,
  );
  console.log(
    `  the same with operation, tag, minDurationMs and errorsOnly (${FILTERED_SEARCH_RUNS} runs): ${l(q.searchFiltered)}`,
  );
} finally {
  await system.stop();
  if (traces !== undefined && traces.exitCode === null) {
    const exited = new Promise((resolve) => traces!.once('exit', resolve));
    traces.kill('SIGTERM');
    await exited;
  }
  await jaeger.remove();
}
