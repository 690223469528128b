import { join } from 'node:path';
import { z } from 'zod';
import { positiveInt, serviceEnvSchema } from '@heimdall/shared/config';

const REPO_DIR = join(import.meta.dirname, '..', '..', '..');

export const metricsEnvSchema = serviceEnvSchema(8001)
  .extend({
    /** A ClickHouse server over HTTP; unset, ClickHouse runs embedded (chdb) with its data in CLICKHOUSE_DATA_DIR. */
    CLICKHOUSE_URL: z.url().optional(),
    CLICKHOUSE_USER: z.string().min(1).optional(),
    CLICKHOUSE_PASSWORD: z.string().optional(),
    CLICKHOUSE_DATABASE: z.string().regex(/^\w+$/, 'a database name').optional(),
    CLICKHOUSE_DATA_DIR: z
      .string()
      .min(1)
      .default(join(REPO_DIR, '.stack', 'clickhouse')),
    /** Series one metricQuery may touch before it fails with LIMIT_EXCEEDED. */
    METRIC_QUERY_MAX_SERIES: positiveInt().default(10_000),
    /** Points per series one metricQuery may return. */
    METRIC_QUERY_MAX_POINTS: positiveInt().default(11_000),
    /** Longest range one metricQuery may ask for, in days. */
    METRIC_QUERY_MAX_RANGE_DAYS: positiveInt().default(180),
    /**
     * Seconds ClickHouse lets one read run before it stops it (LIMIT_EXCEEDED, the caller's error; fractions allowed).
     * Under CLICKHOUSE_READ_TIMEOUT_MS, so the engine ends a long read before the client gives up on it.
     */
    CLICKHOUSE_MAX_EXECUTION_SECONDS: z.coerce.number().positive().default(2.5),
    /**
     * Milliseconds the client waits for a read before it gives up (UNAVAILABLE, counted by the `clickhouse_read`
     * breaker, never by ingest's); the gateway gives up on a subgraph after 3000.
     */
    CLICKHOUSE_READ_TIMEOUT_MS: positiveInt().default(3000),
    /** Milliseconds the client waits for an insert (or ingest's look-up of stored samples); then 503 + Retry-After. */
    CLICKHOUSE_INGEST_TIMEOUT_MS: positiveInt().default(3000),
    /** Rows one read may scan before ClickHouse stops it (LIMIT_EXCEEDED). */
    CLICKHOUSE_MAX_ROWS_TO_READ: positiveInt().default(200_000_000),
    /** Uncompressed bytes one read may scan before ClickHouse stops it (LIMIT_EXCEEDED). */
    CLICKHOUSE_MAX_BYTES_TO_READ: positiveInt().default(20 * 2 ** 30),
    /** Rows a raw-sample seed query (`metrics`, `metricsByName`) may scan. */
    METRIC_SAMPLES_MAX_ROWS_TO_READ: positiveInt().default(10_000_000),
    /** Data points that may wait for their insert; a push beyond gets 429 + Retry-After. */
    INGEST_MAX_PENDING_POINTS: positiveInt().default(200_000),
  })
  .superRefine((env, ctx) => {
    if (env.CLICKHOUSE_MAX_EXECUTION_SECONDS * 1000 >= env.CLICKHOUSE_READ_TIMEOUT_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['CLICKHOUSE_MAX_EXECUTION_SECONDS'],
        message:
          'must be under CLICKHOUSE_READ_TIMEOUT_MS: a read the engine would stop must not time out in the client first',
      });
    }
  });

export type MetricsConfig = z.output<typeof metricsEnvSchema>;
