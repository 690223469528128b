import { createHash } from 'node:crypto';
import { type ExportMetricsServiceRequest, anyValueText, type KeyValue, type Metric } from '@heimdall/shared/otlp';
import { GroupCommitBatcher, type BatcherOptions } from '@heimdall/shared/resilience';
import { MAX_ATTRIBUTES, MAX_LABEL_KEY_LENGTH, MAX_LABEL_VALUE_LENGTH, MAX_METRIC_NAME_LENGTH } from './limits.js';
import { type MetricsStore, type SampleRecord, type SeriesRecord, sampleKey } from './store/metrics-store.js';

/** Points older than this or further in the future than FUTURE_MS are rejected one by one (SPEC §4). */
const MAX_AGE_MS = 7 * 86_400_000;
const FUTURE_MS = 10 * 60_000;

export interface Rows {
  readonly series: SeriesRecord[];
  readonly samples: SampleRecord[];
  readonly rejected: number;
  readonly errors: string[];
  /** What was stored shortened: label values cut to MAX_LABEL_VALUE_LENGTH, attributes left out. */
  readonly trimmed: Trimmed;
}

/** What ingest shortened of a request, for the warning in its answer. */
interface Trimmed {
  cut: number;
  dropped: number;
}

/** Distinct reasons one answer lists; the rest are counted. */
const MAX_REASONS = 10;

/** `text` within MAX_LABEL_VALUE_LENGTH, counted in `trimmed` when cut (never inside a surrogate pair). */
function bounded(text: string, trimmed: Trimmed): string {
  if (text.length <= MAX_LABEL_VALUE_LENGTH) return text;
  trimmed.cut++;
  const end = /[\uD800-\uDBFF]/.test(text[MAX_LABEL_VALUE_LENGTH - 1]!)
    ? MAX_LABEL_VALUE_LENGTH - 1
    : MAX_LABEL_VALUE_LENGTH;
  return text.slice(0, end);
}

/**
 * An attribute list as labels: the first MAX_ATTRIBUTES, values cut to MAX_LABEL_VALUE_LENGTH; an attribute beyond
 * the count or with a key over MAX_LABEL_KEY_LENGTH (no query could name it) is left out. Both counted in `trimmed`.
 */
function attributes(list: readonly KeyValue[], trimmed: Trimmed): Record<string, string> {
  const kept: [string, string][] = [];
  for (const kv of list) {
    if (kept.length >= MAX_ATTRIBUTES || kv.key.length > MAX_LABEL_KEY_LENGTH) trimmed.dropped++;
    else kept.push([kv.key, bounded(anyValueText(kv.value), trimmed)]);
  }
  return Object.fromEntries(kept);
}

/** The answer's message: the rejections' reasons (at most MAX_REASONS), then what was shortened. */
function answerMessage(rows: Rows): string {
  const reasons = rows.errors.slice(0, MAX_REASONS);
  if (rows.errors.length > MAX_REASONS) reasons.push(`and ${rows.errors.length - MAX_REASONS} more reasons`);
  const { cut, dropped } = rows.trimmed;
  if (cut > 0) reasons.push(`${cut} label values cut to ${MAX_LABEL_VALUE_LENGTH} characters`);
  if (dropped > 0) {
    reasons.push(
      `${dropped} attributes left out (at most ${MAX_ATTRIBUTES} per resource, scope and point, keys of at most ${MAX_LABEL_KEY_LENGTH} characters)`,
    );
  }
  return reasons.join('; ');
}

/** The instrumentation scope of a series, kept apart from its labels. */
export interface Scope {
  readonly name: string;
  readonly version: string;
  readonly attributes: Record<string, string>;
}

const sortedEntries = (record: Record<string, string>) =>
  Object.keys(record)
    .sort()
    .map((k) => [k, record[k]]);

/**
 * A fingerprint of the series: metric, type, unit, the sorted label set and the scope (OpenTelemetry's stream
 * identity: two libraries reporting one metric are two series), as a UInt64 in decimal.
 */
