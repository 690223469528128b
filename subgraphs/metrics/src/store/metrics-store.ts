import type { ClickHouseClient } from '@clickhouse/client';
import { type LabelMatcher, checkMatchers } from '../matchers.js';
import type { Aggregation } from '../aggregations.js';
import { SOURCES, histogramSql, scalarSql } from './aggregation-sql.js';
import type { ClickHouseStore } from './client.js';

/** A series row as ingest writes it (table `series`). */
export interface SeriesRecord {
  fingerprint: string;
  metric: string;
  type: string;
  unit: string;
  description: string;
  service: string;
  labels: Record<string, string>;
  /** The instrumentation scope, apart from the labels (part of the series' identity, not of its label set). */
  scope_name: string;
  scope_version: string;
  scope_attributes: Record<string, string>;
  temporality: string;
  monotonic: number;
  last_seen: number;
}

/** A sample row as ingest writes it (table `samples`). */
export interface SampleRecord {
  fingerprint: string;
  metric: string;
  /** The point's time in Unix milliseconds... */
  timestamp: number;
  /** ...and the nanoseconds past that millisecond (0-999,999). */
  nanos: number;
  /** OTLP's start time of a sum, histogram or summary point, nanoseconds since the epoch in decimal; '0' when none. */
  start_time_unix_nano: string;
  value: number;
  bucket_bounds: number[];
  bucket_counts: string[];
  count: string;
  sum: number;
  quantile_levels: number[];
  quantile_values: number[];
  /** The least and greatest value the point stands for, when it says (histograms, summaries); else left out. */
  min?: number;
  max?: number;
  /** An exponential histogram's point as sent (migration 0009); left out for every other type. */
  exponential?: 1;
  exp_scale?: number;
  exp_zero_threshold?: number;
  exp_zero_count?: string;
  exp_positive_offset?: number;
  exp_positive_counts?: string[];
  exp_negative_offset?: number;
  exp_negative_counts?: string[];
}

/**
 * A stored extreme as the answer gives it: the store holds an unknown one as its identity, +Inf for min and -Inf for
 * max (migration 0006), which ClickHouse's JSON writes as null (or as text, with output_format_json_quote_denormals).
 */
function extreme(value: number | string | null): number | null {
  const number = value === null ? Number.NaN : Number(value);
  return Number.isFinite(number) ? number : null;
}

/** A sample's identity: its series and its time to the nanosecond (two samples of one key are an exact duplicate). */
export function sampleKey(sample: Pick<SampleRecord, 'fingerprint' | 'timestamp' | 'nanos'>): string {
  return `${sample.fingerprint}:${sample.timestamp}:${sample.nanos}`;
}

/** A series metricQuery selected: its fingerprint, the values of the groupBy labels ('' where it lacks one), how it adds up. */
export interface SelectedSeries {
  readonly fingerprint: string;
  readonly group: readonly string[];
  readonly type: string;
  readonly temporality: string;
}

/** A series' instrumentation scope as the store reads it. */
export interface StoredScope {
  readonly scope_name: string;
  readonly scope_version: string;
  readonly scope_attributes: Record<string, string>;
}

/** How a series' values add up, as the agent sent it. */
export interface StoredAddition {
  readonly temporality: string;
  /** 1 for a monotonic sum. */
  readonly monotonic: number;
}

/** A series as `Service.series` lists it. */
export interface SeriesSummary extends StoredScope, StoredAddition {
  readonly name: string;
  readonly type: string;
  readonly unit: string;
  readonly labels: Record<string, string>;
}

/** Buckets of an exponential histogram on one side of zero, as OTLP sends them. */
export interface ExponentialBuckets {
  readonly offset: number;
  readonly bucketCounts: string[];
}

