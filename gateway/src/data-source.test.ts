import { composeServices } from '@apollo/composition';
import { ApolloGateway, LocalGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Caller, SERVICE_AUTH_HEADER, ServiceTokens } from '@heimdall/shared/auth';
import type { ServiceInstance } from '@heimdall/shared/discovery';
import { ResilienceMetrics, createResiliencePolicy } from '@heimdall/shared/resilience';
import { ServiceMetrics, createTelemetry } from '@heimdall/shared/telemetry';
import type { ApiKeys } from './api-keys.js';
import { CATALOG_NAME, buildCatalogSchema, catalogTypeDefs } from './catalog.js';
import { SubgraphDataSource } from './data-source.js';
import { makeInstance } from './fake-consul.fixtures.js';
import { type TestServer, listen, readBody } from './http.fixtures.js';
import { makeLogger } from './logger.fixtures.js';
import { logicalUrl } from './supergraph-manager.js';

const TIMEOUT_MS = 3000;
const SECRET = 'g'.repeat(40);
const VIEWER: Caller = { kind: 'user', subject: 'ana', roles: ['viewer'] };
const noApiKeys: ApiKeys = {
  create: () => Promise.reject(new Error('not in this test')),
  revoke: () => Promise.resolve(false),
  list: () => Promise.resolve([]),
  verify: () => Promise.resolve({ ok: false }),
};
const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';

const SUBGRAPHS = {
  metrics: {
    typeDefs: parse(`${LINK}
      type Service @key(fields: "name") { name: String! series: [String!] }
      type Mutation { markSeries(name: String!): Boolean }`),
    resolvers: {
      Service: { series: (service: { name: string }) => [`${service.name}_requests_total`] },
      Mutation: { markSeries: () => true },
    },
  },
  logs: {
    typeDefs: parse(`${LINK}
      type Service @key(fields: "name") { name: String! logs: [String!] }`),
    resolvers: { Service: { logs: (service: { name: string }) => [`${service.name} started`] } },
  },
} as const;
type SubgraphName = keyof typeof SUBGRAPHS;

const QUERY = '{ service(name: "checkout") { name series logs } }';
const FULL_ANSWER = { service: { name: 'checkout', series: ['checkout_requests_total'], logs: ['checkout started'] } };

/** What a misbehaving subgraph answers instead of executing the operation. */
type Misbehaviour = (response: ServerResponse) => void;

/** Both subgraphs behind one real HTTP server, each at its own path; queued misbehaviours are served first. */
class FakeSubgraphs {
  private constructor(
    readonly server: TestServer,
    // Executed by Apollo Server, as the real subgraphs are.
    private readonly engines: Record<SubgraphName, ApolloServer>,
    readonly misbehaviours: Record<SubgraphName, Misbehaviour[]>,
    private readonly sent: Record<SubgraphName, number>,
  ) {}

  static async start(): Promise<FakeSubgraphs> {
    const engines = {
      metrics: new ApolloServer({
        schema: buildSubgraphSchema([SUBGRAPHS.metrics]),
        plugins: [ApolloServerPluginInlineTraceDisabled()],
      }),
      logs: new ApolloServer({
        schema: buildSubgraphSchema([SUBGRAPHS.logs]),
        plugins: [ApolloServerPluginInlineTraceDisabled()],
      }),
    };
    await Promise.all(Object.values(engines).map((engine) => engine.start()));
    const misbehaviours: Record<SubgraphName, Misbehaviour[]> = { metrics: [], logs: [] };
    const sent: Record<SubgraphName, number> = { metrics: 0, logs: 0 };
    const server = await listen((request, response) => {
      response.once('finish', () => (sent[request.url?.split('/')[1] as SubgraphName] += 1));
      void serve(request, response, engines, misbehaviours);
    });
    return new FakeSubgraphs(server, engines, misbehaviours, sent);
  }

  async stop(): Promise<void> {
    await this.server.close();
    await Promise.all(Object.values(this.engines).map((engine) => engine.stop()));
  }

  instance(name: SubgraphName): ServiceInstance {
    return makeInstance({ name, port: this.server.port, meta: { graphql_path: `/${name}/graphql` } });
  }

  /** Requests the subgraph received. */
  received(name: SubgraphName): number {
    return this.server.requests.filter((r) => r.url === `/${name}/graphql`).length;
  }

  /** Answers the subgraph has sent in full. */
  answered(name: SubgraphName): number {
    return this.sent[name];
  }
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  engines: Record<SubgraphName, ApolloServer>,
  misbehaviours: Record<SubgraphName, Misbehaviour[]>,
): Promise<void> {
  const name = request.url?.split('/')[1] as SubgraphName;
  const body = JSON.parse((await readBody(request)).toString()) as {
    query: string;
    variables?: Record<string, unknown>;
  };
  const misbehave = misbehaviours[name].shift();
  if (misbehave !== undefined) return misbehave(response);
  const result = await engines[name].executeOperation({ query: body.query, variables: body.variables ?? {} });
  if (result.body.kind !== 'single') throw new Error('expected a single result');
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result.body.singleResult));
}

