import { z } from 'zod';
import { positiveInt, serviceEnvSchema } from '@heimdall/shared';

export const alertsEnvSchema = serviceEnvSchema(8004).extend({
  DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/heimdall'),
  REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
  /** Milliseconds PostgreSQL lets one statement of this service run before cancelling it. */
  PG_STATEMENT_TIMEOUT_MS: positiveInt().default(3000),
});

export type AlertsConfig = z.output<typeof alertsEnvSchema>;
