import { loadSubgraphSchema } from '@heimdall/shared';
import type { Resolvers } from './generated/resolvers.js';
import type { RulesStore } from './store/index.js';

export interface AlertsContext {
  readonly rules: RulesStore;
}

const MAX_RULES_PER_SERVICE = 1000;

export const resolvers: Resolvers = {
  Query: {
    alertRule: async (_, { id }, ctx) => (await ctx.rules.byId(id)) ?? null,
  },
  Service: {
    __resolveReference: (ref) => ({ name: ref.name }),
    rules: (service, _, ctx) => ctx.rules.forService(service.name, MAX_RULES_PER_SERVICE),
  },
  AlertRule: {
    __resolveReference: async (ref, ctx) => (await ctx.rules.byId(ref.id)) ?? null,
    severity: (rule) => rule.severity.toUpperCase() as 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL',
    createdAt: (rule) => rule.createdAt.toISOString(),
    updatedAt: (rule) => rule.updatedAt.toISOString(),
  },
};

export function buildSchema() {
  return loadSubgraphSchema(new URL('./schema.graphql', import.meta.url), resolvers).schema;
}