const answer =
  (status: number, contentType: string, body: string): Misbehaviour =>
  (response) =>
    response.writeHead(status, { 'content-type': contentType }).end(body);
const hang: Misbehaviour = () => undefined;

interface Gateway {
  query(
    query: string,
  ): Promise<{ data?: unknown; errors?: readonly { message: string; path?: unknown; extensions?: unknown }[] }>;
  stop(): Promise<void>;
}

async function makeGateway(
  subgraphs: FakeSubgraphs,
  available: ReadonlySet<SubgraphName>,
  logger = makeLogger().logger,
): Promise<Gateway> {
  const composed = composeServices([
    { name: CATALOG_NAME, typeDefs: catalogTypeDefs, url: logicalUrl(CATALOG_NAME) },
    ...Object.entries(SUBGRAPHS).map(([name, { typeDefs }]) => ({ name, typeDefs, url: logicalUrl(name) })),
  ]);
  if (composed.errors !== undefined) throw new Error(composed.errors.map((e) => e.message).join('; '));
  const metrics = new ResilienceMetrics(new ServiceMetrics({ service: 'gateway', instance: 'test' }).registry);
  const telemetry = createTelemetry({ serviceName: 'gateway', serviceVersion: 'test' });
  const gateway = new ApolloGateway({
    supergraphSdl: composed.supergraphSdl,
    buildService: ({ name }) => {
      if (name === CATALOG_NAME) return new LocalGraphQLDataSource(buildCatalogSchema({ apiKeys: noApiKeys }));
      const policy = createResiliencePolicy(
        `subgraph_${name}`,
        { timeoutMs: TIMEOUT_MS, retry: { initialDelayMs: 1, maxDelayMs: 1 } },
        metrics,
      );
      return new SubgraphDataSource(name, {
        directory: {
          pick: (n) => (available.has(n as SubgraphName) ? subgraphs.instance(n as SubgraphName) : undefined),
        },
        policy: () => policy,
        telemetry,
        logger,
        serviceTokens: new ServiceTokens({ service: 'gateway', secrets: [SECRET] }),
      });
    },
  });
  const server = new ApolloServer({ gateway, includeStacktraceInErrorResponses: false });
  await server.start();
  return {
    async query(query) {
      const { body } = await server.executeOperation({ query }, { contextValue: { caller: VIEWER } });
      if (body.kind !== 'single') throw new Error('expected a single result');
      return JSON.parse(JSON.stringify(body.singleResult)) as Awaited<ReturnType<Gateway['query']>>;
    },
    stop: () => server.stop(),
  };
}

/** The one error a failed metrics call may show a client. */
const metricsUnavailable = (path: (string | number)[]) => ({
  message: 'metrics subgraph unavailable: Service temporarily unavailable',
  path,
  // serviceName is Apollo Gateway's own, added to every error of a subgraph fetch.
  extensions: {
    code: 'UNAVAILABLE',
    service: 'metrics',
    retryAfterSeconds: expect.any(Number) as unknown,
    serviceName: 'metrics',
  },
});

