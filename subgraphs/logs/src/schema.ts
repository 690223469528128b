import type { Client } from '@elastic/elasticsearch';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { type ResiliencePolicy, pageSize } from '@heimdall/shared';
import { WRITE_ALIAS } from './indices.js';

export const typeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  type Service @key(fields: "name") {
    name: String!
    "The service's most recent log entries, newest first. Null when the logs store cannot be read."
    logs(limit: Int = 20): [LogEntry!]
  }

  enum LogLevel {
    DEBUG
    INFO
    WARN
    ERROR
    FATAL
  }

  type LogEntry {
    id: ID!
    timestamp: String!
    level: LogLevel!
    message: String!
    service: String!
    traceId: String
    spanId: String
  }
`);

export interface LogsContext {
  readonly es: Client;
  readonly policy: ResiliencePolicy;
}

interface LogDocument {
  timestamp: string;
  level: string;
  message: string;
  service: string;
  traceId?: string;
  spanId?: string;
}

const MAX_PAGE = 1000;

export function buildSchema() {
  // The module-list form types each resolver's context as the service's own, not unknown.
  return buildSubgraphSchema([{
    typeDefs,
    resolvers: {
      Service: {
        __resolveReference: (ref: { name: string }) => ({ name: ref.name }),
        logs: async (service: { name: string }, args: { limit: number }, ctx: LogsContext) => {
          const size = pageSize(args.limit, MAX_PAGE);
          const result = await ctx.policy.execute(
            (signal) =>
              ctx.es.search<LogDocument>(
                {
                  index: WRITE_ALIAS,
                  size,
                  ignore_unavailable: true,
                  query: { term: { service: service.name } },
                  sort: [{ timestamp: { order: 'desc' } }],
                },
                { signal },
              ),
            { idempotent: true },
          );
          return result.hits.hits.flatMap((hit) => (hit._source === undefined ? [] : [{ id: hit._id, ...hit._source }]));
        },
      },
    },
  }]);
}
