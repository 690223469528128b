import type { Client } from '@elastic/elasticsearch';
import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsulClient } from '@heimdall/shared/discovery';
import { HeimdallError, heimdallError } from '@heimdall/shared/errors';
import { createSubgraphPlatform, serveSubgraphSchema } from '@heimdall/shared/graphql';
import type { Platform } from '@heimdall/shared/http';
import { registerOtlpRoute } from '@heimdall/shared/otlp';
import { createResiliencePolicy } from '@heimdall/shared/resilience';
import { registerLogApiRoute } from './api-route.js';
import type { LogsConfig } from './config.js';
import { registerIngestMetrics } from './ingest-metrics.js';
import { DEFAULT_QUERY_LIMITS } from './log-queries.js';
import { OtlpLogWriter } from './otlp-ingest.js';
import { QueueIndexer } from './queue/indexer.js';
import { LogQueue } from './queue/log-queue.js';
import { type LogsContext, buildSchema } from './schema.js';
import {
  ILM_POLICY,
  LogReader,
  LogRetention,
  LogWriter,
  type RetentionMode,
  WRITE_ALIAS,
  migrate,
  scheduleRetention,
} from './store/index.js';
import { TraceLogsLoader } from './trace-logs.js';

export const SERVICE_NAME = 'logs';
export const VERSION = '0.1.0';

export interface LogsDeps {
  readonly consul: ConsulClient;
  readonly elasticsearch: Client;
  /** The API queue's Redis; the indexer opens a connection of its own from it (its reads block). */
  readonly redis: Redis;
}

/**
 * The logs subgraph over Elasticsearch and Redis. Applies the index settings and migrations first; the API queue's
 * indexer and, without ILM, the retention schedule start when the service starts listening. Not started: call
 * `service.start()`.
 */
