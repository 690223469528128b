/**
 * The query API of the logs subgraph, between the GraphQL arguments and the store: arguments checked (errors as
 * BAD_USER_INPUT naming the argument, with the position for a query's syntax), limits applied, answers shaped.
 */
import { heimdallError } from '@heimdall/shared/errors';
import { badUserInput, durationArgument, rangeArgumentNanos, sizeArgument } from '@heimdall/shared/user-input';
import { findVolumeAnomalies } from './anomalies.js';
import { formatInterval, intervalFor } from './intervals.js';
import { type LogPattern, minePatterns } from './patterns.js';
import {
  type LogFilterInput,
  type LogQueryLimits,
  decodeCursor,
  encodeCursor,
  parseLogFilter,
} from './search-input.js';
import {
  type HistogramBucket,
  type LogFacets,
  type LogFilter,
  type LogOrder,
  type LogRecord,
  type LogReader,
  bucketTime,
} from './store/index.js';
import { BEFORE_STORED_TIMES, nanosToMs } from './timestamps.js';

export interface QueryLimits extends LogQueryLimits {
  /** Entries one page or list may hold. */
  readonly maxPage: number;
  /** Buckets one histogram may hold. */
  readonly maxBuckets: number;
  /**
   * Newest matching messages `logPatterns` mines: enough for the frequent templates, and read (doc values) and mined
   * in well under a second over millions of matches.
   */
  readonly patternSample: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxRangeMs: 90 * 86_400_000,
  maxPage: 1_000,
  maxBuckets: 1_500,
  patternSample: 2_000,
};

const AUTO_BUCKETS = 60;
const MAX_FACETS = 100;
const MAX_PATTERNS = 100;
const DAY_MS = 86_400_000;
/** Volume anomalies: the longest range judged, the widths of its buckets, and the baseline before it. */
const ANOMALY_MAX_RANGE_MS = 7 * DAY_MS;
const ANOMALY_MIN_BUCKET_MS = 60_000;
const ANOMALY_MAX_BUCKET_MS = 3 * 3_600_000;
const BASELINE_DAYS = 7;
const TRAILING_BUCKETS = 24;
/** Histogram buckets of a second at least, the finest `NICE_INTERVALS_MS` chooses. */
const INTERVAL_BOUNDS = { min: 1_000 };

/** A checked filter, or BAD_USER_INPUT naming the argument at fault (and the position, for the query). */
export function checkedFilter(input: LogFilterInput, limits: LogQueryLimits): LogFilter {
  const parsed = parseLogFilter(input, limits);
  if (parsed.ok) return parsed.filter;
  throw heimdallError('BAD_USER_INPUT', {
    message: parsed.message,
    details: { argument: parsed.argument, ...(parsed.position === undefined ? {} : { position: parsed.position }) },
  });
}

export interface LogSearchAnswer {
  readonly entries: LogRecord[];
  readonly total: number;
  readonly totalRelation: 'EXACT' | 'AT_LEAST';
  readonly cursor: string | null;
}

export async function logSearch(
  store: LogReader,
  args: { filter: LogFilterInput; first?: number | null; after?: string | null; order?: LogOrder | null },
  limits: QueryLimits,
): Promise<LogSearchAnswer> {
  const filter = checkedFilter(args.filter, limits);
  const size = sizeArgument('first', args.first ?? 50, limits.maxPage);
  const after = args.after === undefined || args.after === null ? undefined : decodeCursor(args.after);
  if (args.after !== undefined && args.after !== null && after === undefined) {
    throw badUserInput('after', 'not a cursor of logSearch');
  }
  const found = await store.search(
    filter,
    { size, order: args.order ?? 'NEWEST_FIRST', ...(after === undefined ? {} : { after }) },
    { countTotal: true },
  );
  return {
    entries: found.entries,
    total: found.total,
    totalRelation: found.totalExact ? 'EXACT' : 'AT_LEAST',
    cursor: found.next === undefined ? null : encodeCursor(found.next),
  };
}

/** `logs(filter, limit)` and `logsByService`: newest first, without highlights or counting. */
export async function listLogs(
  store: LogReader,
  filter: LogFilterInput,
  limit: number,
  limits: QueryLimits,
): Promise<LogRecord[]> {
  const checked = checkedFilter(filter, limits);
  const size = sizeArgument('limit', limit, limits.maxPage);
  return (await store.search(checked, { size, highlight: false }, { countTotal: false })).entries;
}

export interface HistogramAnswer {
  readonly interval: string;
  readonly buckets: HistogramBucket[];
}

