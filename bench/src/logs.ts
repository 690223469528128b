// Logs (issue 10): OTLP ingest against a direct _bulk of the same documents, the JSON API's acceptance rate and
// backlog drain, logSearch over 1,000,000 documents through the gateway, logPatterns over all of them and over one service. The logs
// subgraph and the gateway run in processes of their own with NODE_ENV=production, as they ship. Everything is
// written to an Elasticsearch of the benchmark's own (the local stack's server definition, its own ports and state
// directory, removed at the end), so the shared stack is left as it was. Needs the local stack
// (`npm run stack -- up`: Consul and Redis are shared): `npm run logs -w @heimdall/bench`.
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { Redis } from 'ioredis';
import { TEMPLATE_FILE, bulkDocument, minePatterns, toLogDocuments } from '@heimdall/logs';
import {
  DEFAULT_JWT_AUDIENCE,
  DEFAULT_JWT_ISSUER,
  generateUserSigningKeys,
  signUserToken,
} from '@heimdall/shared/auth';
import { otlp } from '@heimdall/shared/otlp';
import { testServiceAuthEnv } from '@heimdall/testkit';
import { localStack, privateStack } from '@heimdall/stack';
import { internalHeaders } from './credentials.js';
import { startService } from './processes.js';
import { concurrently, percentile } from './measure.js';

const CLIENTS = 4;
const BATCH = 1_000;
const ROUNDS = 3;
const ROUND_BATCHES = 24;
const WARMUP_BATCHES = 8;
const API_ENTRIES = 100_000;
const SEARCH_DOCS = 1_000_000;
const SEARCH_SERVICES = 20;
const SEARCH_RUNS = 300;
const SEARCH_WARMUP = 30;
const PATTERN_RUNS = 10;
const HOUR = 3_600_000;
const run = randomUUID().slice(0, 8);

const USERS = ['kim', 'lee', 'park', 'choi', 'jung', 'kang', 'cho', 'yoon'];
const TEMPLATES: ((i: number) => { message: string; severity: number })[] = [
  (i) => ({
    message: `사용자 ${USERS[i % 8]}님의 주문 ord-${100_000 + i} 결제가 실패했습니다: 카드 한도 초과`,
    severity: 17,
  }),
  (i) => ({
    message: `데이터베이스 연결 풀에서 커넥션을 가져오지 못했습니다 (timeout ${200 + (i % 800)}ms, pool=orders)`,
    severity: 17,
  }),
  (i) => ({ message: `상품 sku-${i % 5000} 재고가 ${i % 40}개 남았습니다. 재입고 알림을 예약합니다`, severity: 13 }),
  (i) => ({
    message: `배송 요청 dlv-${i} 처리 완료 — 소요 시간 ${i % 900}ms, 창고 ${['서울', '부산', '대전'][i % 3]}`,
    severity: 9,
  }),
  (i) => ({
    message: `인증 토큰이 만료되었습니다. 사용자 ${USERS[(i * 7) % 8]}에게 다시 로그인을 요청합니다`,
    severity: 13,
  }),
  (i) => ({ message: `GET /api/v1/orders/${i} 200 ${i % 300}ms 주문 조회 요청을 처리했습니다`, severity: 9 }),
  (i) => ({
    message: `결제 대행사 응답 지연: ${1000 + (i % 4000)}ms 후 재시도합니다 (시도 ${1 + (i % 3)}회)`,
    severity: 13,
  }),
  (i) => ({ message: `장바구니 cart-${i % 20_000}에 상품 ${1 + (i % 9)}개를 담았습니다`, severity: 9 }),
];

const text = (value: string) => ({ value: { case: 'stringValue' as const, value } });

