import { z } from 'zod';
import { positiveInt, serviceEnvSchema } from '@heimdall/shared';

export const tracesEnvSchema = serviceEnvSchema(8003).extend({
  /** Jaeger's query API (traces are read there). */
  JAEGER_QUERY_URL: z.url().default('http://127.0.0.1:16686'),
  /** Jaeger's OTLP/HTTP traces receiver: accepted spans are forwarded there, and a push is answered once it answered. */
  JAEGER_OTLP_URL: z.url().default('http://127.0.0.1:14318/v1/traces'),
  /** How long one forward to Jaeger may take before the push is answered 503 + Retry-After. */
  JAEGER_WRITE_TIMEOUT_MS: positiveInt().default(5000),
  /** Forwards to Jaeger running at once; beyond them `JAEGER_WRITE_QUEUE` wait, and more are answered 503 at once. */
  JAEGER_WRITE_CONCURRENCY: positiveInt().default(16),
  JAEGER_WRITE_QUEUE: positiveInt().default(256),
  /** How long an open circuit to Jaeger (reads or writes) waits before a trial call (SPEC §7: 30 s). */
  JAEGER_BREAKER_HALF_OPEN_MS: positiveInt().default(30_000),
  /**
   * RED metric points waiting for the metrics subgraph (while it is down or slow). Beyond, the oldest are dropped
   * and counted (`heimdall_red_points_dropped_total`); a trace push never waits for them. About 300 bytes a point.
   */
  RED_BUFFER_MAX_POINTS: positiveInt().default(100_000),
  /** Longest range `traces` and `dependencies` may ask for, in days (the stack's Jaeger keeps spans 7 days). */
  TRACE_QUERY_MAX_RANGE_DAYS: positiveInt().default(7),
});

export type TracesConfig = z.output<typeof tracesEnvSchema>;
