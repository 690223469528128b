import { loadSubgraphSchema, pageSize } from '@heimdall/shared';
import type { Resolvers } from './generated/resolvers.js';
import { labelList } from './matchers.js';
import { type QueryLimits, planQuery, runMetricQuery } from './query.js';
import { readSamples } from './samples.js';
import type { MetricsStore } from './store/index.js';

export interface MetricsContext {
  readonly store: MetricsStore;
  readonly limits: QueryLimits;
}

const MAX_LABEL_VALUES = 1000;
const MAX_SERIES_PAGE = 1000;

/** Label matchers as the store takes them: GraphQL fills in the default operator, the types cannot know it. */
const matchers = (inputs: readonly { key: string; op?: 'EQ' | 'NEQ' | 'RE' | 'NRE'; value: string }[] | null | undefined) =>
  (inputs ?? []).map((m) => ({ key: m.key, op: m.op ?? 'EQ', value: m.value }));

export const resolvers: Resolvers = {
  Query: {
    metricNames: (_, args, ctx) => ctx.store.metricNames(args.search ?? '', pageSize(args.limit, MAX_SERIES_PAGE)),
    metricLabels: (_, args, ctx) => {
      const plan = planQuery({ name: args.name, range: args.range, step: '1h' }, { ...ctx.limits, maxPoints: Number.MAX_SAFE_INTEGER });
      return ctx.store.metricLabels(args.name, plan.from, MAX_LABEL_VALUES);
    },
    metrics: (_, { filter }, ctx) =>
      readSamples(ctx.store, { ...filter, labels: matchers(filter.labels), limit: filter.limit ?? 1000 }, ctx.limits),
    metricsByName: (_, args, ctx) => readSamples(ctx.store, { name: args.name, range: args.range, limit: args.limit }, ctx.limits),
    metricQuery: (_, { input }, ctx) => runMetricQuery(ctx.store, { ...input, matchers: matchers(input.matchers) }, ctx.limits),
  },
  SeriesPoints: {
    timestamps: (s) => s.points.map((p) => p.timestamp),
    values: (s) => s.points.map((p) => p.value),
  },
  Metric: {
    labels: (sample) => labelList(sample.labels),
  },
  Series: {
    labels: (series) => labelList(series.labels),
  },
  Service: {
    __resolveReference: (ref) => ({ name: ref.name }),
    series: (service, args, ctx) => ctx.store.serviceSeries(service.name, pageSize(args.limit, MAX_SERIES_PAGE)),
  },
};

export function buildSchema() {
  return loadSubgraphSchema(new URL('./schema.graphql', import.meta.url), resolvers).schema;
}
