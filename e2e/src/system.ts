import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as Elasticsearch } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import pg from 'pg';
import { alertsEnvSchema, createServer as createAlerts } from '@heimdall/alerts';
import { type Gateway, createServer as createGateway, gatewayEnvSchema } from '@heimdall/gateway';
import { createServer as createLogs, logsEnvSchema, queueKeys } from '@heimdall/logs';
import { createClickHouseClient, createServer as createMetrics, metricsEnvSchema } from '@heimdall/metrics';
import { ConsulClient, type Platform, loadConfig } from '@heimdall/shared';
import type { LocalStack } from '@heimdall/stack';
import { createServer as createTraces, tracesEnvSchema } from '@heimdall/traces';

export type SubgraphName = 'metrics' | 'logs' | 'traces' | 'alerts';

/**
 * The whole federated system in this process, on the real servers of the local stack, under a Consul tag of
 * its own so that it never mixes with another running system.
 */
export class System {
  readonly tag = `e2e-${randomUUID().slice(0, 8)}`;
  readonly logsQueue = `heimdall:logs:${this.tag}`;
  readonly consul: ConsulClient;
  readonly clickhouse;
  readonly elasticsearch: Elasticsearch;
  readonly pool: pg.Pool;
  readonly redis: Redis;
  readonly subgraphs = new Map<SubgraphName, Platform>();
  gateway: Gateway | undefined;
  /** The gateway's OTLP/HTTP endpoint, once started. */
  otlpUrl: string | undefined;

  private constructor(
    readonly local: LocalStack,
    private readonly clickhouseTarget: { url: string | undefined; dataDir: string },
  ) {
    this.consul = new ConsulClient(local.endpoints.consulUrl);
    this.clickhouse = createClickHouseClient(clickhouseTarget);
    this.elasticsearch = new Elasticsearch({ node: local.endpoints.elasticsearchUrl });
    this.pool = new pg.Pool({ connectionString: local.endpoints.postgresUrl, max: 4 });
    this.redis = new Redis(local.endpoints.redisUrl);
  }

  /** `clickhouseUrl`: a ClickHouse server (CLICKHOUSE_URL); otherwise an embedded one in a fresh folder. */
  static async create(local: LocalStack, clickhouseUrl: string | undefined): Promise<System> {
    return new System(local, { url: clickhouseUrl, dataDir: await mkdtemp(join(tmpdir(), 'heimdall-e2e-ch-')) });
  }

  /** What every service of this system reads: ephemeral ports, fast Consul checks, traces to the local Jaeger. */
  env(): Record<string, string> {
    return {
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      SUBGRAPH_TAG: this.tag,
      CONSUL_URL: this.local.endpoints.consulUrl,
      CONSUL_CHECK_INTERVAL: '1s',
      CONSUL_CHECK_TIMEOUT: '1s',
      CONSUL_DEREGISTER_AFTER: '1m',
      OTLP_TRACES_URL: `${this.local.endpoints.jaegerOtlpHttpUrl}/v1/traces`,
      JAEGER_QUERY_URL: this.local.endpoints.jaegerQueryUrl,
      ELASTICSEARCH_URL: this.local.endpoints.elasticsearchUrl,
      DATABASE_URL: this.local.endpoints.postgresUrl,
      REDIS_URL: this.local.endpoints.redisUrl,
      // The log API's queue of this system alone: another system's (or the local service's) indexer never takes it.
      LOGS_QUEUE_STREAM: this.logsQueue,
    };
  }

  async startSubgraph(name: SubgraphName): Promise<Platform> {
    const env = this.env();
    let platform: Platform;
    switch (name) {
      case 'metrics':
        platform = await createMetrics(loadConfig(metricsEnvSchema, env), {
          consul: this.consul,
          clickhouse: this.clickhouse,
        });
        break;
      case 'logs':
        platform = await createLogs(loadConfig(logsEnvSchema, env), {
          consul: this.consul,
          elasticsearch: this.elasticsearch,
          redis: this.redis,
        });
        break;
      case 'traces':
        platform = await createTraces(loadConfig(tracesEnvSchema, env), { consul: this.consul });
        break;
      case 'alerts':
        platform = await createAlerts(loadConfig(alertsEnvSchema, env), { consul: this.consul, pool: this.pool, redis: this.redis });
        break;
    }
    await platform.service.start({ host: '127.0.0.1', port: 0 });
    this.subgraphs.set(name, platform);
    return platform;
  }

  async startGateway(overrides: Record<string, string> = {}): Promise<Gateway> {
    const gateway = await createGateway(loadConfig(gatewayEnvSchema, { ...this.env(), ...overrides }), { consul: this.consul });
    await gateway.service.start({ host: '127.0.0.1', port: 0 });
    this.otlpUrl = `http://127.0.0.1:${await gateway.otlp.listen('127.0.0.1', 0)}`;
    this.gateway = gateway;
    return gateway;
  }

  /** Stops a subgraph as a crash would: its port closes and it never deregisters. */
  async crash(name: SubgraphName): Promise<void> {
    const platform = this.subgraphs.get(name);
    if (platform === undefined) return;
    this.subgraphs.delete(name);
    platform.app.server.closeAllConnections();
    await platform.app.close();
  }

  async query<T>(query: string, headers: Record<string, string> = {}): Promise<{ data?: T; errors?: GraphQLErrorBody[] }> {
    if (this.gateway === undefined) throw new Error('the gateway is not started');
    const response = await fetch(`${this.gateway.service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
    });
    return (await response.json()) as { data?: T; errors?: GraphQLErrorBody[] };
  }

  private stopped: Promise<void> | undefined;

  /** Stops every service (flushing their traces) and closes the store clients; once. */
  stop(): Promise<void> {
    this.stopped ??= this.stopAll();
    return this.stopped;
  }

  private async stopAll(): Promise<void> {
    await this.gateway?.service.stop();
    for (const platform of this.subgraphs.values()) await platform.service.stop();
    this.subgraphs.clear();
    await this.clickhouse.close();
    await this.elasticsearch.close();
    await this.pool.end();
    const logsQueue = queueKeys(this.logsQueue);
    await this.redis.del(logsQueue.stream, logsQueue.dead, logsQueue.backlog);
    this.redis.disconnect();
    await rm(this.clickhouseTarget.dataDir, { recursive: true, force: true });
  }
}

export interface GraphQLErrorBody {
  message: string;
  path?: (string | number)[];
  extensions?: Record<string, unknown>;
}
