import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Caller } from '@heimdall/shared/auth';
import { loadConfig } from '@heimdall/shared/config';
import { ConsulClient } from '@heimdall/shared/discovery';
import type { Platform } from '@heimdall/shared/http';
import { makeCaller, serviceAuthHeaders, testServiceAuthEnv } from '@heimdall/testkit';
import type { LocalStack } from '@heimdall/stack';
import { alertsEnvSchema } from './config.js';
import { createServer } from './server.js';

/** One alerts instance on the local stack, listening on a free port, with its own store clients. */
export interface AlertsInstance {
  readonly platform: Platform;
  readonly pool: pg.Pool;
  /** A GraphQL call as the gateway forwards one, for `caller` (by default an admin). */
  graphql<T>(query: string, variables?: Record<string, unknown>, caller?: Caller): Promise<GraphQLAnswer<T>>;
  /** Its /metrics text (also once it has stopped). */
  metrics(): Promise<string>;
  /** Stops it as SIGTERM does (evaluations under way finish) and closes its clients. */
  stop(): Promise<void>;
}

export interface GraphQLAnswer<T> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

/** What instances of one test system share: a database, a BullMQ prefix and a Consul tag of their own. */
export interface AlertsSystem {
  readonly databaseUrl: string;
  readonly prefix: string;
  readonly tag: string;
}

export function alertsSystem(databaseUrl: string): AlertsSystem {
  const id = randomUUID().slice(0, 8);
  return { databaseUrl, prefix: `alerts-test-${id}`, tag: `alerts-test-${id}` };
}

export async function startAlerts(
  local: LocalStack,
  system: AlertsSystem,
  env: Record<string, string> = {},
): Promise<AlertsInstance> {
  const config = loadConfig(alertsEnvSchema, {
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    OTLP_TRACES_URL: 'off',
    CONSUL_URL: local.endpoints.consulUrl,
    CONSUL_CHECK_INTERVAL: '1s',
    CONSUL_CHECK_TIMEOUT: '1s',
    CONSUL_DEREGISTER_AFTER: '1m',
    SUBGRAPH_TAG: system.tag,
    DATABASE_URL: system.databaseUrl,
    REDIS_URL: local.endpoints.redisUrl,
    QUEUE_PREFIX: system.prefix,
    ...testServiceAuthEnv(),
    ...env,
  });
  const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 10 });
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3 });
  const platform = await createServer(config, { consul: new ConsulClient(config.CONSUL_URL), pool, redis });
  await platform.service.start({ host: '127.0.0.1', port: 0 });
  let stopped: Promise<void> | undefined;
  return {
    platform,
    pool,
    async graphql<T>(query: string, variables: Record<string, unknown> = {}, caller: Caller = makeCaller(['admin'])) {
      const headers = await serviceAuthHeaders(caller);
      const response = await platform.app.inject({
        method: 'POST',
        url: '/graphql',
        headers,
        payload: { query, variables },
      });
      return response.json<GraphQLAnswer<T>>();
    },
    metrics() {
      return platform.metrics.registry.metrics();
    },
    stop() {
      stopped ??= (async () => {
        await platform.service.stop();
        await pool.end();
        redis.disconnect();
      })();
      return stopped;
    },
  };
}

/** Removes a test system's keys from Redis (its BullMQ queues). */
export async function removeQueues(redisUrl: string, system: AlertsSystem): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${system.prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** The value of a counter in Prometheus text, 0 when it has not been counted yet. */
export function counterValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.every((pair) => line.includes(pair))) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
