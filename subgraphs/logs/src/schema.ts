import { loadSubgraphSchema, pageSize } from '@heimdall/shared';
import type { Resolvers } from './generated/resolvers.js';
import type { LogsStore } from './store.js';

export interface LogsContext {
  readonly store: LogsStore;
}

const MAX_PAGE = 1000;

export const resolvers: Resolvers = {
  Service: {
    __resolveReference: (ref) => ({ name: ref.name }),
    logs: (service, args, ctx) => ctx.store.recent(service.name, pageSize(args.limit, MAX_PAGE)),
  },
};

export function buildSchema() {
  return loadSubgraphSchema(new URL('./schema.graphql', import.meta.url), resolvers).schema;
}
