import { z } from 'zod';
import { positiveInt, serviceEnvSchema } from '@heimdall/shared/config';
import { DEFAULT_SPAN_LIMITS, type SpanLimits } from './span-validation.js';

export const tracesEnvSchema = serviceEnvSchema(8003)
  .extend({
    /** Jaeger's query API (traces are read there). */
    JAEGER_QUERY_URL: z.url().default('http://127.0.0.1:16686'),
    /** Jaeger's OTLP/HTTP traces receiver: accepted spans are forwarded there, and a push is answered once it answered. */
    JAEGER_OTLP_URL: z.url().default('http://127.0.0.1:14318/v1/traces'),
    /** How long one forward to Jaeger may take before the push is answered 503 + Retry-After. */
    JAEGER_WRITE_TIMEOUT_MS: positiveInt().default(5000),
    /** Forwards to Jaeger running at once; beyond them `JAEGER_WRITE_QUEUE` wait, and more are answered 503 at once. */
    JAEGER_WRITE_CONCURRENCY: positiveInt().default(16),
    JAEGER_WRITE_QUEUE: positiveInt().default(256),
    /**
     * How long one read of Jaeger's query API (a trace, services, operations, a search) may take before it is
     * UNAVAILABLE; Jaeger's service map has its own JAEGER_DEPENDENCIES_TIMEOUT_MS. At most the gateway's SUBGRAPH_TIMEOUT_MS (3 s) is useful.
     */
    JAEGER_READ_TIMEOUT_MS: positiveInt().default(3000),
    /**
     * How long a search (`traces`, the computed service map) may run in Jaeger before it is the caller's
     * LIMIT_EXCEEDED (narrow the range, name a service): then Jaeger is asked for its services, and only when that
     * fails too within the rest of JAEGER_READ_TIMEOUT_MS (at most 500 ms) is the search Jaeger's failure, counted by
     * the `jaeger_search` breaker. Under JAEGER_READ_TIMEOUT_MS; unset, two thirds of it (2000 of 3000).
     */
    JAEGER_SEARCH_DEADLINE_MS: positiveInt().optional(),
    /** Jaeger's own service map is worth waiting for only briefly: without it the map is computed from traces. */
    JAEGER_DEPENDENCIES_TIMEOUT_MS: positiveInt().default(1500),
    /** How long an open circuit to Jaeger (reads or writes) waits before a trial call (SPEC §7: 30 s). */
    JAEGER_BREAKER_HALF_OPEN_MS: positiveInt().default(30_000),
    /**
     * RED metric points waiting for the metrics subgraph (while it is down or slow). Beyond, the oldest are dropped
     * and counted (`heimdall_red_points_dropped_total`); a trace push never waits for them. About 300 bytes a point.
     */
    RED_BUFFER_MAX_POINTS: positiveInt().default(100_000),
    /** A RED push to the metrics subgraph: its ingest groups its writes, so longer than a store call before it is unavailable. */
    METRICS_PEER_TIMEOUT_MS: positiveInt().default(10_000),
    /**
     * Span limits (span-validation.ts), as OpenTelemetry SDKs have them; over them values are cut and items dropped,
     * counted in `heimdall.truncated`. Sizes are UTF-8 bytes, capped so that badger's index keys (service + tag key +
     * tag value) stay under its 65,000-byte limit.
     */
    SPAN_ATTRIBUTE_VALUE_MAX_BYTES: positiveInt().max(30_000).default(DEFAULT_SPAN_LIMITS.valueBytes),
    SPAN_ATTRIBUTE_KEY_MAX_BYTES: positiveInt().max(4096).default(DEFAULT_SPAN_LIMITS.keyBytes),
    /** Span and event names: with the service, badger's operation key. */
    SPAN_NAME_MAX_BYTES: positiveInt().max(30_000).default(DEFAULT_SPAN_LIMITS.nameBytes),
    /** Attributes of a span, event, link, scope or resource. */
    SPAN_ATTRIBUTES_MAX: positiveInt().default(DEFAULT_SPAN_LIMITS.attributes),
    SPAN_EVENTS_MAX: positiveInt().default(DEFAULT_SPAN_LIMITS.events),
    SPAN_LINKS_MAX: positiveInt().default(DEFAULT_SPAN_LIMITS.links),
    /** Longest range `traces` and `dependencies` may ask for, in days (the stack's Jaeger keeps spans 7 days). */
    TRACE_QUERY_MAX_RANGE_DAYS: positiveInt().default(7),
  })
  .superRefine((env, ctx) => {
    if (env.JAEGER_SEARCH_DEADLINE_MS !== undefined && env.JAEGER_SEARCH_DEADLINE_MS >= env.JAEGER_READ_TIMEOUT_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['JAEGER_SEARCH_DEADLINE_MS'],
        message:
          'must be under JAEGER_READ_TIMEOUT_MS: a search past its deadline must leave time to ask whether Jaeger answers at all',
      });
    }
  });

export type TracesConfig = z.output<typeof tracesEnvSchema>;

/** How long a search may run in Jaeger, and how long the look-up that tells whether Jaeger answers at all may take. */
export function searchDeadline(config: TracesConfig): { ms: number; probeTimeoutMs: number } {
  const ms = config.JAEGER_SEARCH_DEADLINE_MS ?? Math.round((config.JAEGER_READ_TIMEOUT_MS * 2) / 3);
  // Half the time the search leaves, so the look-up ends before the policy's own timeout.
  return {
    ms,
    probeTimeoutMs: Math.max(1, Math.min(MAX_PROBE_TIMEOUT_MS, Math.floor((config.JAEGER_READ_TIMEOUT_MS - ms) / 2))),
  };
}

/** Jaeger lists its services from memory: one that takes longer than this to do so is not answering. */
const MAX_PROBE_TIMEOUT_MS = 500;

export function spanLimits(config: TracesConfig): SpanLimits {
  return {
    valueBytes: config.SPAN_ATTRIBUTE_VALUE_MAX_BYTES,
    keyBytes: config.SPAN_ATTRIBUTE_KEY_MAX_BYTES,
    nameBytes: config.SPAN_NAME_MAX_BYTES,
    attributes: config.SPAN_ATTRIBUTES_MAX,
    events: config.SPAN_EVENTS_MAX,
    links: config.SPAN_LINKS_MAX,
  };
}
