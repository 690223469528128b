import { randomUUID } from 'node:crypto';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@heimdall/shared/config';
import { ConsulClient } from '@heimdall/shared/discovery';
import { mountGraphQL } from '@heimdall/shared/graphql';
import { Readiness, createHttpService } from '@heimdall/shared/http';
import { ServiceMetrics, createLogger, createTelemetry } from '@heimdall/shared/telemetry';
import { testServiceAuthEnv } from '@heimdall/testkit';
import { localStack } from '@heimdall/stack';
import { gatewayEnvSchema } from './config.js';
import { type Gateway, createServer } from './server.js';

const local = localStack(process.env);
const consul = new ConsulClient(local.endpoints.consulUrl);
const run = randomUUID().slice(0, 8);
// A tag of this run alone: the gateway composes this test's subgraph and nothing else registered in the shared Consul.
const TAG = `hostile-int-${run}`;
const SUBGRAPH_ID = `hostile-int-${run}`;

/** A subgraph with a page (`rules(first)`) and a list with a large default size (`samples(limit)`), as Heimdall's have. */
const SUBGRAPH_SDL = `
  type Query {
    hello: String
    rules(first: Int! = 50): RulePage!
    samples(limit: Int! = 1000): [Sample!]!
  }
  type RulePage { nodes: [Rule!]! endCursor: String }
  type Rule { name: String! }
  type Sample { name: String! value: Float! at: String! labels: [Label!]! }
  type Label { name: String! value: String! }
`;

let redis: Redis;
let gateway: Gateway;
let gatewayUrl: string;
/** Operations the subgraph was asked to run, its schema reads aside. */
const subgraphCalls: string[] = [];
let closeSubgraph: () => Promise<unknown>;

beforeAll(async () => {
  await local.require('consul', 'redis');
  redis = new Redis(local.endpoints.redisUrl);
  const logger = createLogger({ service: 'hostile-subgraph', instanceId: run, level: 'silent' });
  const metrics = new ServiceMetrics({ service: 'hostile-subgraph', instance: run });
  const app = createHttpService(
    { logger, metrics, telemetry: createTelemetry({ serviceName: 'hostile-subgraph', serviceVersion: '0' }) },
    new Readiness(),
  );
  const schema = buildSubgraphSchema([
    {
      typeDefs: parse(SUBGRAPH_SDL),
      resolvers: {
        Query: {
          hello: () => 'world',
          rules: (_: unknown, { first }: { first: number }) => ({
            nodes: Array.from({ length: Math.min(first, 3) }, (_v, i) => ({ name: `r${i}` })),
            endCursor: null,
          }),
          samples: (_: unknown, { limit }: { limit: number }) =>
            Array.from({ length: Math.min(limit, 3) }, (_v, i) => ({
              name: 'up',
              value: i,
              at: '0',
              labels: [{ name: 'job', value: 'api' }],
            })),
        },
      },
    },
  ]);
  await mountGraphQL(app, { schema }, { metrics, logger, context: () => Promise.resolve({}) });
  app.addHook('onRequest', (request, _reply, done) => {
    const query = (request.body as { query?: string } | undefined)?.query;
    if (query !== undefined && !query.includes('_service')) subgraphCalls.push(query);
    done();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  closeSubgraph = () => app.close();
  await consul.register({
    name: SUBGRAPH_ID,
    id: SUBGRAPH_ID,
    address: '127.0.0.1',
    port,
    tags: [TAG],
    meta: { graphql_path: '/graphql' },
    check: {
      http: `http://127.0.0.1:${port}/health`,
      interval: '10s',
      timeout: '1s',
      deregisterCriticalServiceAfter: '1m',
      initialStatus: 'passing',
    },
  });

  const config = loadConfig(gatewayEnvSchema, {
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    AUTH_DISABLED: 'true',
    SUBGRAPH_TAG: TAG,
    CONSUL_URL: local.endpoints.consulUrl,
    REDIS_URL: local.endpoints.redisUrl,
    OTLP_TRACES_URL: 'off',
    RESPONSE_CACHE_TTL_MS: '0',
    RATE_LIMIT_REQUESTS: '100000',
    ...testServiceAuthEnv(),
  });
  gateway = await createServer(config, { consul, redis });
  await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  gatewayUrl = `http://127.0.0.1:${(gateway.app.server.address() as { port: number }).port}`;
  // Composed once the subgraph's field validates.
  for (let tries = 0; (await query({ query: '{ hello }' })).body.data?.hello !== 'world'; tries++) {
    if (tries > 200) throw new Error('the gateway never composed the test subgraph');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  subgraphCalls.length = 0;
});

afterAll(async () => {
  await consul.deregister(SUBGRAPH_ID).catch(() => undefined);
  await gateway?.app.close();
  await closeSubgraph?.();
  redis?.disconnect();
});

interface GraphQLAnswer {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions: { code: string; limit?: string } }[];
  };
}

async function query(body: Record<string, unknown>): Promise<GraphQLAnswer> {
  const response = await fetch(`${gatewayUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as GraphQLAnswer['body'] };
}

/** `levels` fragments on Query, each selecting `spread(next)` ten times; the last selects `leaf`. */
function exponential(leaf: string, levels = 10, spread = (next: string) => `...${next}`): string {
  const fragments = Array.from(
    { length: levels - 1 },
    (_, i) =>
      `fragment L${i} on Query { ${Array(10)
        .fill(spread(`L${i + 1}`))
        .join(' ')} }`,
  );
  return `${fragments.join(' ')} fragment L${levels - 1} on Query { ${leaf} }`;
}

const TYPENAMES = `__typename ${Array.from({ length: 10 }, (_, i) => `a${i}: __typename`).join(' ')}`;

describe('documents whose expansion is exponential in their text', () => {
  it.each([
    ["the incident's document, 10 levels of 10 spreads over __typename aliases", `{ ...L0 } ${exponential(TYPENAMES)}`],
    ['spreads of a subgraph list', `{ ...L0 } ${exponential('samples(limit: 5) { name value }', 7)}`],
    [
      'spreads inside inline fragments',
      `{ ...L0 } ${exponential('__typename', 10, (next) => `... on Query { ...${next} } ... { ...${next} }`)}`,
    ],
    [
      'many operations sharing them',
      {
        query: `${Array.from({ length: 30 }, (_, i) => `query Q${i} { ...L0 }`).join(' ')} ${exponential(TYPENAMES, 9)}`,
        operationName: 'Q7',
      },
    ],
  ])('refuse %s as LIMIT_EXCEEDED, calling no subgraph, while /health answers', async (_case, document) => {
    const body = typeof document === 'string' ? { query: document } : document;
    const [answer, health] = await Promise.all([query(body), fetch(`${gatewayUrl}/health`)]);

    expect(health.status).toBe(200);
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      expect.objectContaining({
        extensions: expect.objectContaining({ code: 'LIMIT_EXCEEDED', limit: 'cost' }) as unknown,
      }),
    ]);
    expect(subgraphCalls).toEqual([]);
  });
});

describe("the event loop's lag", () => {
  it('is in /metrics: since the previous scrape, its p99 and max, and the delay of one turn now', async () => {
    await query({ query: `{ ...L0 } ${exponential(TYPENAMES)}` });
    const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
    for (const name of [
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_eventloop_lag_max_seconds',
    ]) {
      expect(text).toMatch(new RegExp(`^${name}\\{service="gateway",instance="[^"]+"\\} [0-9.e+-]+$`, 'm'));
    }
  });
});

