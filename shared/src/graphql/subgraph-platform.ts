import { readFileSync } from 'node:fs';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { type DocumentNode, type GraphQLSchema, parse } from 'graphql';
import { type CallerContext, rolesPlugin } from '../auth/roles-plugin.js';
import { requireServiceAuth } from '../auth/service-auth-hook.js';
import type { ConsulClient } from '../discovery/consul-client.js';
import { mountGraphQL } from './mount-graphql.js';
import { type Platform, createPlatform } from '../http/platform.js';
import { PROBES } from '../http/http-service.js';
import type { ServiceEnv } from '../config/service-env.js';

const GRAPHQL_PATH = '/graphql';

/**
 * A subgraph's platform: registered with the tag the gateway composes by, and where its schema is served. Every
 * route but the probes takes only calls carrying a valid internal token (`X-Service-Auth`), so reaching the port
 * directly grants nothing.
 */
export function createSubgraphPlatform(options: {
  readonly name: string;
  readonly version: string;
  readonly env: ServiceEnv;
  readonly consul: ConsulClient;
}): Platform {
  const platform = createPlatform({
    ...options,
    tags: ['heimdall', options.env.SUBGRAPH_TAG],
    meta: { graphql_path: GRAPHQL_PATH },
  });
  requireServiceAuth(platform.app, { tokens: platform.serviceTokens, openRoutes: PROBES, graphqlPath: GRAPHQL_PATH });
  return platform;
}

/**
 * Serves a subgraph schema on the platform's app. Every request gets the subgraph's (stateless) context plus
 * `caller`, who the internal token says the call is for; the caller's roles are checked per operation.
 */
export async function serveSubgraphSchema<TContext extends object>(
  platform: Platform,
  schema: GraphQLSchema,
  context: TContext,
): Promise<void> {
  await mountGraphQL<TContext & CallerContext>(
    platform.app,
    { schema },
    {
      path: GRAPHQL_PATH,
      metrics: platform.metrics,
      logger: platform.logger,
      context: (request) => Promise.resolve({ ...context, caller: request.caller }),
      plugins: [rolesPlugin()],
    },
  );
}

/**
 * A subgraph's schema: its SDL file (`schema.graphql`, also the source of its generated resolver types, see
 * scripts/gen-resolver-types.ts) and resolvers typed by those generated types.
 */
export function loadSubgraphSchema(sdlFile: URL, resolvers: object): { typeDefs: DocumentNode; schema: GraphQLSchema } {
  const typeDefs = parse(readFileSync(sdlFile, 'utf8'));
  // The generated resolver types are stricter than Apollo's resolver map; they describe the same object.
  const schema = buildSubgraphSchema([
    {
      typeDefs,
      resolvers: resolvers as Parameters<typeof buildSubgraphSchema>[0] extends readonly (infer M)[]
        ? M extends { resolvers?: infer R }
          ? R
          : never
        : never,
    },
  ]);
  return { typeDefs, schema };
}
