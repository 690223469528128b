import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client as Elasticsearch } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import pg from 'pg';
import { alertsEnvSchema, createServer as createAlerts } from '@heimdall/alerts';
import { type Gateway, createServer as createGateway, gatewayEnvSchema } from '@heimdall/gateway';
import { createServer as createLogs, logsEnvSchema } from '@heimdall/logs';
import { createClickHouseClient, createServer as createMetrics, metricsEnvSchema } from '@heimdall/metrics';
import {
  DEFAULT_JWT_AUDIENCE,
  DEFAULT_JWT_ISSUER,
  type Role,
  generateUserSigningKeys,
  signUserToken,
} from '@heimdall/shared/auth';
import { loadConfig } from '@heimdall/shared/config';
import { ConsulClient } from '@heimdall/shared/discovery';
import type { Platform } from '@heimdall/shared/http';
import { testServiceAuthEnv } from '@heimdall/testkit';
import { type LocalStack, stackVariables } from '@heimdall/stack';
import { createServer as createTraces, tracesEnvSchema } from '@heimdall/traces';

/** The last hour and the next 5 minutes, as a GraphQL input literal. */
export const recentRange = (): string =>
  `{ from: "${new Date(Date.now() - 3_600_000).toISOString()}", to: "${new Date(Date.now() + 300_000).toISOString()}" }`;

export type SubgraphName = 'metrics' | 'logs' | 'traces' | 'alerts';

/** The issuer and audience the system's gateway expects: the gateway's defaults (SPEC §8 seed). */
export const JWT_ISSUER = DEFAULT_JWT_ISSUER;
export const JWT_AUDIENCE = DEFAULT_JWT_AUDIENCE;

export interface TokenOptions {
  readonly subject?: string;
  readonly ttlSeconds?: number;
  readonly audience?: string;
  /** When the token was issued; default now. */
  readonly issuedAt?: number;
}

/**
 * The whole federated system in this process, on the real servers of the local stack, under a Consul tag of
 * its own so that it never mixes with another running system. It signs people's tokens with a key of its own
 * (the gateway trusts its public half) and its services trust each other with this test process's secret.
 */
export class System {
  readonly tag = `e2e-${randomUUID().slice(0, 8)}`;
  // Under this system's tag, so removing its Redis keys removes its log queue with them.
  readonly logsQueue = `${this.tag}:logs`;
  readonly consul: ConsulClient;
  readonly clickhouse;
  readonly elasticsearch: Elasticsearch;
  readonly pool: pg.Pool;
  readonly redis: Redis;
  readonly subgraphs = new Map<SubgraphName, Platform>();
  /** The first gateway started. */
  gateway: Gateway | undefined;
  /** The gateway's OTLP/HTTP endpoint, once started. */
  otlpUrl: string | undefined;
  /** Every gateway started, with its OTLP/HTTP endpoint, in order. */
  readonly gateways: { gateway: Gateway; otlpUrl: string }[] = [];

  private constructor(
    readonly local: LocalStack,
    private readonly clickhouseTarget: { url: string | undefined; dataDir: string },
    private readonly postgresUrl: string,
    private readonly keys: {
      readonly dir: string;
      readonly privateKeyPem: string;
      readonly publicKeyPem: string;
      readonly publicKeyFile: string;
    },
  ) {
    this.consul = new ConsulClient(local.endpoints.consulUrl);
    this.clickhouse = createClickHouseClient(clickhouseTarget);
    this.elasticsearch = new Elasticsearch({ node: local.endpoints.elasticsearchUrl });
    this.pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
    this.redis = new Redis(local.endpoints.redisUrl);
  }

  /**
   * `clickhouseUrl`: a ClickHouse server (CLICKHOUSE_URL); otherwise an embedded one in a fresh folder.
   * `postgresUrl`: the alerts database, by default the stack's `heimdall` (a test that evaluates rules gives it a
   * database of its own, so that it evaluates no one else's).
   */
  static async create(
    local: LocalStack,
    clickhouseUrl: string | undefined,
    options: { postgresUrl?: string } = {},
  ): Promise<System> {
    const keysDir = await mkdtemp(join(tmpdir(), 'heimdall-e2e-keys-'));
    const { privateKeyPem, publicKeyPem } = await generateUserSigningKeys();
    const publicKeyFile = join(keysDir, 'jwt-public.pem');
    await writeFile(publicKeyFile, publicKeyPem);
    return new System(
      local,
      { url: clickhouseUrl, dataDir: await mkdtemp(join(tmpdir(), 'heimdall-e2e-ch-')) },
      options.postgresUrl ?? local.endpoints.postgresUrl,
      { dir: keysDir, privateKeyPem, publicKeyPem, publicKeyFile },
    );
  }

  /** The public key the system's gateways verify people's tokens with (what an attacker can know). */
  get jwtPublicKeyPem(): string {
    return this.keys.publicKeyPem;
  }

  /** A person's token for the system's gateway, signed with its key. */
  token(roles: readonly Role[], options: TokenOptions = {}): Promise<string> {
    return signUserToken(this.keys.privateKeyPem, {
      subject: options.subject ?? `e2e-${roles.join('-') || 'nobody'}`,
      roles,
      ttlSeconds: options.ttlSeconds ?? 3600,
      issuer: JWT_ISSUER,
      audience: options.audience ?? JWT_AUDIENCE,
      ...(options.issuedAt === undefined ? {} : { now: () => options.issuedAt! }),
    });
  }