/** A histogram point as stored; min and max are null when the agent sent none. */
export interface StoredHistogram {
  readonly count: string;
  readonly sum: number;
  readonly min: number | null;
  readonly max: number | null;
  readonly bounds: number[];
  readonly counts: string[];
  /** The exponential histogram the agent sent, null for an explicit one. */
  readonly exponential: {
    readonly scale: number;
    readonly zeroThreshold: number;
    readonly zeroCount: string;
    readonly positive: ExponentialBuckets;
    readonly negative: ExponentialBuckets;
  } | null;
}

/** A raw sample as the seed queries return it. */
export interface RawSample extends StoredScope, StoredAddition {
  /** Null unless the sample is a histogram's. */
  readonly histogram: StoredHistogram | null;
  readonly name: string;
  readonly value: number;
  readonly timestamp: string;
  /** The time as OTLP sent it, in nanoseconds since the epoch (`timestamp` has milliseconds). */
  readonly timeUnixNano: string;
  /** The point's start time as OTLP sent it, in nanoseconds; null when it had none. */
  readonly startTimeUnixNano: string | null;
  readonly labels: Record<string, string>;
  readonly unit: string;
  readonly description: string;
  readonly type: string;
}

/** What the seed queries select: a required range, optional name, service and label matchers. */
export interface SampleSelection {
  readonly name?: string | null | undefined;
  readonly service?: string | null | undefined;
  readonly labels: readonly LabelMatcher[];
  /** How the client named the matchers, for errors (`filter.labels`). */
  readonly labelsArgument: string;
  readonly fromMs: number;
  readonly toMs: number;
  readonly limit: number;
}

/** One aggregation of metricQuery over the selected series. */
export interface AggregationRequest {
  readonly name: string;
  readonly series: readonly SelectedSeries[];
  /** Group index of each series, in `series` order. */
  readonly groups: readonly number[];
  readonly source: keyof typeof SOURCES;
  readonly aggregation: Aggregation;
  readonly stepSeconds: number;
  readonly fromMs: number;
  readonly toMs: number;
  /** The quantile level of P50…P99, 0 otherwise. */
  readonly quantile: number;
}

/**
 * SQL conditions on the `labels` map of `series`, one per matcher, with keys and values bound as parameters
 * (added to `params`), never spliced into the SQL. Regular expressions are checked in RE2's dialect first and
 * anchored, as in PromQL.
 */
function labelMatcherClauses(
  matchers: readonly LabelMatcher[],
  params: Record<string, unknown>,
  argument: string,
): string[] {
  checkMatchers(matchers, argument);
  return matchers.map((m, i) => {
    params[`k${i}`] = m.key;
    params[`v${i}`] = m.op === 'RE' || m.op === 'NRE' ? `^(?:${m.value})$` : m.value;
    const label = `labels[{k${i}:String}]`;
    return {
      EQ: `${label} = {v${i}:String}`,
      NEQ: `${label} != {v${i}:String}`,
      RE: `match(${label}, {v${i}:String})`,
      NRE: `NOT match(${label}, {v${i}:String})`,
    }[m.op];
  });
}

/** The two paths to ClickHouse, each with its own resilience policy: a query never refuses a push, nor a push a query. */
export interface ClickHousePaths {
  /** Ingest: the inserts and the look-up of samples stored already (retries). */
  readonly ingest: ClickHouseStore;
  /** Queries, with the engine-side read limits. */
  readonly read: ClickHouseStore;
}

/**
 * The metrics subgraph's store: the only place that holds its SQL. Every call goes through the policy of its path
 * (ingest or reads); queries carry the engine-side limits; values are bound parameters.
 */
export class MetricsStore {
  constructor(
    private readonly paths: ClickHousePaths,
    /** Rows a seed query (`metrics`, `metricsByName`) may scan; a selection over it fails with LIMIT_EXCEEDED. */
    private readonly sampleReadMaxRows = 10_000_000,
  ) {}

  get client(): ClickHouseClient {
    return this.paths.read.client;
  }

  ping(signal: AbortSignal): Promise<void> {
    return this.paths.read.ping(signal);
  }