export function fingerprint(
  metric: string,
  type: string,
  unit: string,
  labels: Record<string, string>,
  scope: Scope,
): string {
  const identity = [
    metric,
    type,
    unit,
    sortedEntries(labels),
    scope.name,
    scope.version,
    sortedEntries(scope.attributes),
  ];
  const digest = createHash('sha256').update(JSON.stringify(identity)).digest();
  return digest.readBigUInt64BE(0).toString();
}

/**
 * Fingerprints of the series seen lately, by their labels in arrival order: agents send the same series in the
 * same shape on every export, and sorting and hashing each point's labels was most of the cost of ingest.
 */
const recentFingerprints = new Map<string, string>();
const MAX_RECENT_FINGERPRINTS = 50_000;

function cachedFingerprint(
  metric: string,
  type: string,
  unit: string,
  labels: Record<string, string>,
  scope: Scope,
): string {
  // JSON keeps any character of a label apart from the separators; the hash sorts, this key need not.
  const key = JSON.stringify([metric, type, unit, labels, scope]);
  let fp = recentFingerprints.get(key);
  if (fp === undefined) {
    fp = fingerprint(metric, type, unit, labels, scope);
    if (recentFingerprints.size >= MAX_RECENT_FINGERPRINTS) recentFingerprints.clear();
    recentFingerprints.set(key, fp);
  }
  return fp;
}

/** Upper bounds and counts of an exponential histogram as explicit buckets (negative, zero, positive). */
function exponentialBuckets(
  scale: number,
  zeroThreshold: number,
  zeroCount: bigint,
  positive?: { offset: number; bucketCounts: bigint[] },
  negative?: { offset: number; bucketCounts: bigint[] },
) {
  const base = 2 ** (2 ** -scale);
  const bounds: number[] = [];
  const counts: string[] = [];
  const neg = negative?.bucketCounts ?? [];
  for (let i = neg.length - 1; i >= 0; i--) {
    bounds.push(-(base ** (negative!.offset + i)));
    counts.push(neg[i]!.toString());
  }
  bounds.push(zeroThreshold);
  counts.push(zeroCount.toString());
  const pos = positive?.bucketCounts ?? [];
  pos.forEach((count, i) => {
    bounds.push(base ** (positive!.offset + i + 1));
    counts.push(count.toString());
  });
  // Explicit histograms have one bound fewer than buckets: the last bucket runs to +Inf.
  bounds.pop();
  return { bounds, counts };
}

/**
 * Turns an OTLP export into series and sample rows; stale, future and malformed points, and those of an overlong
 * metric name, are counted as rejected; what is shortened to fit the limits is counted in `trimmed`.
 */
export function toRows(request: ExportMetricsServiceRequest, now = Date.now()): Rows {
  const series = new Map<string, SeriesRecord>();
  const samples: SampleRecord[] = [];
  const errors = new Set<string>();
  const trimmed: Trimmed = { cut: 0, dropped: 0 };
  let rejected = 0;

  for (const resourceMetrics of request.resourceMetrics) {
    const resource = attributes(resourceMetrics.resource?.attributes ?? [], trimmed);
    const service = resource['service.name'] ?? 'unknown_service';
    for (const scopeMetrics of resourceMetrics.scopeMetrics) {
      const scope: Scope = {
        name: bounded(scopeMetrics.scope?.name ?? '', trimmed),
        version: bounded(scopeMetrics.scope?.version ?? '', trimmed),
        attributes: attributes(scopeMetrics.scope?.attributes ?? [], trimmed),
      };
      for (const metric of scopeMetrics.metrics) {
        if (metric.name.length > MAX_METRIC_NAME_LENGTH) {
          const count = points(metric).length;
          rejected += count;
          if (count > 0) errors.add(`metric names are at most ${MAX_METRIC_NAME_LENGTH} characters`);
          continue;
        }
        for (const point of points(metric)) {
          if (point.invalid !== undefined) {
            rejected++;
            errors.add(`${point.invalid} (metric ${metric.name})`);
            continue;
          }
          const timestamp = Number(point.timeUnixNano / 1_000_000n);
          const nanos = Number(point.timeUnixNano % 1_000_000n);
          if (timestamp < now - MAX_AGE_MS || timestamp > now + FUTURE_MS) {
            rejected++;
            errors.add(`points must be at most 7 days old and 10 minutes ahead (metric ${metric.name})`);
            continue;
          }
          // Point attributes override resource attributes; the scope's stay with the scope.
          const labels = { ...resource, ...attributes(point.attributes, trimmed), 'service.name': service };
          const fp = cachedFingerprint(metric.name, point.type, metric.unit, labels, scope);
          const known = series.get(fp);
          if (known !== undefined) known.last_seen = Math.max(known.last_seen, timestamp);
          else {
            series.set(fp, {
              fingerprint: fp,
              metric: metric.name,
              type: point.type,
              unit: metric.unit,
              description: metric.description,
              service,
              labels,
              scope_name: scope.name,
              scope_version: scope.version,
              scope_attributes: scope.attributes,
              temporality: point.temporality,
              monotonic: point.monotonic ? 1 : 0,
              last_seen: timestamp,
            });
          }
          samples.push({
            fingerprint: fp,
            metric: metric.name,
            timestamp,
            nanos,
            start_time_unix_nano: point.startTimeUnixNano.toString(),
            ...point.sample,
          });
        }
      }
    }
  }
  return { series: [...series.values()], samples, rejected, errors: [...errors], trimmed };
}

