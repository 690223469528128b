import { GraphQLScalarType } from 'graphql';
import { loadSubgraphSchema, pageSize } from '@heimdall/shared';
import type { Resolvers } from './generated/resolvers.js';
import { labelList } from './matchers.js';
import { type QueryLimits, type SeriesPointsResult, planQuery, runMetricQuery } from './query.js';
import { readSamples } from './samples.js';
import type { MetricsStore } from './store/index.js';

export interface MetricsContext {
  readonly store: MetricsStore;
  readonly limits: QueryLimits;
}

const MAX_LABEL_VALUES = 1000;
const MAX_SERIES_PAGE = 1000;

/** A series' points packed as one value (see schema.graphql); an output only, never parsed from a request. */
const PackedPoints = new GraphQLScalarType({
  name: 'PackedPoints',
  serialize: (packed) => packed,
  parseValue: () => {
    throw new TypeError('PackedPoints is an output type');
  },
});

/** The dense form of PackedPoints: one little-endian double per step from the first point to the last, NaN between. */
function pack(series: SeriesPointsResult, stepSeconds: number): { start: number; step: number; values: string } {
  const start = series.t[0] ?? 0;
  const steps = series.t.length === 0 ? 0 : Math.round((series.t[series.t.length - 1]! - start) / stepSeconds) + 1;
  const bytes = Buffer.alloc(steps * 8);
  for (let i = 0; i < steps; i++) bytes.writeDoubleLE(Number.NaN, i * 8);
  series.t.forEach((t, i) => bytes.writeDoubleLE(series.v[i]!, Math.round((t - start) / stepSeconds) * 8));
  return { start, step: stepSeconds, values: bytes.toString('base64') };
}

/** ISO-8601 of a step start: one string per distinct step, however many series and queries share it. */
const isoOfSecond = new Map<number, string>();
function iso(seconds: number): string {
  let text = isoOfSecond.get(seconds);
  if (text === undefined) {
    if (isoOfSecond.size >= 100_000) isoOfSecond.clear();
    text = new Date(seconds * 1000).toISOString();
    isoOfSecond.set(seconds, text);
  }
  return text;
}

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
  PackedPoints,
  SeriesPoints: {
    points: (s) => s.t.map((t, i) => ({ timestamp: iso(t), value: s.v[i]! })),
    timestamps: (s) => s.t.map(iso),
    values: (s) => s.v,
    packed: (s) => pack(s, s.step),
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
