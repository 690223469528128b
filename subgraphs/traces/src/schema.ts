import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { pageSize } from '@heimdall/shared';
import type { JaegerOperation, JaegerQueryClient } from './jaeger-client.js';

export const typeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])

  "A service that reports telemetry, known across every signal by its name."
  type Service @key(fields: "name") {
    name: String!
    "Operations (span names) Jaeger has seen for this service. Null when the traces store cannot be read."
    operations: [Operation!]
  }

  type Operation {
    name: String!
    "SERVER, CLIENT, PRODUCER, CONSUMER, INTERNAL, or empty when unknown."
    spanKind: String!
  }

  type Query {
    "Services that have reported traces, by name."
    services(search: String, limit: Int = 100): [Service!]!
  }
`);

export interface TracesContext {
  readonly jaeger: JaegerQueryClient;
}

interface ServiceRef {
  readonly name: string;
}

const MAX_SERVICES = 1000;

export function buildSchema() {
  // The module-list form types each resolver's context as the service's own, not unknown.
  return buildSubgraphSchema([{
    typeDefs,
    resolvers: {
      Query: {
        services: async (_: unknown, args: { search?: string | null; limit: number }, ctx: TracesContext): Promise<ServiceRef[]> => {
          const needle = args.search?.toLowerCase();
          const names = (await ctx.jaeger.services())
            .filter((name) => needle === undefined || name.toLowerCase().includes(needle))
            .sort();
          return names.slice(0, pageSize(args.limit, MAX_SERVICES)).map((name) => ({ name }));
        },
      },
      Service: {
        __resolveReference: (ref: ServiceRef): ServiceRef => ({ name: ref.name }),
        operations: (service: ServiceRef, _: unknown, ctx: TracesContext): Promise<JaegerOperation[]> =>
          ctx.jaeger.operations(service.name),
      },
    },
  }]);
}
