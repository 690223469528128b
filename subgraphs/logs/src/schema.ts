import { loadSubgraphSchema } from '@heimdall/shared/graphql';
import { sizeArgument } from '@heimdall/shared/user-input';
import type { LogFilter as GraphQLLogFilter, Resolvers } from './generated/resolvers.js';
import {
  type QueryLimits,
  listLogs,
  logFacets,
  logHistogram,
  logPatterns,
  logSearch,
  logVolumeAnomalies,
} from './log-queries.js';
import { TRUNCATED_LABEL } from './ingest-limits.js';
import type { LogQueue } from './queue/log-queue.js';
import { validateLogQuery } from './query-language.js';
import type { LogFilterInput } from './search-input.js';
import { type LogRecord, type LogReader, bucketTime } from './store/index.js';
import type { TraceLogsLoader } from './trace-logs.js';

export interface LogsContext {
  readonly store: LogReader;
  readonly queue: LogQueue;
  readonly traceLogs: TraceLogsLoader;
  readonly limits: QueryLimits;
}

const MAX_SERVICE_LOGS = 1000;
const MAX_FAILURES = 1000;

/** The filter as the queries take it: GraphQL fills in a matcher's default operator, which its types cannot know. */
const filterOf = (filter: GraphQLLogFilter): LogFilterInput => ({
  ...filter,
  labels: (filter.labels ?? []).map((m) => ({ ...m, op: m.op ?? 'EQ' })),
});

/** Labels by key, so that two entries with the same labels list them alike. */
const labelList = (record: Readonly<Record<string, string>> | undefined) =>
  Object.entries(record ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => ({ key, value }));

export const resolvers: Resolvers = {
  Query: {
    logs: (_, args, ctx) => listLogs(ctx.store, filterOf(args.filter), args.limit, ctx.limits),
    logsByService: (_, args, ctx) =>
      listLogs(
        ctx.store,
        { services: [args.service], levels: args.levels ?? null, range: args.range },
        args.limit,
        ctx.limits,
      ),
    logSearch: (_, args, ctx) => logSearch(ctx.store, { ...args, filter: filterOf(args.filter) }, ctx.limits),
    logHistogram: (_, args, ctx) => logHistogram(ctx.store, filterOf(args.filter), args.interval, ctx.limits),
    logFacets: (_, args, ctx) => logFacets(ctx.store, filterOf(args.filter), args.limit, ctx.limits),
    logPatterns: (_, args, ctx) => logPatterns(ctx.store, filterOf(args.filter), args.limit, ctx.limits),
    logVolumeAnomalies: (_, args, ctx) => logVolumeAnomalies(ctx.store, args.service, args.range),
    validateLogQuery: (_, args) => {
      const verdict = validateLogQuery(args.query);
      return verdict.ok
        ? { valid: true, message: null, position: null }
        : { valid: false, message: verdict.message, position: verdict.position };
    },
    logIngestFailures: (_, args, ctx) =>
      ctx.queue.deadLetters(sizeArgument('first', args.first ?? 100, MAX_FAILURES), args.after ?? undefined),
  },
  Mutation: {
    retryLogIngestFailures: (_, args, ctx) => ctx.queue.retry(args.ids),
  },
  Service: {
    __resolveReference: (ref) => ({ name: ref.name }),
    logs: (service, args, ctx) => ctx.store.recent(service.name, sizeArgument('limit', args.limit, MAX_SERVICE_LOGS)),
    logVolume: async (service, args, ctx) =>
      (await logHistogram(ctx.store, { services: [service.name], range: args.range }, args.interval, ctx.limits))
        .buckets,
  },
  Trace: {
    logs: (trace, _, ctx) => ctx.traceLogs.load(trace.traceId),
  },
  Span: {
    logs: (span, _, ctx) => ctx.traceLogs.load(span.traceId, span.spanId),
  },
  LogEntry: {
    labels: (entry) => labelList(entry.labels),
    resource: (entry) => labelList(entry.resource),
    scope: (entry) =>
      entry.scope === undefined ? null : { ...entry.scope, attributes: labelList(entry.metadata?.scopeAttributes) },
    body: (entry) => (entry.metadata?.body === undefined ? null : JSON.stringify(entry.metadata.body)),
    observedTimestamp: (entry) => entry.metadata?.observedTimestamp ?? null,
    eventName: (entry) => entry.metadata?.eventName ?? null,
    highlights: (entry: LogRecord) => [...(entry.highlights ?? [])],
    truncated: (entry: LogRecord) => entry.truncated === true || entry.labels[TRUNCATED_LABEL] !== undefined,
  },
  LogHistogramBucket: {
    timestamp: (bucket) => bucketTime(bucket.start),
  },
  LogIngestFailure: {
    failedAt: (failure) => new Date(failure.failedAt).toISOString(),
    entry: (failure) => failure.document,
  },
};

export function buildSchema() {
  return loadSubgraphSchema(new URL('./schema.graphql', import.meta.url), resolvers).schema;
}
