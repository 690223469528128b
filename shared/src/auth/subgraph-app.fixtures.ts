import { buildSubgraphSchema } from '@apollo/subgraph';
import type { FastifyInstance } from 'fastify';
import { parse } from 'graphql';
import { vi } from 'vitest';
import { createLogger } from '../telemetry/logger.js';
import { mountGraphQL } from '../graphql/mount-graphql.js';
import { ServiceMetrics } from '../telemetry/service-metrics.js';
import { registerOtlpRoute } from '../otlp/receiver.js';
import { PROBES, Readiness, createHttpService } from '../http/http-service.js';
import { createTelemetry } from '../telemetry/tracing.js';
import type { Caller, Role } from './caller.js';
import { type CallerContext, rolesPlugin } from './roles-plugin.js';
import { requireServiceAuth } from './service-auth-hook.js';
import { SERVICE_AUTH_HEADER, ServiceTokens } from './service-token.js';

const SECRET = 'k'.repeat(40);
const gatewayTokens = new ServiceTokens({ service: 'gateway', secrets: [SECRET] });
export const person = (...roles: Role[]): Caller => ({ kind: 'user', subject: 'ana', roles });
/** Headers of a call the gateway forwards for `caller`. */
export const as = async (caller: Caller) => ({ [SERVICE_AUTH_HEADER]: await gatewayTokens.sign(caller) });

const apps: FastifyInstance[] = [];
/** Closes the apps made since the last call (from afterEach). */
export async function closeApps(): Promise<void> {
  for (const app of apps.splice(0)) await app.close();
}

/** A subgraph's app as createSubgraphPlatform and serveSubgraphSchema build it: a query, a mutation and OTLP ingest. */
export async function makeSubgraph() {
  const logger = createLogger({ service: 'metrics', instanceId: 'test', level: 'silent' });
  const metrics = new ServiceMetrics({ service: 'metrics', instance: 'test' });
  const app = createHttpService(
    { logger, metrics, telemetry: createTelemetry({ serviceName: 'metrics', serviceVersion: '0' }) },
    new Readiness(),
  );
  app.decorateRequest('caller', undefined);
  requireServiceAuth(app, {
    tokens: new ServiceTokens({ service: 'metrics', secrets: [SECRET] }),
    openRoutes: PROBES,
    graphqlPath: '/graphql',
  });
  const marked = vi.fn(() => true);
  const schema = buildSubgraphSchema([
    {
      typeDefs: parse('type Query { whoami: String } type Mutation { markSeries: Boolean }'),
      resolvers: {
        Query: { whoami: (_: unknown, __: unknown, context: CallerContext) => context.caller?.subject },
        Mutation: { markSeries: marked },
      },
    },
  ]);
  await mountGraphQL<CallerContext>(
    app,
    { schema },
    {
      metrics,
      logger,
      context: (request) => Promise.resolve({ caller: request.caller }),
      plugins: [rolesPlugin()],
    },
  );
  const ingested = vi.fn(() => Promise.resolve({ rejected: 0 }));
  await registerOtlpRoute(app, { signal: 'metrics', handle: ingested });
  apps.push(app);
  return { app, marked, ingested };
}

export const graphql = (
  app: Awaited<ReturnType<typeof makeSubgraph>>['app'],
  query: string,
  headers: Record<string, string> = {},
) =>
  app.inject({
    method: 'POST',
    url: '/graphql',
    headers: { 'content-type': 'application/json', ...headers },
    payload: { query },
  });
