export { callElasticsearch, requestOptions } from './elasticsearch.js';
export {
  FACET_VALUE_SAMPLE,
  type FacetCount,
  type HistogramBucket,
  type LogFacets,
  bucketTime,
} from './aggregations.js';
export {
  type BulkDocument,
  type BulkOutcome,
  LogWriter,
  type LogWriterOptions,
  bulkDocument,
  refusalReason,
} from './log-writes.js';
export {
  LogReader,
  type LogReaderOptions,
  type LogRecord,
  MAX_LONG_MESSAGE_READS,
  MAX_TRACE_LOGS,
  MINED_MESSAGE_CHARS,
  type MessageSample,
  type SearchPage,
  type TraceKey,
} from './log-reads.js';
export {
  type LabelMatcher,
  type LogCursor,
  type LogFilter,
  type LogOrder,
  buildLogSearch,
  cursorAfter,
} from './query-dsl.js';
export {
  ELASTICSEARCH_DIR,
  MIGRATIONS_DIR,
  MIGRATIONS_INDEX,
  TEMPLATE_FILE,
  elasticsearchMigrationTarget,
  migrate,
  migrationRequests,
} from './migrations.js';
export {
  ILM_POLICY,
  LogRetention,
  type RetentionMode,
  type RetentionOptions,
  type RetentionRun,
  SETTINGS_TEMPLATE,
  WRITE_ALIAS,
  scheduleRetention,
} from './retention.js';
