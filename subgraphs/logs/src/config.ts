import { z } from 'zod';
import { positiveInt, serviceEnvSchema } from '@heimdall/shared/config';

/** An Elasticsearch size such as 50gb or 512mb. */
const byteSize = () => z.string().regex(/^\d+(b|kb|mb|gb|tb)$/, 'a size such as 50gb');
/** An Elasticsearch time value such as 1d or 12h. */
const timeValue = () => z.string().regex(/^\d+(s|m|h|d)$/, 'a time such as 1d or 12h');

export const logsEnvSchema = serviceEnvSchema(8002).extend({
  ELASTICSEARCH_URL: z.url().default('http://127.0.0.1:9200'),
  ELASTICSEARCH_USERNAME: z.string().min(1).optional(),
  ELASTICSEARCH_PASSWORD: z.string().optional(),
  /**
   * How long one write to Elasticsearch (a `_bulk` request, an index set-up or migration step, a retention round's
   * request) may take, in ms, under the `elasticsearch_bulk` policy: a bulk of thousands of Korean documents takes
   * longer than a search.
   */
  ELASTICSEARCH_BULK_TIMEOUT_MS: positiveInt().default(30_000),
  /** Writes to Elasticsearch in flight at once; beyond them `ELASTICSEARCH_BULK_QUEUE` wait, and more are UNAVAILABLE at once. */
  ELASTICSEARCH_BULK_CONCURRENCY: positiveInt().default(8),
  ELASTICSEARCH_BULK_QUEUE: positiveInt().default(1000),
  /** Primary shards of each new logs index (SPEC §5: 1 locally, 3 in production). */
  LOGS_INDEX_SHARDS: positiveInt().default(1),
  /** Replicas of each new logs index (SPEC §5: 0 locally, 1 in production). */
  LOGS_INDEX_REPLICAS: z.coerce.number().int().min(0).default(0),
  /** Entries are deleted this many days after the newest entry of their index (SPEC §5: 90). */
  LOGS_RETENTION_DAYS: positiveInt().default(90),
  /** The write index rolls over once it is this old... */
  LOGS_ROLLOVER_MAX_AGE: timeValue().default('1d'),
  /** ...or once one of its primary shards is this large. */
  LOGS_ROLLOVER_MAX_PRIMARY_SHARD_SIZE: byteSize().default('50gb'),
  /** Without ILM, how often Heimdall checks rollover and retention itself, in seconds. */
  LOGS_RETENTION_INTERVAL_SECONDS: positiveInt().default(300),
  /**
   * While Elasticsearch is unavailable at start, how often the index set-up and migrations are tried again, in ms;
   * OTLP pushes meanwhile are answered 503 with a `Retry-After` of as long.
   */
  LOGS_SETUP_RETRY_MS: positiveInt().default(5_000),
  /** Longest range one log query may cover, in days. */
  LOGS_QUERY_MAX_RANGE_DAYS: positiveInt().default(90),
  /**
   * How long logPatterns and logFacets may read, in ms (Elasticsearch stops collecting at 60% of it); keep it under
   * the gateway's SUBGRAPH_TIMEOUT_MS. Beyond it the query is LIMIT_EXCEEDED.
   */
  LOGS_QUERY_DEADLINE_MS: positiveInt().default(2_500),
  /** Bytes of OTLP log documents that may wait for their bulk write; a push beyond gets 429 + Retry-After. */
  LOGS_INGEST_MAX_PENDING_BYTES: positiveInt().default(64 * 1024 * 1024),
  /** Redis holding the queue of `POST /api/v1/logs`; it should run with AOF (see README). */
  REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
  /** The Redis stream of accepted API entries; its dead letters and counters use it as a prefix. */
  LOGS_QUEUE_STREAM: z
    .string()
    .regex(/^[\w:.-]+$/, 'letters, digits, ":", ".", "-" or "_"')
    .default('heimdall:logs:entries'),
  /** Accepted entries not yet indexed beyond which `POST /api/v1/logs` answers 503 + Retry-After. */
  LOGS_QUEUE_MAX_ENTRIES: positiveInt().default(500_000),
  /** How long an entry delivered to an indexer may stay unacknowledged before another indexer takes it over, in ms. */
  LOGS_QUEUE_CLAIM_IDLE_MS: positiveInt().default(30_000),
});

export type LogsConfig = z.output<typeof logsEnvSchema>;
