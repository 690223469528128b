import { join } from 'node:path';
import { z } from 'zod';
import { serviceEnvSchema } from '@heimdall/shared';

const REPO_DIR = join(import.meta.dirname, '..', '..', '..');

export const metricsEnvSchema = serviceEnvSchema(8001).extend({
  /** A ClickHouse server over HTTP; unset, ClickHouse runs embedded (chdb) with its data in CLICKHOUSE_DATA_DIR. */
  CLICKHOUSE_URL: z.url().optional(),
  CLICKHOUSE_USER: z.string().min(1).optional(),
  CLICKHOUSE_PASSWORD: z.string().optional(),
  CLICKHOUSE_DATABASE: z.string().regex(/^\w+$/, 'a database name').optional(),
  CLICKHOUSE_DATA_DIR: z.string().min(1).default(join(REPO_DIR, '.stack', 'clickhouse')),
});

export type MetricsConfig = z.output<typeof metricsEnvSchema>;