export async function createServer(config: LogsConfig, deps: LogsDeps): Promise<Platform> {
  const platform = createSubgraphPlatform({ name: SERVICE_NAME, version: VERSION, env: config, consul: deps.consul });
  const { logger } = platform;
  const es = deps.elasticsearch;
  const policies = {
    read: createResiliencePolicy('elasticsearch', undefined, platform.resilienceMetrics),
    // Writes under a policy of their own (ELASTICSEARCH_BULK_*): a slow bulk neither waits for nor trips the reads' breaker.
    write: createResiliencePolicy(
      'elasticsearch_bulk',
      {
        timeoutMs: config.ELASTICSEARCH_BULK_TIMEOUT_MS,
        bulkhead: { limit: config.ELASTICSEARCH_BULK_CONCURRENCY, queue: config.ELASTICSEARCH_BULK_QUEUE },
      },
      platform.resilienceMetrics,
    ),
  };

  const retention = new LogRetention(es, policies.write, {
    shards: config.LOGS_INDEX_SHARDS,
    replicas: config.LOGS_INDEX_REPLICAS,
    retentionDays: config.LOGS_RETENTION_DAYS,
    maxAge: config.LOGS_ROLLOVER_MAX_AGE,
    maxPrimaryShardSize: config.LOGS_ROLLOVER_MAX_PRIMARY_SHARD_SIZE,
  });
  const rollover = `rollover at ${config.LOGS_ROLLOVER_MAX_AGE} or ${config.LOGS_ROLLOVER_MAX_PRIMARY_SHARD_SIZE} per primary shard`;
  const setUp = async (): Promise<RetentionMode> => {
    const mode = await retention.detectMode();
    await retention.install(mode);
    const applied = await migrate(es, policies.write);
    if (applied.length > 0) logger.info({ event: 'migrated', applied }, `applied ${applied.join(', ')}`);
    logger.info(
      { event: 'retention', mode, retentionDays: config.LOGS_RETENTION_DAYS, alias: WRITE_ALIAS },
      mode === 'ilm'
        ? `retention by the ILM policy ${ILM_POLICY}: ${rollover}, deletion after ${config.LOGS_RETENTION_DAYS} days`
        : `retention by Heimdall (the cluster has no ILM): every ${config.LOGS_RETENTION_INTERVAL_SECONDS} s, ${rollover}, deletion of indices whose newest entry is older than ${config.LOGS_RETENTION_DAYS} days`,
    );
    return mode;
  };
  // Elasticsearch down at start must not keep the API queue from accepting entries: the set-up is tried again in
  // the background, and OTLP ingest, the indexer and the retention schedule wait for it. A set-up that fails for
  // another reason (a migration the cluster refuses) stops the start.
  const closing = new AbortController();
  const setup = await firstOrBackground(setUp, config.LOGS_SETUP_RETRY_MS, closing.signal, (error) =>
    logger.warn(
      { err: error },
      'Elasticsearch is unavailable: index set-up and migrations wait for it; POST /api/v1/logs still accepts entries',
    ),
  );

  const reader = new LogReader(es, policies.read, { slowReadMs: config.LOGS_QUERY_DEADLINE_MS });
  const logWriter = new LogWriter(es, policies.write);
  const redisPolicies = {
    ingest: createResiliencePolicy('redis_ingest', undefined, platform.resilienceMetrics),
    read: createResiliencePolicy('redis', undefined, platform.resilienceMetrics),
  };
  const queue = new LogQueue(deps.redis, redisPolicies, config.LOGS_QUEUE_STREAM, {
    maxEntries: config.LOGS_QUEUE_MAX_ENTRIES,
  });
  const metrics = registerIngestMetrics(platform.metrics, queue, logger);
  const bulkCreate = logWriter.bulkCreate.bind(logWriter);
  const writer = new OtlpLogWriter(bulkCreate, metrics, { maxPendingBytes: config.LOGS_INGEST_MAX_PENDING_BYTES });
  const indexerRedis = deps.redis.duplicate();
  const indexer = new QueueIndexer(
    { redis: indexerRedis, keys: queue.keys, bulkCreate, metrics, logger },
    { consumer: platform.identity.instanceId, claimIdleMs: config.LOGS_QUEUE_CLAIM_IDLE_MS },
  );

  let stopRetention: (() => Promise<void>) | undefined;
  platform.app.addHook('onReady', () => {
    void setup.ready.then(
      async (mode) => {
        if (closing.signal.aborted) return;
        await indexer.start();
        if (mode === 'self-managed') {
          stopRetention = scheduleRetention(retention, config.LOGS_RETENTION_INTERVAL_SECONDS * 1000, {
            done: (run) => {
              if (run.rolledOverTo !== undefined || run.deleted.length > 0)
                logger.info({ event: 'retention', ...run }, 'log indices rolled over or deleted');
            },
            failed: (error) => logger.warn({ err: error }, 'log retention round failed; trying again at the next'),
          });
        }
      },
      (error: unknown) => logger.error({ err: error }, 'the log indexer did not start'),
    );
  });
  // Pending OTLP batches are written and the indexer's batch finished before the clients close (main.ts closes
  // them after stop()).
  platform.app.addHook('onClose', async () => {
    closing.abort();
    await writer.close();
    await indexer.stop();
    indexerRedis.disconnect();
    await stopRetention?.();
  });

  platform.readiness.add({
    name: 'elasticsearch',
    check: async (signal) => {
      await reader.ping(signal);
      if (!setup.done()) throw new Error('index set-up and migrations not applied yet');
    },
  });
  platform.readiness.add({ name: 'redis', check: () => queue.ping() });
  await registerOtlpRoute(platform.app, {
    signal: 'logs',
    handle: (request) => {
      if (!setup.done())
        throw heimdallError('UNAVAILABLE', {
          message: 'the logs store is not set up yet',
          retryAfterSeconds: Math.ceil(config.LOGS_SETUP_RETRY_MS / 1000),
          service: 'elasticsearch',
        });
      return writer.ingest(request);
    },
  });
  await registerLogApiRoute(platform.app, { enqueue: (documents) => queue.enqueue(documents), logger });
  const context: LogsContext = {
    store: reader,
    queue,
    traceLogs: new TraceLogsLoader((keys) => reader.traceLogs(keys)),
    limits: { ...DEFAULT_QUERY_LIMITS, maxRangeMs: config.LOGS_QUERY_MAX_RANGE_DAYS * 86_400_000 },
  };
  await serveSubgraphSchema(platform, buildSchema(), context);
  return platform;
}

/**
 * Runs `setUp` once now; when it fails because a dependency is unavailable, again every `retryMs` in the background
 * until it succeeds or `signal` aborts. Any other failure is thrown at once.
 */
async function firstOrBackground<T>(
  setUp: () => Promise<T>,
  retryMs: number,
  signal: AbortSignal,
  unavailable: (error: unknown) => void,
): Promise<{ ready: Promise<T>; done(): boolean }> {
  let done = false;
  const finish = (value: T) => {
    done = true;
    return value;
  };
  try {
    const value = finish(await setUp());
    return { ready: Promise.resolve(value), done: () => done };
  } catch (error) {
    if (!isUnavailable(error)) throw error;
    unavailable(error);
  }
  const retry = async (): Promise<T> => {
    for (;;) {
      await sleep(retryMs, undefined, { signal });
      try {
        return finish(await setUp());
      } catch (error) {
        if (!isUnavailable(error)) throw error;
      }
    }
  };
  const ready = retry();
  // A start that is closed before Elasticsearch came back leaves no unhandled rejection behind.
  ready.catch(() => undefined);
  return { ready, done: () => done };
}

function isUnavailable(error: unknown): boolean {
  return error instanceof HeimdallError && error.code === 'UNAVAILABLE';
}
