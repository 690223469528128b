import type { ClickHouseClient } from '@clickhouse/client';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { type ResiliencePolicy, pageSize } from '@heimdall/shared';
import { type MetricQueryInput, type QueryLimits, planQuery, runMetricQuery } from './query.js';
import { type MetricFilter, readSamples } from './samples.js';
import { selectRows } from './clickhouse.js';
import { labelList } from './matchers.js';

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

  type MetricName {
    name: String!
    type: String!
    unit: String!
    description: String!
  }

  type LabelValues {
    key: String!
    values: [String!]!
  }

  "ISO-8601 times; from before to."
  input TimeRangeInput {
    from: String!
    to: String!
  }

  enum MatchOp {
    EQ
    NEQ
    RE
    NRE
  }

  input LabelMatcherInput {
    key: String!
    op: MatchOp! = EQ
    value: String!
  }

  enum Aggregation {
    SUM
    AVG
    MIN
    MAX
    COUNT
    P50
    P90
    P95
    P99
    RATE
    LAST
  }

  input MetricQueryInput {
    name: String!
    matchers: [LabelMatcherInput!]
    range: TimeRangeInput!
    "A duration such as 15s, 1m, 1h (default 1m). Whole minutes read the 1-minute rollup."
    step: String
    aggregation: Aggregation = AVG
    groupBy: [String!]
  }

  type Point {
    timestamp: String!
    value: Float!
  }

  type SeriesPoints {
    labels: [Label!]!
    points: [Point!]!
    "The same points as two columns, timestamps[i] with values[i]: half the work of points for large answers."
    timestamps: [String!]!
    values: [Float!]!
  }

  enum DataSource {
    ROLLUP_1M
    RAW
  }

  type MetricQueryResult {
    series: [SeriesPoints!]!
    source: DataSource!
    rowsRead: Int!
  }

  "A raw sample (the seed API)."
  type Metric {
    name: String!
    value: Float!
    timestamp: String!
    labels: [Label!]!
    unit: String!
    description: String!
    type: String!
  }

  input MetricFilter {
    name: String
    service: String
    labels: [LabelMatcherInput!]
    range: TimeRangeInput!
    "At most 10,000."
    limit: Int = 1000
  }

  type Query {
    "Raw samples, newest first."
    metrics(filter: MetricFilter!): [Metric!]!
    "Raw samples of one metric, newest first."
    metricsByName(name: String!, range: TimeRangeInput!, limit: Int = 1000): [Metric!]!
    metricNames(search: String, limit: Int = 100): [MetricName!]!
    metricLabels(name: String!, range: TimeRangeInput!): [LabelValues!]!
    metricQuery(input: MetricQueryInput!): MetricQueryResult!
  }
`);

export interface MetricsContext {
  readonly clickhouse: ClickHouseClient;
  readonly policy: ResiliencePolicy;
  readonly limits: QueryLimits;
}

const MAX_LABEL_VALUES = 1000;

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
      Query: {
        metricNames: (_: unknown, args: { search?: string | null; limit: number }, ctx: MetricsContext) =>
          selectRows<{ name: string; type: string; unit: string; description: string }>(
            ctx.clickhouse,
            ctx.policy,
            `SELECT metric AS name, any(type) AS type, any(unit) AS unit, any(description) AS description
             FROM series WHERE positionCaseInsensitive(metric, {search:String}) > 0
             GROUP BY metric ORDER BY metric LIMIT {limit:UInt32}`,
            { search: args.search ?? '', limit: pageSize(args.limit, MAX_SERIES_PAGE) },
          ),
        metricLabels: (_: unknown, args: { name: string; range: { from: string; to: string } }, ctx: MetricsContext) => {
          const plan = planQuery({ name: args.name, range: args.range, step: '1h' }, { ...ctx.limits, maxPoints: Number.MAX_SAFE_INTEGER });
          return selectRows<{ key: string; values: string[] }>(
            ctx.clickhouse,
            ctx.policy,
            `SELECT key, arraySlice(arraySort(groupUniqArray(value)), 1, {maxValues:UInt32}) AS values
             FROM series FINAL ARRAY JOIN mapKeys(labels) AS key, mapValues(labels) AS value
             WHERE metric = {name:String} AND last_seen >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
             GROUP BY key ORDER BY key`,
            { name: args.name, from: plan.from, maxValues: MAX_LABEL_VALUES },
          );
        },
        metrics: (_: unknown, args: { filter: MetricFilter }, ctx: MetricsContext) =>
          readSamples(ctx.clickhouse, ctx.policy, args.filter, ctx.limits),
        metricsByName: (_: unknown, args: { name: string; range: { from: string; to: string }; limit: number }, ctx: MetricsContext) =>
          readSamples(ctx.clickhouse, ctx.policy, { name: args.name, range: args.range, limit: args.limit }, ctx.limits),
        metricQuery: (_: unknown, args: { input: MetricQueryInput }, ctx: MetricsContext) =>
          runMetricQuery(ctx.clickhouse, ctx.policy, args.input, ctx.limits),
      },
      SeriesPoints: {
        timestamps: (s: { points: { timestamp: string }[] }) => s.points.map((p) => p.timestamp),
        values: (s: { points: { value: number }[] }) => s.points.map((p) => p.value),
      },
      Service: {
        __resolveReference: (ref: { name: string }) => ({ name: ref.name }),
        series: async (service: { name: string }, args: { limit: number }, ctx: MetricsContext) => {
          const rows = await selectRows<SeriesRow>(
            ctx.clickhouse,
            ctx.policy,
            `SELECT metric AS name, type, unit, labels FROM series FINAL
             WHERE service = {service:String} ORDER BY metric, fingerprint LIMIT {limit:UInt32}`,
            { service: service.name, limit: pageSize(args.limit, MAX_SERIES_PAGE) },
          );
          return rows.map((row) => ({ ...row, labels: labelList(row.labels) }));
        },
      },
    },
  }]);
}
