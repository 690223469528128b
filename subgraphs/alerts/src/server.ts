import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { ConsulClient } from '@heimdall/shared/discovery';
import { createSubgraphPlatform, serveSubgraphSchema } from '@heimdall/shared/graphql';
import type { Platform } from '@heimdall/shared/http';
import { createResiliencePolicy } from '@heimdall/shared/resilience';
import type { AlertsConfig } from './config.js';
import { Evaluator, evaluationMetrics } from './evaluation/evaluator.js';
import { sampleLogLines, validateLogQuery } from './reads/logs-peer.js';
import { createPeers } from './reads/peers.js';
import { ConditionReader } from './reads/condition-reader.js';
import { RuleService } from './rules/rule-service.js';
import { EvaluationScheduler } from './evaluation/evaluation-scheduler.js';
import { retireInstances } from './evaluation/finished-evaluation.js';
import { type AlertsContext, buildSchema } from './schema.js';
import { StateChangePublisher } from './state-changes/state-change-publisher.js';
import { AlertsStore, PostgresStore, RulesStore, migrate } from './store/index.js';
import { ChannelStore } from './notifications/channel-store.js';
import { ServiceMap } from './notifications/incidents.js';
import { NotificationService } from './notifications/notification-service.js';
import { NotificationPipeline, notificationMetrics } from './notifications/pipeline.js';
import { DeliveryOutbox } from './notifications/delivery-outbox.js';
import { GroupStore } from './notifications/group-store.js';
import { IncidentStore } from './notifications/incident-store.js';
import { SecretBox } from './notifications/secret-box.js';
import { notificationSettings } from './notifications/settings.js';
import { SilenceStore } from './notifications/silences.js';

export const SERVICE_NAME = 'alerts';
export const VERSION = '0.1.0';

export interface AlertsDeps {
  readonly consul: ConsulClient;
  readonly pool: pg.Pool;
  /** For readiness; BullMQ opens its own connections to REDIS_URL (its workers block on theirs). */
  readonly redis: Redis;
}

/**
 * The alerts subgraph: rules in PostgreSQL, their evaluation on BullMQ schedules in Redis, metrics and logs read
 * through their subgraphs. Not started: `service.start()` listens, reconciles the schedules with the rules and
 * starts this instance's evaluation worker; `service.stop()` lets evaluations under way finish.
 */
export async function createServer(config: AlertsConfig, deps: AlertsDeps): Promise<Platform> {
  const platform = createSubgraphPlatform({ name: SERVICE_NAME, version: VERSION, env: config, consul: deps.consul });
  const { logger } = platform;
  // An idle connection PostgreSQL ends (a restart, a failover) is an 'error' on the pool; without a listener it
  // would end the process. The pool replaces the connection; calls meanwhile fail under the policy.
  deps.pool.on('error', (error: Error & { code?: string }) =>
    logger.warn(
      { code: error.code, reason: error.message },
      'PostgreSQL ended an idle connection; the pool replaces it',
    ),
  );
  const applied = await migrate(deps.pool);
  if (applied.length > 0) logger.info({ event: 'migrated', applied }, `applied ${applied.join(', ')}`);
  const postgres = new PostgresStore(
    deps.pool,
    createResiliencePolicy('postgres', undefined, platform.resilienceMetrics),
    {
      statementTimeoutMs: config.PG_STATEMENT_TIMEOUT_MS,
    },
  );
  platform.readiness.add({ name: 'postgres', check: (signal) => postgres.ping(signal) });
  platform.readiness.add({
    name: 'redis',
    check: async () => {
      if ((await deps.redis.ping()) !== 'PONG') throw new Error('no PONG');
    },
  });

  const rules = new RulesStore(postgres, retireInstances);
  const alerts = new AlertsStore(postgres);
  const metrics = evaluationMetrics(platform.metrics);
  const peers = createPeers(platform, deps.consul, {
    tag: config.SUBGRAPH_TAG,
    concurrency: config.EVALUATION_CONCURRENCY,
  });
  const reader = new ConditionReader({
    metrics: peers.metrics,
    logs: peers.logs,
    onFailure: ({ source, rule, condition, error }) => {
      metrics.readFailures.inc({ source });
      // The message says it all (the peer's catalog error); a stack per rule and interval would drown the log.
      const message = error instanceof Error ? error.message : String(error);
      logger.warn(
        { ruleId: rule, condition, source, error: message },
        `rule ${rule}: conditions[${condition}] could not be read from ${source}: ${message}`,
      );
    },
  });
  const connection = { url: config.REDIS_URL };
  const publisher = new StateChangePublisher({
    connection,
    prefix: config.QUEUE_PREFIX,
    store: alerts,
    retryIntervalMs: config.STATE_CHANGE_RETRY_INTERVAL_MS,
    logger,
    onPublished: (count) => metrics.published.inc(count),
    onFailure: () => metrics.publishFailures.inc(),
  });
  const evaluator = new Evaluator({
    rules,
    alerts,
    read: (rule, at) => reader.read(rule, at, rule.id),
    metrics,
    logger,
    onStateChanges: () => publisher.kick(),
  });
  const scheduler = new EvaluationScheduler({
    connection,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.EVALUATION_CONCURRENCY,
    logger,
    evaluate: (ruleId, at) => evaluator.evaluate(ruleId, at),
  });
  const ruleService = new RuleService({
    store: rules,
    scheduler,
    checkLogQuery: (query) => validateLogQuery(peers.logs, query),
    read: (rule, at) => reader.read(rule, at, 'preview'),
    logger,
  });

  const settings = notificationSettings(config);
  const channels = new ChannelStore(
    postgres,
    config.NOTIFICATION_SECRET_KEY === undefined ? undefined : new SecretBox(config.NOTIFICATION_SECRET_KEY),
  );
  const groups = new GroupStore(postgres);
  const outbox = new DeliveryOutbox(postgres);
  const serviceMap = new ServiceMap(peers.traces, {
    onFailure: (error) =>
      logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'the service map could not be read from traces; each alert is its own incident for now',
      ),
  });
  const pipeline = new NotificationPipeline({
    connection,
    prefix: config.QUEUE_PREFIX,
    groups,
    outbox,
    channels,
    serviceMap,
    settings,
    logger,
    metrics: notificationMetrics(platform.metrics),
    sampleLogs: (change) => sampleLogLines(peers.logs, change),
  });
  const notifications = new NotificationService({
    channels,
    pipeline,
    groups,
    outbox,
    incidents: new IncidentStore(postgres),
    silences: new SilenceStore(postgres),
    deliveryTimeoutMs: settings.deliveryTimeoutMs,
    linkUrl: settings.linkUrl,
  });

  platform.app.addHook('onReady', async () => {
    await scheduler.keepReconciled(() => rules.scheduled(), config.SCHEDULE_RECONCILE_INTERVAL_MS);
    scheduler.start();
    publisher.start();
    pipeline.start();
  });
  platform.app.addHook('onClose', async () => {
    await scheduler.close();
    await publisher.close();
    await pipeline.close();
  });
  const context: AlertsContext = { rules, alerts, ruleService, notifications };
  await serveSubgraphSchema(platform, buildSchema(), context);
  return platform;
}