interface Point {
  type: string;
  temporality: string;
  monotonic: boolean;
  timeUnixNano: bigint;
  attributes: KeyValue[];
  sample: Omit<SampleRecord, 'fingerprint' | 'metric' | 'timestamp' | 'nanos' | 'start_time_unix_nano'>;
  /** OTLP's start time (0n for a gauge, or when the agent sent none). */
  startTimeUnixNano: bigint;
  /** Why the point cannot be stored, when it cannot: it is rejected alone, with this reason. */
  invalid?: string;
}

/** What a histogram point knows of its extremes; left out, the store takes them as unknown (migration 0006). */
function extremes(min: number | undefined, max: number | undefined): Pick<SampleRecord, 'min' | 'max'> {
  return { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) };
}

/** OTLP's rule for explicit buckets: one count more than bounds (the last bucket runs to +Inf), or neither. */
function malformedBuckets(counts: number, bounds: number): string | undefined {
  if (counts === bounds + 1 || (counts === 0 && bounds === 0)) return undefined;
  return `a histogram point needs one bucket count more than explicit bounds, not ${counts} for ${bounds}`;
}

const TEMPORALITY = ['', 'delta', 'cumulative'];

function points(metric: Metric): Point[] {
  const data = metric.data;
  const plain = { bucket_bounds: [], bucket_counts: [], count: '0', sum: 0, quantile_levels: [], quantile_values: [] };
  switch (data.case) {
    case 'gauge':
    case 'sum': {
      const temporality = data.case === 'sum' ? (TEMPORALITY[data.value.aggregationTemporality] ?? '') : '';
      const monotonic = data.case === 'sum' && data.value.isMonotonic;
      return data.value.dataPoints.map((p) => ({
        type: data.case,
        temporality,
        monotonic,
        timeUnixNano: p.timeUnixNano,
        // Gauges have no start time (OTLP ignores one if sent).
        startTimeUnixNano: data.case === 'sum' ? p.startTimeUnixNano : 0n,
        attributes: p.attributes,
        sample: { ...plain, value: p.value.case === undefined ? 0 : Number(p.value.value) },
      }));
    }
    case 'histogram':
      return data.value.dataPoints.map((p) => ({
        type: 'histogram',
        temporality: TEMPORALITY[data.value.aggregationTemporality] ?? '',
        monotonic: false,
        timeUnixNano: p.timeUnixNano,
        startTimeUnixNano: p.startTimeUnixNano,
        attributes: p.attributes,
        sample: {
          ...plain,
          value: p.sum ?? 0,
          bucket_bounds: p.explicitBounds,
          bucket_counts: p.bucketCounts.map(String),
          count: p.count.toString(),
          sum: p.sum ?? 0,
          ...extremes(p.min, p.max),
        },
        invalid: malformedBuckets(p.bucketCounts.length, p.explicitBounds.length),
      }));
    case 'exponentialHistogram':
      return data.value.dataPoints.map((p) => {
        const { bounds, counts } = exponentialBuckets(p.scale, p.zeroThreshold, p.zeroCount, p.positive, p.negative);
        return {
          type: 'histogram',
          temporality: TEMPORALITY[data.value.aggregationTemporality] ?? '',
          monotonic: false,
          timeUnixNano: p.timeUnixNano,
          startTimeUnixNano: p.startTimeUnixNano,
          attributes: p.attributes,
          sample: {
            ...plain,
            value: p.sum ?? 0,
            bucket_bounds: bounds,
            bucket_counts: counts,
            count: p.count.toString(),
            sum: p.sum ?? 0,
            ...extremes(p.min, p.max),
            exponential: 1,
            exp_scale: p.scale,
            exp_zero_threshold: p.zeroThreshold,
            exp_zero_count: p.zeroCount.toString(),
            exp_positive_offset: p.positive?.offset ?? 0,
            exp_positive_counts: (p.positive?.bucketCounts ?? []).map(String),
            exp_negative_offset: p.negative?.offset ?? 0,
            exp_negative_counts: (p.negative?.bucketCounts ?? []).map(String),
          },
        };
      });
    case 'summary':
      return data.value.dataPoints.map((p) => ({
        type: 'summary',
        temporality: '',
        monotonic: false,
        timeUnixNano: p.timeUnixNano,
        startTimeUnixNano: p.startTimeUnixNano,
        attributes: p.attributes,
        sample: {
          ...plain,
          value: p.sum,
          count: p.count.toString(),
          sum: p.sum,
          quantile_levels: p.quantileValues.map((q) => q.quantile),
          quantile_values: p.quantileValues.map((q) => q.value),
          // OTLP: quantile 0 is the least value observed, 1 the greatest.
          ...extremes(
            p.quantileValues.find((q) => q.quantile === 0)?.value,
            p.quantileValues.find((q) => q.quantile === 1)?.value,
          ),
        },
      }));
    default:
      return [];
  }
}