/** One OTLP request of BATCH Korean-heavy records of `service`, spread over the second before `at` (ms). */
function otlpBatch(service: string, batch: number, at: number): Uint8Array {
  return toBinary(
    otlp.ExportLogsServiceRequestSchema,
    create(otlp.ExportLogsServiceRequestSchema, {
      resourceLogs: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: text(service) },
              { key: 'host.name', value: text(`web-${batch % 7}`) },
            ],
          },
          scopeLogs: [
            {
              scope: { name: 'bench.logger' },
              logRecords: Array.from({ length: BATCH }, (_, k) => {
                const i = batch * BATCH + k;
                const { message, severity } = TEMPLATES[i % TEMPLATES.length]!(i);
                return {
                  timeUnixNano: BigInt(at) * 1_000_000n - BigInt(k) * 1000n,
                  severityNumber: severity,
                  body: text(message),
                  attributes: [
                    { key: 'region', value: text(['kr-seoul', 'kr-busan', 'jp-tokyo'][i % 3]!) },
                    { key: 'http.method', value: text(i % 4 === 0 ? 'POST' : 'GET') },
                    { key: 'pod', value: text(`checkout-${i % 12}`) },
                  ],
                };
              }),
            },
          ],
        },
      ],
    }),
  );
}

const decode = (body: Uint8Array) => fromBinary(otlp.ExportLogsServiceRequestSchema, body);

