import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { test as base, beforeAll, describe, expect } from 'vitest';
import { localStack } from '@heimdall/stack';
import { checkoutTraceBody } from './checkout-trace.fixtures.js';
import { type GraphQLErrorBody, System } from './system.js';

/**
 * The reason Heimdall exists: one request through the gateway answers a trace with its spans, the logs written inside
 * each span (the logs subgraph extends `Span` with `logs`) and the RED metrics of the service (the traces subgraph
 * derived them at ingest and wrote them through the metrics subgraph), each part read by its own subgraph.
 */
const local = localStack(process.env);

/** Polls `read` until `done` holds, for at most `ms`; the last value read. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(250);
  }
}

const it = base.extend<{ system: System; shop: string; payments: string }>({
  // eslint-disable-next-line no-empty-pattern -- vitest reads the fixtures a test uses from this parameter's pattern
  system: async ({}, use) => {
    const system = await System.create(local, process.env.CLICKHOUSE_URL);
    await use(system);
    await system.stop();
  },
  // eslint-disable-next-line no-empty-pattern
  shop: async ({}, use) => use(`shop-${randomUUID().slice(0, 8)}`),
  // eslint-disable-next-line no-empty-pattern
  payments: async ({}, use) => use(`payments-${randomUUID().slice(0, 8)}`),
});

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

interface Pushed {
  readonly traceId: string;
  readonly spanIds: { readonly checkout: string; readonly charge: string; readonly pay: string };
  /** The minute the spans ended in, ms. */
  readonly minute: number;
}

/**
 * A trace across two services through the gateway's :4318: `GET /checkout` (shop, SERVER) calls `charge` (shop,
 * CLIENT), which calls `POST /pay` (payments, SERVER, in error). Its spans end in the minute before this one.
 */
