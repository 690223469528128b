import { z } from 'zod';
import { positiveInt, serviceEnvSchema } from '@heimdall/shared';

export const alertsEnvSchema = serviceEnvSchema(8004).extend({
  DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/heimdall'),
  REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
  /** Milliseconds PostgreSQL lets one statement of this service run before cancelling it. */
  PG_STATEMENT_TIMEOUT_MS: positiveInt().default(3000),
  /**
   * Prefix of the BullMQ keys in Redis (evaluation schedules, the `alert-state-changes` queue). Instances with the
   * same prefix share the work; the notification pipeline reads the state changes under it.
   */
  QUEUE_PREFIX: z.string().regex(/^[\w.-]+$/, 'letters, digits, ".", "-" or "_"').default('heimdall'),
  /** Rule evaluations one instance runs at a time. */
  EVALUATION_CONCURRENCY: positiveInt().default(16),
  /**
   * How often each instance compares the evaluation schedules in Redis with the enabled rules in PostgreSQL (the
   * source of truth) and repairs the difference, in ms; also done at start.
   */
  SCHEDULE_RECONCILE_INTERVAL_MS: positiveInt().default(300_000),
  /** How often state changes not yet on the queue (a publish that failed) are published again, in ms. */
  STATE_CHANGE_RETRY_INTERVAL_MS: positiveInt().default(5_000),
});

export type AlertsConfig = z.output<typeof alertsEnvSchema>;