describe('SubgraphDataSource', () => {
  let subgraphs: FakeSubgraphs;
  let gateway: Gateway | undefined;

  beforeEach(async () => {
    subgraphs = await FakeSubgraphs.start();
  });
  afterEach(async () => {
    vi.useRealTimers();
    await gateway?.stop();
    gateway = undefined;
    await subgraphs.stop();
  });

  it('answers every signal through the subgraphs when all are up', async () => {
    gateway = await makeGateway(subgraphs, new Set(['metrics', 'logs']));

    expect(await gateway.query(QUERY)).toEqual({ data: FULL_ANSWER });
  });

  it('signs each subgraph call with an internal token naming the caller it serves', async () => {
    gateway = await makeGateway(subgraphs, new Set(['metrics', 'logs']));

    await gateway.query(QUERY);

    const receiver = new ServiceTokens({ service: 'metrics', secrets: [SECRET] });
    expect(subgraphs.server.requests).toHaveLength(2);
    for (const request of subgraphs.server.requests) {
      const token = request.headers[SERVICE_AUTH_HEADER];
      expect(await receiver.verify(String(token))).toEqual({ ok: true, caller: VIEWER, signedBy: 'gateway' });
    }
  });

  describe('a subgraph that cannot answer', () => {
    it('answers UNAVAILABLE with a retry hint on its fields alone when it has no passing instance', async () => {
      gateway = await makeGateway(subgraphs, new Set(['logs']));

      const result = await gateway.query(QUERY);

      expect(result.data).toEqual({ service: { ...FULL_ANSWER.service, series: null } });
      expect(result.errors).toEqual([metricsUnavailable(['service', 'series'])]);
      expect(result.errors?.[0]?.extensions).toMatchObject({ retryAfterSeconds: 5 });
      expect(JSON.stringify(result)).not.toMatch(/consul/i);
    });

    it('times out a subgraph that does not answer, with UNAVAILABLE on exactly the fields it owed', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      gateway = await makeGateway(subgraphs, new Set(['metrics', 'logs']));
      subgraphs.misbehaviours.metrics.push(hang);

      const pending = gateway.query(QUERY);
      while (subgraphs.received('metrics') === 0) await subgraphs.server.nextRequest();
      // Time jumps only once logs has answered and a few turns of I/O have let the gateway read it: a jump while
      // its answer is still on the way would time logs out too.
      while (subgraphs.answered('logs') === 0) await new Promise((resolve) => setImmediate(resolve));
      for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
      await vi.advanceTimersByTimeAsync(TIMEOUT_MS);
      const result = await pending;

      expect(result.data).toEqual({ service: { ...FULL_ANSWER.service, series: null } });
      expect(result.errors).toEqual([metricsUnavailable(['service', 'series'])]);
      expect(JSON.stringify(result)).not.toMatch(/timed out|subgraph_metrics/);
    });

    it('retries a query the subgraph answered 503, and answers it in full', async () => {
      gateway = await makeGateway(subgraphs, new Set(['metrics', 'logs']));
      subgraphs.misbehaviours.metrics.push(
        answer(503, 'text/plain', 'overloaded'),
        answer(503, 'text/plain', 'overloaded'),
      );

      expect(await gateway.query(QUERY)).toEqual({ data: FULL_ANSWER });
      expect(subgraphs.received('metrics')).toBe(3);
    });

    it('never retries a mutation, which may have taken effect', async () => {
      gateway = await makeGateway(subgraphs, new Set(['metrics', 'logs']));
      subgraphs.misbehaviours.metrics.push(answer(503, 'text/plain', 'overloaded'));

      const result = await gateway.query('mutation { markSeries(name: "checkout") }');

      expect(result.data).toEqual({ markSeries: null });
      expect(result.errors).toEqual([metricsUnavailable(['markSeries'])]);
      expect(subgraphs.received('metrics')).toBe(1);
    });
  });

  describe('what reaches the client', () => {
    it('answers a non-JSON 500 with the catalog message, and logs the cause instead', async () => {
      const log = makeLogger();
      gateway = await makeGateway(subgraphs, new Set(['metrics', 'logs']), log.logger);
      subgraphs.misbehaviours.metrics.push(
        answer(500, 'text/html', '<h1>NullPointerException at db.internal:5432</h1>'),
      );

      const result = await gateway.query(QUERY);

      expect(result.data).toEqual({ service: { ...FULL_ANSWER.service, series: null } });
      expect(result.errors).toEqual([metricsUnavailable(['service', 'series'])]);
      expect(JSON.stringify(result)).not.toMatch(/db\.internal|500|Internal Server Error/);
      expect(log.warn).toHaveBeenCalledWith(
        expect.objectContaining({ subgraph: 'metrics', err: expect.any(Error) as unknown }),
        expect.any(String),
      );
    });

    it('logs rejections of an open breaker at debug only, so that an outage does not flood the log', async () => {
      const log = makeLogger();
      gateway = await makeGateway(subgraphs, new Set(['logs']), log.logger);

      for (let i = 0; i < 20; i++) await gateway.query(QUERY);

      expect(log.warn.mock.calls.length).toBeGreaterThan(0);
      expect(log.warn.mock.calls.length).toBeLessThan(10);
      expect(log.warn.mock.calls.length + log.debug.mock.calls.length).toBe(20);
    });

    it('does not pass on the body of a JSON error page', async () => {
      gateway = await makeGateway(subgraphs, new Set(['metrics', 'logs']));
      subgraphs.misbehaviours.metrics.push(
        answer(
          502,
          'application/json',
          JSON.stringify({ errors: [{ message: 'password authentication failed for user "heimdall"' }] }),
        ),
        answer(
          500,
          'application/json',
          JSON.stringify({ errors: [{ message: 'password authentication failed for user "heimdall"' }] }),
        ),
      );

      const result = await gateway.query(QUERY);

      expect(result.errors).toEqual([metricsUnavailable(['service', 'series'])]);
      expect(JSON.stringify(result)).not.toMatch(/password|heimdall/);
    });

    it('does not pass on a 200 whose body is not JSON', async () => {
      gateway = await makeGateway(subgraphs, new Set(['metrics', 'logs']));
      subgraphs.misbehaviours.metrics.push(answer(200, 'text/html', '<html>proxy login for 10.0.0.7</html>'));

      const result = await gateway.query(QUERY);

      expect(result.errors).toEqual([metricsUnavailable(['service', 'series'])]);
      expect(JSON.stringify(result)).not.toMatch(/proxy|10\.0\.0\.7/);
    });

    it('passes on the errors a subgraph answers itself, which it already mapped through the catalog', async () => {
      gateway = await makeGateway(subgraphs, new Set(['metrics', 'logs']));
      subgraphs.misbehaviours.metrics.push(
        answer(
          200,
          'application/json',
          JSON.stringify({
            data: { _entities: [null] },
            errors: [{ message: 'Invalid input', extensions: { code: 'BAD_USER_INPUT' } }],
          }),
        ),
      );

      const result = await gateway.query(QUERY);

      expect(result.errors).toEqual([
        expect.objectContaining({
          message: 'Invalid input',
          extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) as unknown,
        }),
      ]);
    });
  });
});
