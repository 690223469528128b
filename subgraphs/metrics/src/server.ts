import type { ClickHouseClient } from '@clickhouse/client';
import type { ConsulClient } from '@heimdall/shared/discovery';
import { createSubgraphPlatform, serveSubgraphSchema } from '@heimdall/shared/graphql';
import type { Platform } from '@heimdall/shared/http';
import { registerOtlpRoute } from '@heimdall/shared/otlp';
import { type ResilienceMetrics, type ResiliencePolicy, createResiliencePolicy } from '@heimdall/shared/resilience';
import type { MetricsConfig } from './config.js';
import { MetricsWriter } from './ingest.js';
import { type MetricsContext, buildSchema } from './schema.js';
import { ClickHouseStore, MetricsStore, migrate } from './store/index.js';

export const SERVICE_NAME = 'metrics';
export const VERSION = '0.1.0';

export interface MetricsDeps {
  readonly consul: ConsulClient;
  readonly clickhouse: ClickHouseClient;
}

/**
 * The store over ClickHouse with a resilience policy per path, `clickhouse_ingest` and `clickhouse_read` (timeout,
 * bulkhead, breaker each): a query that times out cannot open the breaker pushes go through, nor a failing push
 * the one queries go through. Ingest's look-up of stored samples has no engine-side limit, so that it ends as a
 * 503 the agent retries, never as a refusal that would drop its data.
 */
export function createMetricsStore(
  clickhouse: ClickHouseClient,
  config: MetricsConfig,
  metrics: ResilienceMetrics,
): { store: MetricsStore; policies: { ingest: ResiliencePolicy; read: ResiliencePolicy } } {
  const policies = {
    ingest: createResiliencePolicy('clickhouse_ingest', { timeoutMs: config.CLICKHOUSE_INGEST_TIMEOUT_MS }, metrics),
    read: createResiliencePolicy('clickhouse_read', { timeoutMs: config.CLICKHOUSE_READ_TIMEOUT_MS }, metrics),
  };
  const paths = {
    ingest: new ClickHouseStore(clickhouse, policies.ingest, {
      maxExecutionSeconds: 0,
      maxRowsToRead: 0,
      maxBytesToRead: 0,
    }),
    read: new ClickHouseStore(clickhouse, policies.read, {
      maxExecutionSeconds: config.CLICKHOUSE_MAX_EXECUTION_SECONDS,
      maxRowsToRead: config.CLICKHOUSE_MAX_ROWS_TO_READ,
      maxBytesToRead: config.CLICKHOUSE_MAX_BYTES_TO_READ,
    }),
  };
  return { store: new MetricsStore(paths, config.METRIC_SAMPLES_MAX_ROWS_TO_READ), policies };
}

/** The metrics subgraph over ClickHouse; migrates the schema first. Not started: call `service.start()`. */
export async function createServer(config: MetricsConfig, deps: MetricsDeps): Promise<Platform> {
  const platform = createSubgraphPlatform({ name: SERVICE_NAME, version: VERSION, env: config, consul: deps.consul });
  const applied = await migrate(deps.clickhouse);
  if (applied.length > 0) platform.logger.info({ event: 'migrated', applied }, `applied ${applied.join(', ')}`);
  const { store } = createMetricsStore(deps.clickhouse, config, platform.resilienceMetrics);
  platform.readiness.add({ name: 'clickhouse', check: (signal) => store.ping(signal) });
  const context: MetricsContext = {
    store,
    limits: {
      maxSeries: config.METRIC_QUERY_MAX_SERIES,
      maxPoints: config.METRIC_QUERY_MAX_POINTS,
      maxRangeMs: config.METRIC_QUERY_MAX_RANGE_DAYS * 86_400_000,
    },
  };
  const writer = new MetricsWriter(store, { maxPendingSize: config.INGEST_MAX_PENDING_POINTS });
  // Pending batches are written before the store client closes (main.ts closes it after stop()).
  platform.app.addHook('onClose', () => writer.close());
  await registerOtlpRoute(platform.app, { signal: 'metrics', handle: (request) => writer.ingest(request) });
  await serveSubgraphSchema(platform, buildSchema(), context);
  return platform;
}
