/** GraphQL on a service: mounting Apollo Server on Fastify, and the subgraph platform that serves a federated schema. */
export { mountGraphQL, type GraphQLMountOptions } from './mount-graphql.js';
export { createSubgraphPlatform, loadSubgraphSchema, serveSubgraphSchema } from './subgraph-platform.js';
