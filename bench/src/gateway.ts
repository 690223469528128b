// Gateway overhead and recomposition delay (issue 4). Runs the whole system in this process against the local
// stack (`npm run stack -- up` first): `npm run gateway -w @heimdall/bench`.
import { randomUUID } from 'node:crypto';
import { System } from '@heimdall/e2e';
import { makeCaller, serviceAuthHeaders } from '@heimdall/testkit';
import { localStack } from '@heimdall/stack';
import { percentile } from './measure.js';

const ITERATIONS = 1000;
const WARMUP = 100;
const service = `bench-${randomUUID().slice(0, 8)}`;

const GATEWAY_QUERY = `{ service(name: "${service}") { name series { name } logs(limit: 1) { message } operations { name } rules { name } } }`;
const ENTITY_QUERIES: Record<string, string> = {
  metrics: 'query($r:[_Any!]!){_entities(representations:$r){...on Service{series{name}}}}',
  logs: 'query($r:[_Any!]!){_entities(representations:$r){...on Service{logs(limit:1){message}}}}',
  traces: 'query($r:[_Any!]!){_entities(representations:$r){...on Service{operations{name}}}}',
  alerts: 'query($r:[_Any!]!){_entities(representations:$r){...on Service{rules{name}}}}',
};

async function time(fn: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + ITERATIONS; i++) {
    const started = process.hrtime.bigint();
    await fn();
    if (i >= WARMUP) samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return samples.sort((a, b) => a - b);
}

async function post(url: string, body: unknown, headers: Record<string, string>): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const result = (await response.json()) as { errors?: unknown };
  if (result.errors !== undefined) throw new Error(`query failed: ${JSON.stringify(result.errors)}`);
}

const system = await System.create(localStack(process.env), process.env.CLICKHOUSE_URL);
try {
  for (const name of ['metrics', 'logs', 'traces', 'alerts'] as const) await system.startSubgraph(name);
  // The front door on, with a rate limit no sequential benchmark reaches.
  const gateway = await system.startGateway({
    SUBGRAPH_RETENTION_MS: '0',
    OTLP_TRACES_URL: 'off',
    RATE_LIMIT_REQUESTS: '1000000',
  });
  const gatewayUrl = `${gateway.service.url}/graphql`;
  const representations = [{ __typename: 'Service', name: service }];
  // What the gateway sends each subgraph (an internal token for the viewer), and what a viewer sends the gateway.
  const internal = await serviceAuthHeaders(makeCaller(['viewer']));
  const viewer = await system.authHeaders(['viewer']);

  // The same four entity fetches the gateway makes, in parallel as its query plan runs them.
  const direct = await time(() =>
    Promise.all(
      Object.entries(ENTITY_QUERIES).map(([name, query]) =>
        post(
          `${system.subgraphs.get(name as 'metrics')!.service.url}/graphql`,
          { query, variables: { r: representations } },
          internal,
        ),
      ),
    ),
  );
  const viaGateway = await time(() => post(gatewayUrl, { query: GATEWAY_QUERY }, viewer));

  // Recomposition: from a subgraph's registration (or deregistration) to the supergraph that has (or lacks) it.
  const delays: { appear: number[]; disappear: number[] } = { appear: [], disappear: [] };
  for (let round = 0; round < 5; round++) {
    const composed = (has: boolean) =>
      new Promise<number>((resolve) =>
        gateway.supergraph.onComposition((event) => {
          if (event.ok && event.subgraphs.includes('logs') === has) resolve(performance.now());
        }),
      );
    const gone = composed(false);
    await system.subgraphs.get('logs')!.service.stop();
    const stoppedAt = performance.now();
    delays.disappear.push((await gone) - stoppedAt);
    system.subgraphs.delete('logs');
    const back = composed(true);
    const startedAt = performance.now();
    await system.startSubgraph('logs');
    delays.appear.push((await back) - startedAt);
  }

  const p = (s: number[]) => `p50 ${percentile(s, 50).toFixed(2)} ms, p99 ${percentile(s, 99).toFixed(2)} ms`;
  console.log(`cross-subgraph query, ${ITERATIONS} sequential requests after ${WARMUP} warm-up`);
  console.log(`  direct (4 subgraph calls in parallel): ${p(direct)}`);
  console.log(`  through the gateway:                   ${p(viaGateway)}`);
  console.log(
    `  gateway overhead:                      p50 ${(percentile(viaGateway, 50) - percentile(direct, 50)).toFixed(2)} ms`,
  );
  const max = (s: number[]) => Math.max(...s).toFixed(0);
  console.log(`recomposition after deregistration: max ${max(delays.disappear)} ms over 5 rounds`);
  console.log(`recomposition after registration (start included): max ${max(delays.appear)} ms over 5 rounds`);
} finally {
  await system.stop();
}
