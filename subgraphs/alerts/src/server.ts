import type { Redis } from 'ioredis';
import type pg from 'pg';
import { type ConsulClient, type Platform, createSubgraphPlatform, createResiliencePolicy, serveSubgraphSchema } from '@heimdall/shared';
import type { AlertsConfig } from './config.js';
import { type AlertsContext, buildSchema } from './schema.js';
import { PostgresStore, RulesStore, migrate } from './store/index.js';

export const SERVICE_NAME = 'alerts';
export const VERSION = '0.1.0';

export interface AlertsDeps {
  readonly consul: ConsulClient;
  readonly pool: pg.Pool;
  readonly redis: Redis;
}

/** The alerts subgraph over PostgreSQL (rules) and Redis (the notification queue). Not started yet. */
export async function createServer(config: AlertsConfig, deps: AlertsDeps): Promise<Platform> {
  const platform = createSubgraphPlatform({ name: SERVICE_NAME, version: VERSION, env: config, consul: deps.consul });
  const applied = await migrate(deps.pool);
  if (applied.length > 0) platform.logger.info({ event: 'migrated', applied }, `applied ${applied.join(', ')}`);
  const postgres = new PostgresStore(deps.pool, createResiliencePolicy('postgres', undefined, platform.resilienceMetrics), {
    statementTimeoutMs: config.PG_STATEMENT_TIMEOUT_MS,
  });
  platform.readiness.add({ name: 'postgres', check: (signal) => postgres.ping(signal) });
  platform.readiness.add({
    name: 'redis',
    check: async () => {
      if ((await deps.redis.ping()) !== 'PONG') throw new Error('no PONG');
    },
  });
  const context: AlertsContext = { rules: new RulesStore(postgres) };
  await serveSubgraphSchema(platform, buildSchema(), context);
  return platform;
}
