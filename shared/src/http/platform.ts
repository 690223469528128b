import type { FastifyInstance } from 'fastify';
import { ServiceTokens } from '../auth/service-token.js';
import type { ConsulClient } from '../discovery/consul-client.js';
import { type Logger, createLogger } from '../telemetry/logger.js';
import { ServiceMetrics } from '../telemetry/service-metrics.js';
import { ResilienceMetrics } from '../resilience/policy.js';
import { Readiness, RunningService, type ServiceIdentity, createHttpService, makeInstanceId } from './http-service.js';
import type { ServiceEnv } from '../config/service-env.js';
import { type Telemetry, createTelemetry } from '../telemetry/tracing.js';

export interface PlatformOptions {
  readonly name: string;
  readonly version: string;
  readonly env: ServiceEnv;
  readonly consul: ConsulClient;
  /** Consul tags; subgraphs carry `graphql-subgraph` so the gateway finds them. */
  readonly tags: readonly string[];
  readonly meta?: Readonly<Record<string, string>>;
  readonly bodyLimitBytes?: number;
}

/** Everything a service is built on: identity, logs, metrics, traces, the HTTP app, Consul registration. */
export interface Platform {
  readonly identity: ServiceIdentity;
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  readonly resilienceMetrics: ResilienceMetrics;
  readonly telemetry: Telemetry;
  readonly app: FastifyInstance;
  readonly readiness: Readiness;
  readonly service: RunningService;
  /**
   * Internal tokens (`X-Service-Auth`) for calls to other Heimdall services, signed with SERVICE_AUTH_SECRET:
   * `serviceTokens.headers()` for a call on this service's own behalf (PeerClient's `headers` option).
   */
  readonly serviceTokens: ServiceTokens;
}

export function createPlatform(options: PlatformOptions): Platform {
  const { env } = options;
  const identity: ServiceIdentity = {
    name: options.name,
    version: options.version,
    instanceId: makeInstanceId(options.name, env.SERVICE_INSTANCE_ID),
  };
  const logger = createLogger({ service: identity.name, instanceId: identity.instanceId, level: env.LOG_LEVEL });
  const metrics = new ServiceMetrics({ service: identity.name, instance: identity.instanceId });
  const resilienceMetrics = new ResilienceMetrics(metrics.registry);
  const telemetry = createTelemetry({
    serviceName: identity.name,
    serviceVersion: identity.version,
    instanceId: identity.instanceId,
    otlpTracesUrl: env.OTLP_TRACES_URL === 'off' ? undefined : env.OTLP_TRACES_URL,
  });
  const readiness = new Readiness();
  const app = createHttpService(
    { logger, metrics, telemetry },
    readiness,
    options.bodyLimitBytes === undefined ? {} : { bodyLimitBytes: options.bodyLimitBytes },
  );
  // Declared up front so every request object has the same shape; the auth hooks fill it in.
  app.decorateRequest('caller', undefined);
  const serviceTokens = new ServiceTokens({ service: identity.name, secrets: env.SERVICE_AUTH_SECRET });
  const service = new RunningService(
    app,
    readiness,
    {
      consul: options.consul,
      identity,
      advertiseAddress: env.ADVERTISE_ADDRESS ?? env.HOST,
      tags: options.tags,
      meta: options.meta ?? {},
      check: {
        interval: env.CONSUL_CHECK_INTERVAL,
        timeout: env.CONSUL_CHECK_TIMEOUT,
        deregisterCriticalAfter: env.CONSUL_DEREGISTER_AFTER,
      },
    },
    logger,
    () => telemetry.shutdown(),
  );
  return { identity, logger, metrics, resilienceMetrics, telemetry, app, readiness, service, serviceTokens };
}

/**
 * What every main.ts does after building its service: signal handlers first (so a SIGTERM that arrives while
 * registering still deregisters), then listen and register; on SIGTERM/SIGINT deregister, stop serving, close
 * the store clients main.ts built, exit.
 */
export async function runUntilSignalled(
  service: RunningService,
  listen: { host: string; port: number },
  logger: Logger,
  closeClients: () => Promise<void>,
): Promise<void> {
  const stop = (signal: NodeJS.Signals) => {
    logger.info({ event: 'signal', signal }, `${signal}: stopping`);
    service
      .stop()
      .then(closeClients)
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'stopping failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await service.start(listen);
  } catch (error) {
    logger.fatal({ err: error }, 'could not start');
    await service.stop().catch(() => undefined);
    await closeClients().catch(() => undefined);
    process.exit(1);
  }
}
