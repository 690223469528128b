import type { ClickHouseClient } from '@clickhouse/client';
import {
  type ConsulClient,
  type Platform,
  createSubgraphPlatform,
  createResiliencePolicy,
  serveSubgraphSchema,
  registerOtlpRoute,
} from '@heimdall/shared';
import { MetricsWriter } from './ingest.js';
import type { MetricsConfig } from './config.js';
import { migrate } from './migrations.js';
import { type MetricsContext, buildSchema } from './schema.js';

export const SERVICE_NAME = 'metrics';
export const VERSION = '0.1.0';

export interface MetricsDeps {
  readonly consul: ConsulClient;
  readonly clickhouse: ClickHouseClient;
}

/** The metrics subgraph over ClickHouse; migrates the schema first. Not started: call `service.start()`. */
export async function createServer(config: MetricsConfig, deps: MetricsDeps): Promise<Platform> {
  const platform = createSubgraphPlatform({ name: SERVICE_NAME, version: VERSION, env: config, consul: deps.consul });
  const applied = await migrate(deps.clickhouse);
  if (applied.length > 0) platform.logger.info({ event: 'migrated', applied }, `applied ${applied.join(', ')}`);
  const policy = createResiliencePolicy('clickhouse', undefined, platform.resilienceMetrics);
  platform.readiness.add({
    name: 'clickhouse',
    check: async (signal) => void (await deps.clickhouse.query({ query: 'SELECT 1', abort_signal: signal })).text(),
  });
  const context: MetricsContext = {
    clickhouse: deps.clickhouse,
    policy,
    limits: {
      maxSeries: config.METRIC_QUERY_MAX_SERIES,
      maxPoints: config.METRIC_QUERY_MAX_POINTS,
      maxRangeMs: config.METRIC_QUERY_MAX_RANGE_DAYS * 86_400_000,
    },
  };
  const writer = new MetricsWriter(deps.clickhouse, policy);
  // Pending batches are written before the store client closes (main.ts closes it after stop()).
  platform.app.addHook('onClose', () => writer.close());
  await registerOtlpRoute(platform.app, { signal: 'metrics', handle: (request) => writer.ingest(request) });
  await serveSubgraphSchema(platform, buildSchema(), context);
  return platform;
}