/** One request's rows, as the batcher holds them until their write commits. */
interface RequestRows {
  readonly series: SeriesRecord[];
  readonly samples: SampleRecord[];
}

/**
 * Writes metrics to ClickHouse through group commit: a request is acknowledged once the inserts holding its rows
 * have committed. What waits is bounded by points (`maxPendingSize`), so a flood of large requests meets 429 before
 * memory runs out. An agent's retry is not counted twice: samples whose series and time (to the nanosecond) are
 * stored already are skipped, and each request's samples go in as one block of their own, which ClickHouse
 * recognises by its content when the same retry reaches two instances at once (it is stored once, in the raw table
 * and in the rollup).
 */
export class MetricsWriter {
  private readonly batcher: GroupCommitBatcher<RequestRows>;

  constructor(
    private readonly store: MetricsStore,
    options: Omit<BatcherOptions<RequestRows>, 'sizeOf'> = {},
  ) {
    this.batcher = new GroupCommitBatcher((items) => this.write(items), {
      ...options,
      sizeOf: (item) => item.samples.length,
    });
  }

  async ingest(request: ExportMetricsServiceRequest): Promise<{ rejected: number; errorMessage?: string }> {
    const rows = toRows(request);
    if (rows.samples.length > 0) await this.batcher.add([{ series: rows.series, samples: rows.samples }]);
    const message = answerMessage(rows);
    return message === '' ? { rejected: rows.rejected } : { rejected: rows.rejected, errorMessage: message };
  }

  close(): Promise<void> {
    return this.batcher.close();
  }

  private async write(requests: RequestRows[]): Promise<void> {
    const series = new Map(requests.flatMap((r) => r.series).map((s) => [s.fingerprint, s]));
    const stored = await this.store.storedSampleKeys(requests.flatMap((r) => r.samples));
    // Series rows are upserts (the table keeps the latest sighting), safe to write for every batch.
    await this.store.insertSeries([...series.values()]);
    await Promise.all(
      requests.map((request) => {
        const unique = new Map(request.samples.map((s) => [sampleKey(s), s]));
        const fresh = [...unique.values()].filter((s) => !stored.has(sampleKey(s)));
        return fresh.length === 0 ? Promise.resolve() : this.store.insertSamples(fresh);
      }),
    );
  }
}
