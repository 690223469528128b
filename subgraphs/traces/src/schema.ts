import { loadSubgraphSchema, pageSize } from '@heimdall/shared';
import type { Resolvers } from './generated/resolvers.js';
import type { JaegerQueryClient } from './jaeger-client.js';

export interface TracesContext {
  readonly jaeger: JaegerQueryClient;
}

/** A Service as the traces subgraph resolves it: by name alone. */
export interface ServiceRef {
  readonly name: string;
}

const MAX_SERVICES = 1000;

export const resolvers: Resolvers = {
  Query: {
    services: async (_, args, ctx) => {
      const needle = args.search?.toLowerCase();
      const names = (await ctx.jaeger.services()).filter((name) => needle === undefined || name.toLowerCase().includes(needle)).sort();
      return names.slice(0, pageSize(args.limit, MAX_SERVICES)).map((name) => ({ name }));
    },
  },
  Service: {
    __resolveReference: (ref) => ({ name: ref.name }),
    operations: (service, _, ctx) => ctx.jaeger.operations(service.name),
  },
};

export function buildSchema() {
  return loadSubgraphSchema(new URL('./schema.graphql', import.meta.url), resolvers).schema;
}