async function es(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<unknown> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': contentType },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const answer = await response.json();
  if (response.status >= 300)
    throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(answer).slice(0, 500)}`);
  return answer;
}

/** A `_bulk` of creates into `index`; throws unless every document was created. */
async function bulk(url: string, index: string, documents: readonly { id: string; source: string }[]): Promise<void> {
  const lines = documents.flatMap((d) => [`{"create":{"_id":${JSON.stringify(d.id)}}}`, d.source]);
  const answer = (await es(url, 'POST', `/${index}/_bulk`, `${lines.join('\n')}\n`, 'application/x-ndjson')) as {
    errors: boolean;
  };
  if (answer.errors) throw new Error(`_bulk into ${index} had errors`);
}

/** Waits until Elasticsearch has no merge under way (what it wrote is as a live cluster would hold it). */
async function settle(url: string): Promise<void> {
  await es(url, 'POST', '/_refresh');
  for (;;) {
    const stats = (await es(url, 'GET', '/_nodes/stats/indices/merge')) as {
      nodes: Record<string, { indices: { merges: { current: number } } }>;
    };
    if (Object.values(stats.nodes).every((n) => n.indices.merges.current === 0)) return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

const local = localStack(process.env);
await local.require('consul', 'redis');
// With the shared stack's heap (1g unless ES_HEAP says otherwise), not a private stack's 512m: the figures are of it.
const elasticsearch = await privateStack(['elasticsearch'], process.env, { ES_HEAP: local.config.elasticsearch.heap });
const stateDir = elasticsearch.config.stackDir;
const esUrl = elasticsearch.endpoints.elasticsearchUrl;
const stream = `heimdall:logs:bench-${run}`;
// Credentials as the e2e system makes them: this process's service-trust secret, a signing key of the run. Direct
// calls to the logs subgraph carry the internal token the gateway would add.
const keys = await generateUserSigningKeys();
await writeFile(join(stateDir, 'jwt-public.pem'), keys.publicKeyPem);
const viewerToken = await signUserToken(keys.privateKeyPem, {
  subject: 'bench',
  roles: ['viewer'],
  ttlSeconds: 3600,
  issuer: DEFAULT_JWT_ISSUER,
  audience: DEFAULT_JWT_AUDIENCE,
});
const agentHeaders = internalHeaders('agent');
const viewerHeaders = internalHeaders('viewer');
const env = {
  CONSUL_URL: local.endpoints.consulUrl,
  SUBGRAPH_TAG: `bench-${run}`,
  HOST: '127.0.0.1',
  PORT: '0',
  ...testServiceAuthEnv(),
  JWT_PUBLIC_KEY_FILE: join(stateDir, 'jwt-public.pem'),
};
const services: { stop(): Promise<void> }[] = [];
try {
  const logs = await startService('subgraphs/logs/src/main.ts', {
    ...env,
    ELASTICSEARCH_URL: esUrl,
    REDIS_URL: local.endpoints.redisUrl,
    LOGS_QUEUE_STREAM: stream,
  });
  services.push(logs);
  // The answer cache off: every search and pattern run here is measured against Elasticsearch, not a cached answer.
  const gateway = await startService('gateway/src/main.ts', { ...env, OTLP_PORT: '0', RESPONSE_CACHE_TTL_MS: '0' });
  services.push(gateway);
  const now = Date.now();

  // --- OTLP ingest versus a direct _bulk of the same documents --------------------------------------------------
  // Rounds alternate the two, each on batches of its own, so that the other work on the machine and Elasticsearch's
  // own merging weigh on both alike; the ratio is of the totals.
  const ingestService = `ingest-${run}`;
  const bodies = Array.from({ length: WARMUP_BATCHES + ROUNDS * ROUND_BATCHES }, (_, b) =>
    otlpBatch(ingestService, b, now - 30 * 60_000 + b * 1000),
  );
  // The baseline's documents are the ones the OTLP path stores: decoded and mapped ahead of time, outside the clock.
  const documents = bodies.map((body) =>
    toLogDocuments(decode(body), now).documents.map(({ document }) => bulkDocument(document)),
  );
  const template = JSON.parse(await readFile(TEMPLATE_FILE, 'utf8')) as {
    template: { settings: Record<string, unknown>; mappings: unknown };
  };
  await es(esUrl, 'PUT', '/bench-direct', {
    settings: { ...template.template.settings, number_of_shards: 1, number_of_replicas: 0 },
    mappings: template.template.mappings,
  });
  const post = async (body: Uint8Array) => {
    const answer = await fetch(`${logs.url}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf', ...(await agentHeaders()) },
      body,
    });
    if (answer.status !== 200) throw new Error(`/v1/logs answered ${answer.status}: ${await answer.text()}`);
  };
  await concurrently(documents.slice(0, WARMUP_BATCHES), CLIENTS, (batch) => bulk(esUrl, 'bench-direct', batch));
  await concurrently(bodies.slice(0, WARMUP_BATCHES), CLIENTS, post);
  const rounds: { directMs: number; otlpMs: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const from = WARMUP_BATCHES + r * ROUND_BATCHES;
    await settle(esUrl);
    const directMs = await concurrently(documents.slice(from, from + ROUND_BATCHES), CLIENTS, (batch) =>
      bulk(esUrl, 'bench-direct', batch),
    );
    await settle(esUrl);
    const otlpMs = await concurrently(bodies.slice(from, from + ROUND_BATCHES), CLIENTS, post);
    rounds.push({ directMs, otlpMs });
  }
  await es(esUrl, 'DELETE', '/bench-direct');
  const perRound = ROUND_BATCHES * BATCH;
  const rate = (ms: number, n = perRound) => Math.round(n / (ms / 1000));
  const directTotal = rounds.reduce((t, r) => t + r.directMs, 0);
  const otlpTotal = rounds.reduce((t, r) => t + r.otlpMs, 0);
  console.log(
    `OTLP ingest: ${ROUNDS} rounds of ${perRound} Korean-heavy records each way, protobuf requests of ${BATCH}, ${CLIENTS} clients`,
  );
  console.log(`  direct _bulk per round:  ${rounds.map((r) => rate(r.directMs)).join(', ')} docs/s`);
  console.log(`  POST /v1/logs per round: ${rounds.map((r) => rate(r.otlpMs)).join(', ')} records/s`);
  console.log(
    `  total: direct ${rate(directTotal, ROUNDS * perRound)} docs/s, OTLP ${rate(otlpTotal, ROUNDS * perRound)} records/s, ratio ${(directTotal / otlpTotal).toFixed(2)}x (per round ${rounds.map((r) => (r.directMs / r.otlpMs).toFixed(2)).join(', ')})`,
  );

  // --- POST /api/v1/logs: acceptance and backlog drain -----------------------------------------------------------
  const apiService = `api-${run}`;
  const apiBodies = Array.from({ length: API_ENTRIES / BATCH }, (_, b) =>
    JSON.stringify(
      Array.from({ length: BATCH }, (_, k) => {
        const i = b * BATCH + k;
        const { message } = TEMPLATES[i % TEMPLATES.length]!(i);
        return {
          message,
          service: apiService,
          level: 'INFO',
          timestamp: new Date(now - 20 * 60_000 + i).toISOString(),
          labels: { region: 'kr-seoul' },
        };
      }),
    ),
  );
  const queueDepth = async () =>
    Number(
      /^heimdall_logs_queue_depth\{[^}]*\} (\d+)/m.exec(await (await fetch(`${logs.url}/metrics`)).text())?.[1] ?? NaN,
    );
  const acceptStarted = performance.now();
  const acceptMs = await concurrently(apiBodies, CLIENTS, async (body) => {
    const answer = await fetch(`${logs.url}/api/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await agentHeaders()) },
      body,
    });
    if (answer.status !== 202) throw new Error(`/api/v1/logs answered ${answer.status}: ${await answer.text()}`);
  });
  const backlog = await queueDepth();
  while ((await queueDepth()) > 0) await new Promise((resolve) => setTimeout(resolve, 100));
  const drainedMs = performance.now() - acceptStarted;
  console.log(`POST /api/v1/logs: ${API_ENTRIES} entries in requests of ${BATCH}, ${CLIENTS} clients`);
  console.log(
    `  accepted:           ${Math.round(API_ENTRIES / (acceptMs / 1000))} entries/s (${backlog} still queued when the last was accepted)`,
  );
  console.log(
    `  backlog drained:    ${((drainedMs - acceptMs) / 1000).toFixed(1)} s after the last acceptance; ${Math.round(API_ENTRIES / (drainedMs / 1000))} entries/s indexed from first acceptance to empty queue`,
  );

  // --- logSearch over 1,000,000 documents through the gateway ----------------------------------------------------
  // Written straight into the logs alias (the data, not the ingest, is what this part measures): 20 services over
  // the last 24 hours, so that one service's last hour holds about 2,000 entries.
  const searchServices = Array.from({ length: SEARCH_SERVICES }, (_, s) => `shop-${s}-${run}`);
  const seedBatches = SEARCH_DOCS / BATCH;
  const seedStarted = performance.now();
  await concurrently(
    Array.from({ length: seedBatches }, (_, b) => b),
    CLIENTS,
    async (b) => {
      const service = searchServices[b % SEARCH_SERVICES]!;
      const at = now - 24 * HOUR + Math.floor((b / seedBatches) * 24 * HOUR);
      const decoded = toLogDocuments(decode(otlpBatch(service, 1000 + b, at)), now);
      await bulk(
        esUrl,
        'logs',
        decoded.documents.map(({ document }) => bulkDocument(document)),
      );
    },
  );
  const seedMs = performance.now() - seedStarted;
  await settle(esUrl);
  const gql = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    const answer = (await (
      await fetch(`${gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${viewerToken}` },
        body: JSON.stringify({ query, variables }),
      })
    ).json()) as {
      data?: T;
      errors?: unknown[];
    };
    if (answer.errors !== undefined || answer.data === undefined) throw new Error(JSON.stringify(answer.errors));
    return answer.data;
  };
  const searchQuery =
    'query($filter: LogFilter!) { logSearch(filter: $filter, first: 50) { total totalRelation cursor entries { id timestamp level message service labels { key value } highlights } } }';
  const terms = ['실패', '결제', '데이터베이스', '재고', '배송', '토큰'];
  const searchFilter = (i: number) => ({
    query: terms[i % terms.length],
    services: [searchServices[i % SEARCH_SERVICES]],
    range: { from: new Date(now - HOUR).toISOString(), to: new Date(now + (i % 1000)).toISOString() },
  });
  // The gateway composes the logs subgraph once it has seen it in Consul.
  for (let ready = false; !ready;) {
    ready = await gql(searchQuery, { filter: searchFilter(0) }).then(
      () => true,
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 500));
        return false;
      },
    );
  }
  const latencies: number[] = [];
  let matched = 0;
  for (let i = 0; i < SEARCH_WARMUP + SEARCH_RUNS; i++) {
    const started = performance.now();
    const answer = await gql<{ logSearch: { total: number; entries: unknown[] } }>(searchQuery, {
      filter: searchFilter(i),
    });
    if (i >= SEARCH_WARMUP) {
      latencies.push(performance.now() - started);
      matched += answer.logSearch.total;
    }
  }
  latencies.sort((a, b) => a - b);
  const direct: number[] = [];
  for (let i = 0; i < SEARCH_RUNS; i++) {
    const started = performance.now();
    const answer = await fetch(`${logs.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await viewerHeaders()) },
      body: JSON.stringify({ query: searchQuery, variables: { filter: searchFilter(i) } }),
    });
    await answer.text();
    direct.push(performance.now() - started);
  }
  direct.sort((a, b) => a - b);
  console.log(
    `logSearch over ${SEARCH_DOCS} documents (written at ${Math.round(SEARCH_DOCS / (seedMs / 1000))} docs/s by direct _bulk): a Korean word + a service + the last hour, first 50 with highlights`,
  );
  console.log(
    `  through the gateway: p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms (${SEARCH_RUNS} runs after ${SEARCH_WARMUP}; ${Math.round(matched / SEARCH_RUNS)} matches per query on average)`,
  );
  console.log(
    `  at the subgraph:     p50 ${percentile(direct, 50).toFixed(1)} ms, p99 ${percentile(direct, 99).toFixed(1)} ms`,
  );

  // --- logPatterns over every document, then over one service ---------------------------------------------------
  // Each run's range ends a millisecond later than the last one's, so no answer comes from the gateway's cache.
  const patternQuery =
    'query($filter: LogFilter!) { logPatterns(filter: $filter, limit: 20) { pattern count sampled } }';
  const patternRuns = async (services: string[] | undefined) => {
    const times: number[] = [];
    let patterns: { pattern: string; count: number; sampled: boolean }[] = [];
    for (let i = 0; i < PATTERN_RUNS + 2; i++) {
      const filter = {
        ...(services === undefined ? {} : { services }),
        range: { from: new Date(now - 24 * HOUR).toISOString(), to: new Date(now + 60_000 + i).toISOString() },
      };
      const started = performance.now();
      patterns = (await gql<{ logPatterns: typeof patterns }>(patternQuery, { filter })).logPatterns;
      if (i >= 2) times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    return { times, patterns };
  };
  for (const [what, services] of [
    [`all ${SEARCH_DOCS} documents`, undefined],
    [`one service (${SEARCH_DOCS / SEARCH_SERVICES} documents)`, [searchServices[0]!]],
  ] as const) {
    const { times, patterns } = await patternRuns(services === undefined ? undefined : [...services]);
    console.log(
      `logPatterns over ${what}, through the gateway, uncached: p50 ${percentile(times, 50).toFixed(0)} ms, max ${times.at(-1)!.toFixed(0)} ms (${PATTERN_RUNS} runs)`,
    );
    console.log(
      `  ${patterns.length} patterns${patterns.some((p) => p.sampled) ? ' (sampled)' : ''}, most frequent: ${patterns
        .slice(0, 3)
        .map((p) => `${p.pattern} (${p.count})`)
        .join(' | ')}`,
    );
  }
  const sample = Array.from({ length: 2_000 }, (_, i) => ({
    message: TEMPLATES[i % TEMPLATES.length]!(i * 13).message,
    timestamp: new Date(now - i).toISOString(),
  }));
  const mineStarted = performance.now();
  minePatterns(sample);
  console.log(
    `  mining the 2,000 messages of a sample alone: ${(performance.now() - mineStarted).toFixed(0)} ms in this process`,
  );
} finally {
  for (const service of services.reverse()) await service.stop();
  await elasticsearch.remove();
  const redis = new Redis(local.endpoints.redisUrl);
  await redis.del(stream, `${stream}:dead`, `${stream}:backlog`);
  redis.disconnect();
}