describe('sizes', () => {
  it('lets every default size through', async () => {
    // samples: 1000 items of 3 fields and 10 labels (the default list size) of 2: over the cost limit this once had.
    const answer = await query({
      query: '{ rules { nodes { name } endCursor } samples { name value at labels { name value } } }',
    });
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data).toMatchObject({
      rules: { nodes: [{ name: 'r0' }, { name: 'r1' }, { name: 'r2' }] },
      samples: [{ name: 'up' }, {}, {}],
    });
  });

  it("counts a page's size against the cost limit", async () => {
    const answer = await query({ query: '{ rules(first: 1000000) { nodes { name } } }' });
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]?.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 'cost' });
  });

  it.each([
    [
      'a size below 1',
      { query: '{ rules(first: 0) { endCursor } }' },
      'first must be a whole number of at least 1, got 0',
    ],
    [
      'a negative size from a variable',
      { query: 'query($n: Int!) { samples(limit: $n) { name } }', variables: { n: -5 } },
      'limit must be a whole number of at least 1, got -5',
    ],
  ])('refuses %s as BAD_USER_INPUT', async (_case, body, message) => {
    const answer = await query(body);
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      expect.objectContaining({ message, extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) as unknown }),
    ]);
    expect(subgraphCalls).toEqual([]);
  });
});

describe('operationName', () => {
  it.each([
    [
      'names no operation of the document',
      { query: 'query A { hello } query B { hello }', operationName: 'C' },
      'Unknown operation named "C".',
    ],
    [
      'names none of a document of two',
      { query: 'query A { hello } query B { hello }' },
      'Must provide operation name if query contains multiple operations.',
    ],
  ])('that %s is 400 BAD_USER_INPUT with a message', async (_case, body, message) => {
    const answer = await query(body);
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      expect.objectContaining({ message, extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) as unknown }),
    ]);
  });

  it('picks the operation it names', async () => {
    expect((await query({ query: 'query A { hello } query B { b: hello }', operationName: 'B' })).body.data).toEqual({
      b: 'world',
    });
  });
});