/** The bucket width asked for, or about 60 over the range; LIMIT_EXCEEDED when it makes too many buckets. */
function histogramInterval(filter: LogFilter, interval: string | null | undefined, limits: QueryLimits): number {
  const rangeMs = nanosToMs(filter.range.to - filter.range.from);
  if (interval === undefined || interval === null) return intervalFor(rangeMs, AUTO_BUCKETS);
  const ms = durationArgument('interval', interval, INTERVAL_BOUNDS);
  if (rangeMs / ms > limits.maxBuckets) {
    throw heimdallError('LIMIT_EXCEEDED', {
      message: `interval: ${interval.trim()} makes ${Math.ceil(rangeMs / ms)} buckets over the range; at most ${limits.maxBuckets}`,
      details: { argument: 'interval' },
    });
  }
  return ms;
}

export async function logHistogram(
  store: LogReader,
  filterInput: LogFilterInput,
  interval: string | null | undefined,
  limits: QueryLimits,
): Promise<HistogramAnswer> {
  const filter = checkedFilter(filterInput, limits);
  const ms = histogramInterval(filter, interval, limits);
  return { interval: formatInterval(ms), buckets: await store.histogram(filter, ms) };
}

export async function logFacets(
  store: LogReader,
  filterInput: LogFilterInput,
  limit: number | null | undefined,
  limits: QueryLimits,
): Promise<LogFacets> {
  return store.facets(checkedFilter(filterInput, limits), sizeArgument('limit', limit ?? 10, MAX_FACETS));
}

/** A pattern as logPatterns answers it: whether its counts come from a sample of the matches. */
export type SampledPattern = LogPattern & { readonly sampled: boolean };

export async function logPatterns(
  store: LogReader,
  filterInput: LogFilterInput,
  limit: number | null | undefined,
  limits: QueryLimits,
): Promise<SampledPattern[]> {
  const filter = checkedFilter(filterInput, limits);
  const size = sizeArgument('limit', limit ?? 20, MAX_PATTERNS);
  const { messages, sampled } = await store.recentMessages(filter, limits.patternSample);
  return minePatterns(messages)
    .slice(0, size)
    .map((pattern) => ({ ...pattern, sampled }));
}

export interface VolumeAnomalyAnswer {
  readonly service: string;
  readonly level: string;
  readonly timestamp: string;
  readonly interval: string;
  readonly count: number;
  readonly expected: number;
  readonly score: number;
  readonly direction: 'SPIKE' | 'DROP';
  readonly baseline: 'SAME_TIME_OF_DAY' | 'TRAILING';
}

/**
 * Buckets of about a 60th of the range (1 minute to 3 hours, widths that divide a day), judged against the same
 * buckets on the previous 7 days, or the 24 buckets just before.
 */
export async function logVolumeAnomalies(
  store: LogReader,
  service: string,
  range: { from: string; to: string },
): Promise<VolumeAnomalyAnswer[]> {
  const { from: fromNanos, to: toNanos } = rangeArgumentNanos('range', range, { maxSpanMs: ANOMALY_MAX_RANGE_MS });
  if (fromNanos < 0n) throw badUserInput('range.from', BEFORE_STORED_TIMES);
  if (service.length > 256) throw badUserInput('service', 'must be at most 256 characters');
  const rangeMs = nanosToMs(toNanos - fromNanos);
  const bucketMs = Math.min(intervalFor(rangeMs, AUTO_BUCKETS, ANOMALY_MIN_BUCKET_MS), ANOMALY_MAX_BUCKET_MS);
  const from = Math.floor(nanosToMs(fromNanos) / bucketMs) * bucketMs;
  const to = Math.ceil(nanosToMs(toNanos) / bucketMs) * bucketMs;
  const windows = [
    { from: from - TRAILING_BUCKETS * bucketMs, to },
    ...Array.from({ length: BASELINE_DAYS }, (_, k) => ({ from: from - (k + 1) * DAY_MS, to: to - (k + 1) * DAY_MS })),
  ];
  const series = await store.volume(service, windows, bucketMs);
  return findVolumeAnomalies(series, {
    range: { from, to },
    bucketMs,
    days: BASELINE_DAYS,
    trailingBuckets: TRAILING_BUCKETS,
  }).map((a) => ({
    service: a.service,
    level: a.level,
    timestamp: bucketTime(a.start),
    interval: formatInterval(bucketMs),
    count: a.count,
    expected: a.expected,
    score: a.score,
    direction: a.direction,
    baseline: a.baseline,
  }));
}