async function pushTrace(system: System, shop: string, payments: string): Promise<Pushed> {
  const minute = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
  const t0 = minute + 20_000;
  const traceId = hex(16);
  const spanIds = { checkout: hex(8), charge: hex(8), pay: hex(8) };
  const body = checkoutTraceBody({ traceId, spanIds, t0, shop, payments });
  const response = await fetch(`${system.otlpUrl!}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await system.authHeaders(['agent'])) },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return { traceId, spanIds, minute };
}

/**
 * Logs written inside the spans, straight into Elasticsearch's `logs` alias as the logs subgraph stores them (its
 * OTLP and JSON ingest are not on main yet), and one of the same service outside the trace, which no span may show.
 */
async function writeLogs(
  system: System,
  shop: string,
  payments: string,
  { traceId, spanIds, minute }: Pushed,
): Promise<void> {
  const at = (ms: number) => new Date(minute + 20_000 + ms).toISOString().replace('Z', '000000Z');
  const entries = [
    { service: shop, spanId: spanIds.checkout, level: 'INFO', message: '주문 확인 요청을 받았습니다', ms: 1 },
    { service: shop, spanId: spanIds.charge, level: 'WARN', message: 'payment retried once', ms: 10 },
    {
      service: payments,
      spanId: spanIds.pay,
      level: 'ERROR',
      message: '카드 결제가 거절되었습니다 card declined',
      ms: 20,
    },
  ];
  const operations = entries.flatMap(({ ms, ...entry }) => {
    const id = randomUUID();
    return [{ index: { _index: 'logs', _id: id } }, { id, timestamp: at(ms), labels: {}, traceId, ...entry }];
  });
  const unrelated = randomUUID();
  operations.push(
    { index: { _index: 'logs', _id: unrelated } },
    {
      id: unrelated,
      timestamp: at(2),
      labels: {},
      service: shop,
      level: 'INFO',
      message: 'another request',
      traceId: hex(16),
      spanId: hex(8),
    },
  );
  const result = await system.elasticsearch.bulk({ operations, refresh: true });
  expect(result.errors).toBe(false);
}

const joinedQuery = (traceId: string, shop: string, minute: number) => `{
  trace(traceId: "${traceId}") { spans { operationName service { name } logs { message level } } }
  service(name: "${shop}") {
    red(range: { from: "${new Date(minute).toISOString()}", to: "${new Date(minute + 60_000).toISOString()}" }, step: "1m") { timestamp rate errorRatio }
  }
}`;

interface JoinedAnswer {
  trace: {
    spans: { operationName: string; service: { name: string }; logs: { message: string; level: string }[] | null }[];
  } | null;
  service: { red: { timestamp: string; rate: number; errorRatio: number }[] | null };
}

const expectedSpans = (shop: string, payments: string, withLogs: boolean) => [
  {
    operationName: 'GET /checkout',
    service: { name: shop },
    logs: withLogs ? [{ message: '주문 확인 요청을 받았습니다', level: 'INFO' }] : null,
  },
  {
    operationName: 'charge',
    service: { name: shop },
    logs: withLogs ? [{ message: 'payment retried once', level: 'WARN' }] : null,
  },
  {
    operationName: 'POST /pay',
    service: { name: payments },
    logs: withLogs ? [{ message: '카드 결제가 거절되었습니다 card declined', level: 'ERROR' }] : null,
  },
];

/** Every subgraph, the gateway keeping a subgraph that stops in its supergraph; a trace with logs and metrics. */
async function seed(
  system: System,
  shop: string,
  payments: string,
): Promise<{ pushed: Pushed; answer: () => Promise<{ data?: JoinedAnswer; errors?: GraphQLErrorBody[] }> }> {
  for (const name of ['metrics', 'logs', 'traces'] as const) await system.startSubgraph(name);
  await system.startGateway({ SUBGRAPH_RETENTION_MS: '600000', OTLP_TRACES_URL: 'off' });
  const pushed = await pushTrace(system, shop, payments);
  await writeLogs(system, shop, payments, pushed);
  const answer = () => system.query<JoinedAnswer>(joinedQuery(pushed.traceId, shop, pushed.minute));
  // The RED points reach the metrics subgraph in the background, after the push was answered. A query the
  // supergraph cannot validate will not change by waiting.
  await eventually(
    answer,
    (result) =>
      (result.data?.service.red?.length ?? 0) > 0 ||
      result.errors?.some((e) => e.extensions?.code === 'GRAPHQL_VALIDATION_FAILED') === true,
  );
  return { pushed, answer };
}

describe('one query across the signals', () => {
  beforeAll(() => local.require('consul', 'elasticsearch', 'jaeger'));

  it('answers a trace’s spans with the logs written inside each and its service’s RED metrics in one request', async ({
    system,
    shop,
    payments,
  }) => {
    const { pushed, answer } = await seed(system, shop, payments);
    expect(await answer()).toEqual({
      data: {
        trace: { spans: expectedSpans(shop, payments, true) },
        // shop handled one request (GET /checkout, SERVER) in that minute; its CLIENT span is not a request it served.
        service: { red: [{ timestamp: new Date(pushed.minute).toISOString(), rate: 1 / 60, errorRatio: 0 }] },
      },
    });
  });

  it('still answers the trace and the metrics with the logs subgraph stopped, with UNAVAILABLE on the logs’ paths', async ({
    system,
    shop,
    payments,
  }) => {
    const { pushed, answer } = await seed(system, shop, payments);
    await system.crash('logs');
    const partial = await answer();
    expect(partial.data).toEqual({
      trace: { spans: expectedSpans(shop, payments, false) },
      service: { red: [{ timestamp: new Date(pushed.minute).toISOString(), rate: 1 / 60, errorRatio: 0 }] },
    });
    expect(
      partial.errors?.map((e) => ({ path: e.path, code: e.extensions?.code, service: e.extensions?.service })),
    ).toEqual([0, 1, 2].map((i) => ({ path: ['trace', 'spans', i, 'logs'], code: 'UNAVAILABLE', service: 'logs' })));
  });
});
