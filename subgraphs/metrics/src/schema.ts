import type { ClickHouseClient } from '@clickhouse/client';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import type { ResiliencePolicy } from '@heimdall/shared';

export const typeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  type Service @key(fields: "name") {
    name: String!
    "Metric series this service reports, newest names first. Null when the metrics store cannot be read."
    series(limit: Int = 100): [Series!]
  }

  type Series {
    name: String!
    type: String!
    unit: String!
    labels: [Label!]!
  }

  type Label {
    key: String!
    value: String!
  }
`);

export interface MetricsContext {
  readonly clickhouse: ClickHouseClient;
  readonly policy: ResiliencePolicy;
}

interface SeriesRow {
  name: string;
  type: string;
  unit: string;
  labels: Record<string, string>;
}

const MAX_SERIES_PAGE = 1000;

export function buildSchema() {
  // The module-list form types each resolver's context as the service's own, not unknown.
  return buildSubgraphSchema([{
    typeDefs,
    resolvers: {
      Service: {
        __resolveReference: (ref: { name: string }) => ({ name: ref.name }),
        series: async (service: { name: string }, args: { limit: number }, ctx: MetricsContext) => {
          const limit = Math.min(Math.max(args.limit, 0), MAX_SERIES_PAGE);
          const rows = await ctx.policy.execute(
            async (signal) =>
              (
                await ctx.clickhouse.query({
                  query: `SELECT metric AS name, type, unit, labels FROM series FINAL
                          WHERE service = {service:String} ORDER BY metric, fingerprint LIMIT {limit:UInt32}`,
                  query_params: { service: service.name, limit },
                  format: 'JSONEachRow',
                  abort_signal: signal,
                })
              ).json<SeriesRow>(),
            { idempotent: true },
          );
          return rows.map((row) => ({
            ...row,
            labels: Object.entries(row.labels)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([key, value]) => ({ key, value })),
          }));
        },
      },
    },
  }]);
}