  insertSeries(series: readonly SeriesRecord[]): Promise<void> {
    return this.paths.ingest.insert('series', series);
  }

  /**
   * Inserts one request's samples as one block. ClickHouse keeps the hashes of the samples table's last 100,000
   * blocks (migration 0004): an agent's retry reaching another instance at the same moment is the same block, and is
   * stored once, in the rollup too.
   */
  insertSamples(samples: readonly SampleRecord[]): Promise<void> {
    return this.paths.ingest.insert('samples', samples);
  }

  /** {@link sampleKey} of the given samples that are stored already (an agent's retry of a request that landed). */
  async storedSampleKeys(samples: readonly SampleRecord[]): Promise<Set<string>> {
    if (samples.length === 0) return new Set();
    const min = samples.reduce((m, s) => Math.min(m, s.timestamp), Infinity);
    const max = samples.reduce((m, s) => Math.max(m, s.timestamp), -Infinity);
    const rows = await this.paths.ingest.rows<{ fp: string; ts: number | string; nanos: number }>(
      `SELECT toString(fingerprint) AS fp, toUnixTimestamp64Milli(timestamp) AS ts, nanos FROM samples
       WHERE fingerprint IN {fps:Array(UInt64)}
         AND timestamp BETWEEN fromUnixTimestamp64Milli({min:Int64}, 'UTC') AND fromUnixTimestamp64Milli({max:Int64}, 'UTC')`,
      // UInt64 parameters go as bigints: strings would be quoted inside the array.
      { fps: [...new Set(samples.map((s) => s.fingerprint))].map(BigInt), min, max },
    );
    return new Set(rows.map((r) => sampleKey({ fingerprint: r.fp, timestamp: Number(r.ts), nanos: r.nanos })));
  }

  /**
   * The series of one metric that match, at most `limit` (the caller asks for one more than it allows, to tell
   * "exactly the limit" from "over it"), with the values of the groupBy labels only. The series table is ordered
   * by metric, so this reads that metric's granules alone.
   */
  async selectSeries(
    name: string,
    matchers: readonly LabelMatcher[],
    groupBy: readonly string[],
    limit: number,
  ): Promise<{ series: SelectedSeries[]; rowsRead: number }> {
    const params: Record<string, unknown> = { name, limit };
    const clauses = labelMatcherClauses(matchers, params, 'matchers');
    groupBy.forEach((key, i) => (params[`g${i}`] = key));
    const { rows, rowsRead } = await this.paths.read.compact<[string, string[], string, string]>(
      `SELECT toString(fingerprint), [${groupBy.map((_, i) => `labels[{g${i}:String}]`).join(', ')}], type, temporality FROM series FINAL
       WHERE metric = {name:String} ${clauses.map((c) => `AND ${c}`).join(' ')}
       ORDER BY fingerprint LIMIT {limit:UInt32}`,
      params,
    );
    return {
      series: rows.map(([fingerprint, group, type, temporality]) => ({ fingerprint, group, type, temporality })),
      rowsRead,
    };
  }

  /**
   * One value per group and step, computed in ClickHouse, each group's as two columns in step order:
   * `[group, [stepStart, …], [value, …]]` (pairs would cost a third more to produce and parse).
   */
  aggregate(
    request: AggregationRequest,
    summaries: boolean,
  ): Promise<{ rows: [number, number[], number[]][]; rowsRead: number }> {
    return this.paths.read.compact(
      // Both arrays gather the same rows in the same order; each is sorted by the step.
      `SELECT g, arraySort(groupArray(t)), arraySort((v, t) -> t, groupArray(toFloat64(v)), groupArray(t))
       FROM (${scalarSql(request.aggregation, SOURCES[request.source], summaries)}) WHERE isFinite(v) GROUP BY g`,
      this.aggregationParams(request),
    );
  }

