import { GraphQLScalarType } from 'graphql';
import { loadSubgraphSchema } from '@heimdall/shared/graphql';
import { sizeArgument } from '@heimdall/shared/user-input';
import type { Resolvers } from './generated/resolvers.js';
import { labelList } from './matchers.js';
import { type QueryLimits, type SeriesPointsResult, planQuery, runMetricQuery } from './query.js';
import {
  LABEL_ANSWER_MAX_BYTES,
  LABEL_ANSWER_VALUE_LENGTH,
  MAX_LABEL_KEYS,
  MAX_LABEL_VALUES,
  MAX_METRIC_NAME_LENGTH,
  MAX_NAMES_PAGE,
  checkLength,
} from './limits.js';
import { MAX_SAMPLES, readSamples } from './samples.js';
import type { MetricsStore, StoredScope } from './store/index.js';

export interface MetricsContext {
  readonly store: MetricsStore;
  readonly limits: QueryLimits;
}

/**
 * A metricLabels answer within its bounds: at most `maxValues` values per key, and values of `maxBytes` in all (the
 * keys after the budget ran out list none); a key with values left out or cut is marked truncated.
 */
export function boundLabelValues(
  rows: readonly { key: string; values: string[]; cut: boolean | number }[],
  maxValues: number,
  maxBytes: number,
): { key: string; values: string[]; truncated: boolean }[] {
  let budget = maxBytes;
  return rows.map((row) => {
    const values: string[] = [];
    for (const value of row.values.slice(0, maxValues)) {
      const bytes = Buffer.byteLength(value);
      if (bytes > budget) break;
      budget -= bytes;
      values.push(value);
    }
    return { key: row.key, values, truncated: Boolean(row.cut) || values.length < row.values.length };
  });
}

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
const matchers = (
  inputs: readonly { key: string; op?: 'EQ' | 'NEQ' | 'RE' | 'NRE'; value: string }[] | null | undefined,
) => (inputs ?? []).map((m) => ({ key: m.key, op: m.op ?? 'EQ', value: m.value }));

/** A stored series' scope as GraphQL's MetricScope. */
const scopeOf = (stored: StoredScope) => ({
  name: stored.scope_name,
  version: stored.scope_version,
  attributes: labelList(stored.scope_attributes),
});

export const resolvers: Resolvers = {
  Query: {
    metricNames: (_, args, ctx) => {
      const limit = sizeArgument('limit', args.limit, MAX_NAMES_PAGE);
      const search = args.search ?? '';
      checkLength('search', search, MAX_METRIC_NAME_LENGTH);
      return ctx.store.metricNames(search, limit);
    },
    metricLabels: async (_, args, ctx) => {
      const maxKeys = sizeArgument('limit', args.limit, MAX_LABEL_KEYS);
      const maxValues = sizeArgument('valuesLimit', args.valuesLimit, MAX_LABEL_VALUES);
      const plan = planQuery(
        { name: args.name, range: args.range, step: '1h' },
        { ...ctx.limits, maxPoints: Number.MAX_SAFE_INTEGER },
      );
      const rows = await ctx.store.metricLabels(args.name, plan.from, {
        maxKeys,
        maxValues,
        valueLength: LABEL_ANSWER_VALUE_LENGTH,
      });
      return boundLabelValues(rows, maxValues, LABEL_ANSWER_MAX_BYTES);
    },
    metrics: (_, { filter }, ctx) =>
      readSamples(
        ctx.store,
        {
          ...filter,
          labels: matchers(filter.labels),
          limit: sizeArgument('filter.limit', filter.limit ?? 1000, MAX_SAMPLES),
        },
        ctx.limits,
      ),
    metricsByName: (_, args, ctx) =>
      readSamples(
        ctx.store,
        { name: args.name, range: args.range, limit: sizeArgument('limit', args.limit, MAX_SAMPLES) },
        ctx.limits,
      ),
    metricQuery: (_, { input }, ctx) =>
      runMetricQuery(ctx.store, { ...input, matchers: matchers(input.matchers) }, ctx.limits),
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
    scope: scopeOf,
    monotonic: (sample) => sample.monotonic === 1,
  },
  Series: {
    labels: (series) => labelList(series.labels),
    scope: scopeOf,
    monotonic: (series) => series.monotonic === 1,
  },
  Service: {
    __resolveReference: (ref) => ({ name: ref.name }),
    series: (service, args, ctx) =>
      ctx.store.serviceSeries(service.name, sizeArgument('limit', args.limit, MAX_NAMES_PAGE)),
  },
};

export function buildSchema() {
  return loadSubgraphSchema(new URL('./schema.graphql', import.meta.url), resolvers).schema;
}
