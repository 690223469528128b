import { type ConsulClient, createPeer } from '@heimdall/shared/discovery';
import { createSubgraphPlatform, serveSubgraphSchema } from '@heimdall/shared/graphql';
import type { Platform } from '@heimdall/shared/http';
import { registerOtlpRoute } from '@heimdall/shared/otlp';
import { createResiliencePolicy } from '@heimdall/shared/resilience';
import { type TracesConfig, searchDeadline, spanLimits } from './config.js';
import { TraceIngest } from './ingest.js';
import { RedMetricsForwarder } from './red-forwarder.js';
import { type TracesContext, buildSchema } from './schema.js';
import { JaegerStore } from './store.js';
import { DEFAULT_SEARCH_LIMITS } from './trace-search.js';

export const SERVICE_NAME = 'traces';
export const VERSION = '0.1.0';

export interface TracesDeps {
  readonly consul: ConsulClient;
}

/**
 * The traces subgraph: OTLP traces forwarded to Jaeger (`POST /v1/traces`), RED metrics derived from them and sent
 * to the metrics subgraph, and the trace queries read from Jaeger's query API. Not started: call `service.start()`
 * (main.ts or a test).
 */
export async function createServer(config: TracesConfig, deps: TracesDeps): Promise<Platform> {
  const platform = createSubgraphPlatform({ name: SERVICE_NAME, version: VERSION, env: config, consul: deps.consul });
  const breaker = { halfOpenAfterMs: config.JAEGER_BREAKER_HALF_OPEN_MS };
  const store = new JaegerStore({
    queryUrl: config.JAEGER_QUERY_URL,
    otlpUrl: config.JAEGER_OTLP_URL,
    readPolicy: createResiliencePolicy(
      'jaeger',
      { timeoutMs: config.JAEGER_READ_TIMEOUT_MS, breaker },
      platform.resilienceMetrics,
    ),
    searchPolicy: createResiliencePolicy(
      'jaeger_search',
      { timeoutMs: config.JAEGER_READ_TIMEOUT_MS, breaker },
      platform.resilienceMetrics,
    ),
    searchDeadline: searchDeadline(config),
    dependenciesPolicy: createResiliencePolicy(
      'jaeger_dependencies',
      { timeoutMs: config.JAEGER_DEPENDENCIES_TIMEOUT_MS, breaker },
      platform.resilienceMetrics,
    ),
    writePolicy: createResiliencePolicy(
      'jaeger_otlp',
      {
        timeoutMs: config.JAEGER_WRITE_TIMEOUT_MS,
        breaker,
        bulkhead: { limit: config.JAEGER_WRITE_CONCURRENCY, queue: config.JAEGER_WRITE_QUEUE },
      },
      platform.resilienceMetrics,
    ),
  });
  platform.readiness.add({ name: 'jaeger', check: async () => void (await store.services()) });

  // On the traces subgraph's own behalf: a Heimdall service may push RED metrics and read them back.
  const metricsPeer = createPeer(platform, deps.consul, 'metrics', {
    tag: config.SUBGRAPH_TAG,
    resilience: { timeoutMs: config.METRICS_PEER_TIMEOUT_MS },
  });
  const forwarder = new RedMetricsForwarder(
    async (body) => {
      const response = await metricsPeer.post(
        '/v1/metrics',
        body,
        { 'content-type': 'application/x-protobuf' },
        { idempotent: true },
      );
      await response.body?.cancel();
    },
    { maxPendingPoints: config.RED_BUFFER_MAX_POINTS, observer: redObserver(platform) },
  );
  // What waits is sent (or counted as dropped) before the process exits.
  platform.app.addHook('onClose', () => forwarder.close());
  const ingest = new TraceIngest(store, forwarder, Date.now, spanLimits(config));
  await registerOtlpRoute(platform.app, {
    signal: 'traces',
    // A protobuf body (gzipped or not) whose spans are all valid goes to Jaeger as the client sent it.
    handle: (request, { encoding, request: http }) =>
      ingest.handle(
        request,
        encoding === 'protobuf' && Buffer.isBuffer(http.body)
          ? { body: http.body, gzip: /gzip/i.test(http.headers['content-encoding'] ?? '') }
          : undefined,
      ),
  });

  const context: TracesContext = {
    store,
    metrics: metricsPeer,
    limits: { ...DEFAULT_SEARCH_LIMITS, maxRangeMs: config.TRACE_QUERY_MAX_RANGE_DAYS * 86_400_000 },
    maxValueBytes: config.SPAN_ATTRIBUTE_VALUE_MAX_BYTES,
  };
  await serveSubgraphSchema(platform, buildSchema(), context);
  return platform;
}

/** The forwarder's backlog on `/metrics`, so that RED points lost to a metrics outage are seen, not guessed. */
function redObserver(platform: Platform) {
  const pending = platform.metrics.gauge(
    'heimdall_red_points_pending',
    'RED metric points waiting to be sent to the metrics subgraph',
  );
  const sent = platform.metrics.counter(
    'heimdall_red_points_sent_total',
    'RED metric points sent to the metrics subgraph',
  );
  const dropped = platform.metrics.counter(
    'heimdall_red_points_dropped_total',
    'RED metric points never sent: buffer_full, refused or shutdown',
    ['reason'],
  );
  const failures = platform.metrics.counter(
    'heimdall_red_send_failures_total',
    'Failed sends of RED metrics to the metrics subgraph',
  );
  for (const reason of ['buffer_full', 'refused', 'shutdown'] as const) dropped.inc({ reason }, 0);
  return {
    pending: (points: number) => pending.set(points),
    sent: (points: number) => sent.inc(points),
    dropped: (points: number, reason: 'buffer_full' | 'refused' | 'shutdown') => dropped.inc({ reason }, points),
    sendFailed: (error: unknown) => {
      failures.inc();
      platform.logger.debug({ err: error }, 'RED metrics not sent; will retry');
    },
  };
}
