import { join } from 'node:path';
import { z } from 'zod';
import { positiveInt, serviceEnvSchema } from '@heimdall/shared';

const REPO_DIR = join(import.meta.dirname, '..', '..', '..');

export const metricsEnvSchema = serviceEnvSchema(8001).extend({
  /** A ClickHouse server over HTTP; unset, ClickHouse runs embedded (chdb) with its data in CLICKHOUSE_DATA_DIR. */
  CLICKHOUSE_URL: z.url().optional(),
  CLICKHOUSE_USER: z.string().min(1).optional(),
  CLICKHOUSE_PASSWORD: z.string().optional(),
  CLICKHOUSE_DATABASE: z.string().regex(/^\w+$/, 'a database name').optional(),
  CLICKHOUSE_DATA_DIR: z.string().min(1).default(join(REPO_DIR, '.stack', 'clickhouse')),
  /** Series one metricQuery may touch before it fails with LIMIT_EXCEEDED. */
  METRIC_QUERY_MAX_SERIES: positiveInt().default(10_000),
  /** Points per series one metricQuery may return. */
  METRIC_QUERY_MAX_POINTS: positiveInt().default(11_000),
  /** Longest range one metricQuery may ask for, in days. */
  METRIC_QUERY_MAX_RANGE_DAYS: positiveInt().default(180),
});

export type MetricsConfig = z.output<typeof metricsEnvSchema>;