  /** The buckets each group of histograms counted per step: `[group, stepStart, bounds, counts]`, ordered. */
  histogramBuckets(
    request: AggregationRequest,
  ): Promise<{ rows: [number, number, number[], (number | string)[]][]; rowsRead: number }> {
    return this.paths.read.compact(histogramSql(SOURCES[request.source]), this.aggregationParams(request));
  }

  /**
   * Raw samples, newest first. Samples are read only for the series that match (by the samples' primary key) and
   * only in the range; the engine's row limit bounds a selection that still matches too much.
   */
  async readSamples(selection: SampleSelection): Promise<RawSample[]> {
    const params: Record<string, unknown> = {
      from: selection.fromMs,
      to: selection.toMs,
      limit: selection.limit,
      name: selection.name ?? '',
      service: selection.service ?? '',
    };
    const clauses = labelMatcherClauses(selection.labels, params, selection.labelsArgument);
    if (selection.name) clauses.push('metric = {name:String}');
    if (selection.service) clauses.push('service = {service:String}');
    const where = clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`;
    const rows = await this.paths.read.rows<
      {
        name: string;
        value: number;
        ts: number | string;
        nanos: number;
        labels: Record<string, string>;
        unit: string;
        description: string;
        type: string;
        start: string;
        bucket_bounds: number[];
        bucket_counts: string[];
        count: string;
        sum: number;
        min: number | string | null;
        max: number | string | null;
        exponential: number;
        exp_scale: number;
        exp_zero_threshold: number;
        exp_zero_count: string;
        exp_positive_offset: number;
        exp_positive_counts: string[];
        exp_negative_offset: number;
        exp_negative_counts: string[];
      } & StoredScope &
        StoredAddition
    >(
      `SELECT s.metric AS name, s.value AS value, toUnixTimestamp64Milli(s.timestamp) AS ts, s.nanos AS nanos,
              toString(s.start_time_unix_nano) AS start, s.bucket_bounds AS bucket_bounds, arrayMap(c -> toString(c), s.bucket_counts) AS bucket_counts,
              toString(s.count) AS count, s.sum AS sum, s.min AS min, s.max AS max,
              s.exponential AS exponential, s.exp_scale AS exp_scale, s.exp_zero_threshold AS exp_zero_threshold,
              toString(s.exp_zero_count) AS exp_zero_count, s.exp_positive_offset AS exp_positive_offset,
              arrayMap(c -> toString(c), s.exp_positive_counts) AS exp_positive_counts, s.exp_negative_offset AS exp_negative_offset,
              arrayMap(c -> toString(c), s.exp_negative_counts) AS exp_negative_counts,
              r.labels AS labels, r.unit AS unit, r.description AS description, r.type AS type,
              r.scope_name AS scope_name, r.scope_version AS scope_version, r.scope_attributes AS scope_attributes,
              r.temporality AS temporality, r.monotonic AS monotonic
       FROM (SELECT fingerprint, metric, value, timestamp, nanos, start_time_unix_nano, bucket_bounds, bucket_counts, count, sum, min, max,
                    exponential, exp_scale, exp_zero_threshold, exp_zero_count, exp_positive_offset, exp_positive_counts,
                    exp_negative_offset, exp_negative_counts FROM samples
             WHERE fingerprint IN (SELECT fingerprint FROM series ${where})
               AND timestamp >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND timestamp < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
             ORDER BY timestamp DESC, nanos DESC LIMIT {limit:UInt32}) AS s
       INNER JOIN (SELECT fingerprint, labels, unit, description, type, scope_name, scope_version, scope_attributes, temporality, monotonic
                   FROM series FINAL ${where}) AS r USING fingerprint
       ORDER BY ts DESC, nanos DESC`,
      params,
      { maxRowsToRead: this.sampleReadMaxRows },
    );
    return rows.map((r) => ({
      name: r.name,
      value: r.value,
      timestamp: new Date(Number(r.ts)).toISOString(),
      timeUnixNano: (BigInt(r.ts) * 1_000_000n + BigInt(r.nanos)).toString(),
      startTimeUnixNano: r.start === '0' ? null : r.start,
      labels: r.labels,
      unit: r.unit,
      description: r.description,
      type: r.type,
      scope_name: r.scope_name,
      scope_version: r.scope_version,
      scope_attributes: r.scope_attributes,
      temporality: r.temporality,
      monotonic: r.monotonic,
      histogram:
        r.type === 'histogram'
          ? {
              count: r.count,
              sum: r.sum,
              min: extreme(r.min),
              max: extreme(r.max),
              bounds: r.bucket_bounds,
              counts: r.bucket_counts,
              exponential:
                r.exponential === 1
                  ? {
                      scale: r.exp_scale,
                      zeroThreshold: r.exp_zero_threshold,
                      zeroCount: r.exp_zero_count,
                      positive: { offset: r.exp_positive_offset, bucketCounts: r.exp_positive_counts },
                      negative: { offset: r.exp_negative_offset, bucketCounts: r.exp_negative_counts },
                    }
                  : null,
            }
          : null,
    }));
  }

  /** Metric names containing `search` (any case), from the small table of (service, metric) pairs. */
  metricNames(
    search: string,
    limit: number,
  ): Promise<{ name: string; type: string; unit: string; description: string }[]> {
    return this.paths.read.rows(
      `SELECT metric AS name, anyLast(type) AS type, anyLast(unit) AS unit, anyLast(description) AS description
       FROM service_metrics WHERE positionCaseInsensitive(metric, {search:String}) > 0
       GROUP BY metric ORDER BY metric LIMIT {limit:UInt32}`,
      { search, limit },
    );
  }

  /**
   * The first `maxKeys` label keys of a metric's series seen since `fromMs`, each with up to `maxValues + 1` of its
   * values (one more tells the caller there are more), each cut to `valueLength` characters (`cut` says one was).
   * ClickHouse keeps no more than that per key while it reads.
   */
  metricLabels(
    name: string,
    fromMs: number,
    bounds: { maxKeys: number; maxValues: number; valueLength: number },
  ): Promise<{ key: string; values: string[]; cut: boolean }[]> {
    return this.paths.read.rows(
      `SELECT key, arraySort(groupUniqArray({values:UInt32})(leftUTF8(value, {length:UInt32}))) AS values,
              max(lengthUTF8(value)) > {length:UInt32} AS cut
       FROM series FINAL ARRAY JOIN mapKeys(labels) AS key, mapValues(labels) AS value
       WHERE metric = {name:String} AND last_seen >= fromUnixTimestamp64Milli({from:Int64}, 'UTC')
       GROUP BY key ORDER BY key LIMIT {keys:UInt32}`,
      { name, from: fromMs, keys: bounds.maxKeys, values: bounds.maxValues + 1, length: bounds.valueLength },
    );
  }

  /** A service's series by metric name: its metric names first (a small table), then those metrics' series by key. */
  serviceSeries(service: string, limit: number): Promise<SeriesSummary[]> {
    return this.paths.read.rows(
      `SELECT metric AS name, type, unit, labels, scope_name, scope_version, scope_attributes, temporality, monotonic FROM series FINAL
       WHERE metric IN (SELECT metric FROM service_metrics WHERE service = {service:String}) AND service = {service:String}
       ORDER BY metric, fingerprint LIMIT {limit:UInt32}`,
      { service, limit },
    );
  }

  private aggregationParams(request: AggregationRequest): Record<string, unknown> {
    return {
      name: request.name,
      // UInt64 parameters go as bigints: strings would be quoted inside the array.
      fps: request.series.map((s) => BigInt(s.fingerprint)),
      groups: request.groups,
      step: request.stepSeconds,
      from: request.fromMs,
      to: request.toMs,
      q: request.quantile,
      deltas: request.series.map((s) => (s.temporality === 'delta' ? 1 : 0)),
      cumulatives: request.series.map((s) => (s.temporality === 'cumulative' ? 1 : 0)),
    };
  }
}