  /** `{ authorization: 'Bearer <token>' }` for a person with these roles. */
  async authHeaders(roles: readonly Role[], options: TokenOptions = {}): Promise<Record<string, string>> {
    return { authorization: `Bearer ${await this.token(roles, options)}` };
  }

  /** What every service of this system reads: ephemeral ports, fast Consul checks, traces to the local Jaeger. */
  env(): Record<string, string> {
    return {
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'warn',
      SUBGRAPH_TAG: this.tag,
      // Where the stack's servers listen, mapped to the services' variables as `npm start` maps them; the metrics
      // subgraph is handed its ClickHouse client and this system may have a database of its own.
      ...stackVariables(this.local.endpoints),
      CONSUL_CHECK_INTERVAL: '1s',
      CONSUL_CHECK_TIMEOUT: '1s',
      CONSUL_DEREGISTER_AFTER: '1m',
      DATABASE_URL: this.postgresUrl,
      // The alerts subgraph's BullMQ keys (evaluation schedules, state changes): this system's own.
      QUEUE_PREFIX: this.tag,
      // Gateways answer every query from the subgraphs: these tests watch what subgraphs do (their traces, a subgraph
      // that dies). The answer cache has tests of its own, which turn it on.
      RESPONSE_CACHE_TTL_MS: '0',
      // The log API's queue of this system alone: another system's (or the local service's) indexer never takes it.
      LOGS_QUEUE_STREAM: this.logsQueue,
      ...testServiceAuthEnv(),
      JWT_PUBLIC_KEY_FILE: this.keys.publicKeyFile,
      JWT_ISSUER,
      JWT_AUDIENCE,
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
        platform = await createAlerts(loadConfig(alertsEnvSchema, env), {
          consul: this.consul,
          pool: this.pool,
          redis: this.redis,
        });
        break;
    }
    await platform.service.start({ host: '127.0.0.1', port: 0 });
    this.subgraphs.set(name, platform);
    return platform;
  }

  /** Starts a gateway (another one when one runs already: instances share Redis, as in a deployment). */
  async startGateway(overrides: Record<string, string> = {}): Promise<Gateway> {
    const gateway = await createGateway(loadConfig(gatewayEnvSchema, { ...this.env(), ...overrides }), {
      consul: this.consul,
      redis: this.redis,
    });
    await gateway.service.start({ host: '127.0.0.1', port: 0 });
    const otlpUrl = `http://127.0.0.1:${await gateway.otlp.listen('127.0.0.1', 0)}`;
    this.gateways.push({ gateway, otlpUrl });
    this.gateway ??= gateway;
    this.otlpUrl ??= otlpUrl;
    return gateway;
  }

  /** Stops a subgraph as SIGTERM does: it deregisters and finishes what it was doing. */
  async stopSubgraph(name: SubgraphName): Promise<void> {
    const platform = this.subgraphs.get(name);
    if (platform === undefined) return;
    this.subgraphs.delete(name);
    await platform.service.stop();
  }

  /** Stops a subgraph as a crash would: its port closes and it never deregisters. */
  async crash(name: SubgraphName): Promise<void> {
    const platform = this.subgraphs.get(name);
    if (platform === undefined) return;
    this.subgraphs.delete(name);
    platform.app.server.closeAllConnections();
    await platform.app.close();
  }

  /** A query through the first gateway, as a viewer unless `headers` carry other credentials. */
  async query<T>(
    query: string,
    headers: Record<string, string> = {},
  ): Promise<{ data?: T; errors?: GraphQLErrorBody[] }> {
    if (this.gateway === undefined) throw new Error('the gateway is not started');
    const credentials = 'authorization' in headers || 'x-api-key' in headers ? {} : await this.authHeaders(['viewer']);
    const response = await fetch(`${this.gateway.service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...credentials, ...headers },
      body: JSON.stringify({ query }),
    });
    return (await response.json()) as { data?: T; errors?: GraphQLErrorBody[] };
  }

  /** Asks `query` again every 250 ms until `done` holds of its data, for at most 30 s (the logs index refreshes every 5 s). */
  async queryUntil<T>(
    query: string,
    done: (data: T | undefined) => boolean,
  ): Promise<{ data?: T; errors?: GraphQLErrorBody[] }> {
    const deadline = Date.now() + 30_000;
    let answer = await this.query<T>(query);
    while (!done(answer.data) && Date.now() < deadline) {
      await sleep(250);
      answer = await this.query<T>(query);
    }
    return answer;
  }

  private stopped: Promise<void> | undefined;

  /** Stops every service (flushing their traces) and closes the store clients; once. */
  stop(): Promise<void> {
    this.stopped ??= this.stopAll();
    return this.stopped;
  }

  /** This system's keys in Redis (the alerts subgraph's queues under QUEUE_PREFIX = tag), gone with it. */
  private async removeRedisKeys(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.tag}:*`, 'COUNT', 1000);
      if (keys.length > 0) await this.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  private async stopAll(): Promise<void> {
    for (const { gateway } of this.gateways) await gateway.service.stop();
    for (const platform of this.subgraphs.values()) await platform.service.stop();
    this.subgraphs.clear();
    await this.clickhouse.close();
    await this.elasticsearch.close();
    await this.pool.end();
    await this.removeRedisKeys();
    this.redis.disconnect();
    await rm(this.clickhouseTarget.dataDir, { recursive: true, force: true });
    await rm(this.keys.dir, { recursive: true, force: true });
  }
}

export interface GraphQLErrorBody {
  message: string;
  path?: (string | number)[];
  extensions?: Record<string, unknown>;
}
