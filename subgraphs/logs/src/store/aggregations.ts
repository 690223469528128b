/**
 * The counting reads as Elasticsearch is asked for them, and what their answers read as: a histogram of matches per
 * level, the facets of matches (services, levels, label keys and values), and a service's volume series in windows.
 * LogReader (log-reads.ts) sends them under its policy; this module holds their aggregation DSL.
 */
import type { estypes } from '@elastic/elasticsearch';
import type { VolumeSeries } from '../anomalies.js';
import { LOG_LEVELS, type LogLevel, parseLevel } from '../log-document.js';
import { nanosToIso } from '../timestamps.js';

export interface HistogramBucket {
  /** Start of the bucket, epoch ms. */
  readonly start: number;
  readonly count: number;
  readonly levels: { readonly level: LogLevel; readonly count: number }[];
}

export interface FacetCount {
  readonly value: string;
  readonly count: number;
}

export interface LogFacets {
  readonly services: FacetCount[];
  readonly levels: FacetCount[];
  readonly labels: { readonly key: string; readonly count: number; readonly values: FacetCount[] }[];
  /** Whether some counts are over part of the matches: Elasticsearch stopped at its time limit, or values were sampled. */
  readonly sampled: boolean;
}

/** Label values of logFacets are counted over at most this many matches per shard. */
export const FACET_VALUE_SAMPLE = 10_000;

type Aggregations = Record<string, estypes.AggregationsAggregationContainer>;
/** The part of a search answer an aggregation reads. */
interface Answer {
  readonly timed_out: boolean;
  readonly aggregations?: Record<string, unknown>;
}

/** Counts per bucket of `intervalMs` and per level from `from` to `to` (epoch ms), empty buckets included. */
function levelHistogram(intervalMs: number, from: number, to: number): estypes.AggregationsAggregationContainer {
  return {
    date_histogram: {
      field: 'timestamp',
      fixed_interval: `${intervalMs}ms`,
      min_doc_count: 0,
      extended_bounds: { min: from, max: to - 1 },
    },
    aggs: { levels: { terms: { field: 'level', size: LOG_LEVELS.length } } },
  };
}

/** A histogram over a range (epoch ms): counts per bucket of `intervalMs` and per level, empty buckets included. */
export function histogramAggregations(intervalMs: number, range: { from: number; to: number }): Aggregations {
  return { buckets: levelHistogram(intervalMs, range.from, range.to) };
}

export function histogramOf(answer: Answer): HistogramBucket[] {
  return histogramBuckets(answer.aggregations?.buckets);
}

/** The first of the facets' two searches: services, levels and label keys, counted over every match. */
export function facetAggregations(size: number): Aggregations {
  return {
    services: { terms: { field: 'service', size } },
    levels: { terms: { field: 'level', size: LOG_LEVELS.length } },
    labelKeys: { terms: { field: 'labelKeys', size } },
  };
}

/** The label keys of the first answer, whose values the second search counts. */
export function facetLabelKeys(first: Answer): FacetCount[] {
  return termCounts(first.aggregations?.labelKeys);
}

/** The second: each key's values, counted over a sample of FACET_VALUE_SAMPLE matches per shard. */
export function labelValueAggregations(keys: readonly FacetCount[], size: number): Aggregations {
  return {
    sample: {
      sampler: { shard_size: FACET_VALUE_SAMPLE },
      aggs: Object.fromEntries(keys.map((key, i) => [`k${i}`, { terms: { field: `labels.${key.value}`, size } }])),
    },
  };
}

/** The facets of both answers; `values` is absent when there were no label keys to count. */
export function facetsOf(first: Answer, values: Answer | undefined): LogFacets {
  const keys = facetLabelKeys(first);
  const levels = termCounts(first.aggregations?.levels);
  const sample = values?.aggregations?.sample as (Record<string, unknown> & { doc_count?: number }) | undefined;
  const matches = levels.reduce((n, level) => n + level.count, 0);
  return {
    services: termCounts(first.aggregations?.services),
    levels,
    labels: keys.map((key, i) => ({ key: key.value, count: key.count, values: termCounts(sample?.[`k${i}`]) })),
    sampled:
      first.timed_out || values?.timed_out === true || (sample !== undefined && (sample.doc_count ?? 0) < matches),
  };
}

/** The volume of one service in windows (epoch ms): its first entry, and its counts per level and bucket of `bucketMs` in each window. */
export function volumeSearch(service: string, windows: readonly { from: number; to: number }[], bucketMs: number) {
  const earliest = Math.min(...windows.map((w) => w.from));
  const latest = Math.max(...windows.map((w) => w.to));
  return {
    query: {
      bool: {
        filter: [
          { term: { service } },
          { range: { timestamp: { gte: earliest, lt: latest, format: 'epoch_millis' } } },
        ],
      },
    },
    aggs: {
      first: { min: { field: 'timestamp' } },
      ...Object.fromEntries(
        windows.map((w, i) => [
          `w${i}`,
          {
            filter: { range: { timestamp: { gte: w.from, lt: w.to, format: 'epoch_millis' } } },
            aggs: { buckets: levelHistogram(bucketMs, w.from, w.to) },
          },
        ]),
      ),
    },
  } satisfies Partial<estypes.SearchRequest>;
}

/** The series of `volumeSearch`'s answer: per level, the counts of the buckets from the service's first entry on (before it: unknown, left out). */
export function volumeSeries(
  service: string,
  answer: Answer,
  windows: readonly unknown[],
  bucketMs: number,
): VolumeSeries[] {
  const aggregations = answer.aggregations ?? {};
  const first = (aggregations.first as { value: number | null } | undefined)?.value;
  if (typeof first !== 'number') return [];
  const known = Math.floor(first / bucketMs) * bucketMs;
  const counts = new Map<LogLevel, Map<number, number>>(LOG_LEVELS.map((level) => [level, new Map()]));
  windows.forEach((_, i) => {
    const window = aggregations[`w${i}`] as { buckets?: unknown } | undefined;
    for (const bucket of histogramBuckets(window?.buckets)) {
      if (bucket.start < known) continue;
      for (const level of LOG_LEVELS)
        counts.get(level)!.set(bucket.start, bucket.levels.find((l) => l.level === level)?.count ?? 0);
    }
  });
  return LOG_LEVELS.map((level) => ({
    service,
    level,
    buckets: [...counts.get(level)!].map(([start, count]) => ({ start, count })),
  }));
}

function termCounts(aggregate: unknown): FacetCount[] {
  const buckets = (aggregate as { buckets?: { key: string | number; doc_count: number }[] } | undefined)?.buckets ?? [];
  return buckets.map((b) => ({ value: String(b.key), count: b.doc_count }));
}

function histogramBuckets(aggregate: unknown): HistogramBucket[] {
  const buckets =
    (aggregate as { buckets?: { key: number; doc_count: number; levels?: unknown }[] } | undefined)?.buckets ?? [];
  return buckets.map((b) => ({
    start: b.key,
    count: b.doc_count,
    levels: termCounts(b.levels).flatMap((t) => {
      const level = parseLevel(t.value);
      return level === undefined ? [] : [{ level, count: t.count }];
    }),
  }));
}

/** An RFC 3339 time for a bucket start (epoch ms). */
export function bucketTime(ms: number): string {
  return nanosToIso(BigInt(ms) * 1_000_000n);
}
