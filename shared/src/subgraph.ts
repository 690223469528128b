import type { GraphQLSchema } from 'graphql';
import type { ConsulClient } from './consul.js';
import { mountGraphQL } from './graphql.js';
import { type Platform, createPlatform } from './platform.js';
import type { ServiceEnv } from './service-config.js';

const GRAPHQL_PATH = '/graphql';

/** A subgraph's platform: registered with the tag the gateway composes by, and where its schema is served. */
export function createSubgraphPlatform(options: {
  readonly name: string;
  readonly version: string;
  readonly env: ServiceEnv;
  readonly consul: ConsulClient;
}): Platform {
  return createPlatform({
    ...options,
    tags: ['heimdall', options.env.SUBGRAPH_TAG],
    meta: { graphql_path: GRAPHQL_PATH },
  });
}

/** Serves a subgraph schema on the platform's app; every request gets the same (stateless) context. */
export async function serveSubgraphSchema<TContext extends object>(platform: Platform, schema: GraphQLSchema, context: TContext): Promise<void> {
  await mountGraphQL(platform.app, { schema }, {
    path: GRAPHQL_PATH,
    metrics: platform.metrics,
    logger: platform.logger,
    context: () => Promise.resolve(context),
  });
}

/** A page size a client asked for, kept between 0 and the subgraph's maximum. */
export function pageSize(requested: number, max: number): number {
  return Math.min(Math.max(requested, 0), max);
}
