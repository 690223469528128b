import { readFile } from 'node:fs/promises';
import { ApolloGateway } from '@apollo/gateway';
import type { Redis } from 'ioredis';
import { type CallerContext, createUserTokenVerifier, rolesPlugin } from '@heimdall/shared/auth';
import type { ConsulClient } from '@heimdall/shared/discovery';
import { mountGraphQL } from '@heimdall/shared/graphql';
import { type Platform, createPlatform } from '@heimdall/shared/http';
import { type ResiliencePolicy, createResiliencePolicy } from '@heimdall/shared/resilience';
import { RedisApiKeys } from './api-keys.js';
import { type Authenticator, CredentialAuthenticator, openDoor } from './authenticate.js';
import { CATALOG_NAME, buildCatalogSchema } from './catalog.js';
import { CatalogDataSource } from './catalog-data-source.js';
import { type GatewayConfig, introspectionEnabled } from './config.js';
import { loadConsoleFiles, registerConsole } from './console-files.js';
import { corsHook } from './cors.js';
import { SubgraphDataSource } from './data-source.js';
import { SubgraphDirectory } from './directory.js';
import { FrontDoor, admissionHook } from './front-door.js';
import { OtlpRouter } from './otlp-router.js';
import { queryLimitProtections } from './query-limits.js';
import { RateLimiter } from './rate-limit.js';
import { requestLimitsHook } from './request-limits.js';
import { ResponseCache, responseCachePlugin } from './response-cache.js';
import { ConsulSupergraphManager, httpSdlReader } from './supergraph-manager.js';

export const SERVICE_NAME = 'gateway';
export const VERSION = '0.1.0';

export interface GatewayDeps {
  /**
   * The class, not `ConsulApi`, only because the shared platform registers the gateway with it; the directory
   * and the readiness check need just the interface.
   */
  readonly consul: ConsulClient;
  /** API keys and rate-limit buckets, shared with the other gateway instances. */
  readonly redis: Redis;
}

export interface Gateway extends Platform {
  readonly supergraph: ConsulSupergraphManager;
  /** Not listening yet: `otlp.listen(host, config.OTLP_PORT)`. */
  readonly otlp: OtlpRouter;
}

async function createAuthenticator(
  config: GatewayConfig,
  apiKeys: RedisApiKeys,
  platform: Platform,
): Promise<Authenticator> {
  if (config.AUTH_DISABLED) return openDoor;
  const keys =
    config.JWT_JWKS_URL !== undefined
      ? { jwksUrl: config.JWT_JWKS_URL }
      : { publicKeysPem: await Promise.all((config.JWT_PUBLIC_KEY_FILE ?? []).map((file) => readFile(file, 'utf8'))) };
  const tokens = await createUserTokenVerifier({
    keys,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS,
    maxTokenAgeSeconds: config.JWT_MAX_TOKEN_AGE_SECONDS,
    rolesClaim: config.JWT_ROLES_CLAIM,
  });
  return new CredentialAuthenticator({ tokens, apiKeys, logger: platform.logger });
}

/**
 * The federation gateway: composes what Consul lists, answers partially when a subgraph is down. Every request
 * passes the front door first (CORS, credentials, rate limit, request limits), then query limits and roles before
 * planning; every subgraph call carries an internal token naming the caller. Queries' answers are cached (L1 in
 * process, L2 in Redis) per operation, variables and roles.
 */
export async function createServer(config: GatewayConfig, deps: GatewayDeps): Promise<Gateway> {
  const platform = createPlatform({
    name: SERVICE_NAME,
    version: VERSION,
    env: config,
    consul: deps.consul,
    tags: ['heimdall'],
    meta: { graphql_path: '/graphql' },
  });
  if (config.AUTH_DISABLED) {
    platform.logger.warn(
      { event: 'auth_disabled' },
      'AUTH_DISABLED=true: authentication is off, every caller is an admin',
    );
  }
  const directory = new SubgraphDirectory(deps.consul, config.SUBGRAPH_TAG, platform.logger);
  const supergraph = new ConsulSupergraphManager(directory, platform.logger, {
    retentionMs: config.SUBGRAPH_RETENTION_MS,
    readSdl: httpSdlReader(() => platform.serviceTokens.headers()),
  });
  const apiKeys = new RedisApiKeys(deps.redis, { cacheMs: config.API_KEY_CACHE_MS });
  const door = new FrontDoor(
    await createAuthenticator(config, apiKeys, platform),
    new RateLimiter(
      deps.redis,
      {
        requests: config.RATE_LIMIT_REQUESTS,
        periodSeconds: config.RATE_LIMIT_PERIOD_SECONDS,
        byRole: config.RATE_LIMIT_BY_ROLE,
      },
      platform.metrics,
      platform.logger,
    ),
    platform.metrics,
  );

  // One policy per subgraph, renewed when its set of instances changes: a breaker opened against instances that
  // are gone must not hold back the ones that replaced them.
  const policies = new Map<string, { instances: string; policy: ResiliencePolicy }>();
  const policyFor = (name: string) => () => {
    const instances = directory
      .passing(name)
      .map((i) => i.id)
      .sort()
      .join(',');
    const known = policies.get(name);
    if (known !== undefined && (known.instances === instances || instances === '')) return known.policy;
    const policy = createResiliencePolicy(
      // A subgraph is named by whoever registers it in Consul (`user-service`); the policy label keeps the convention.
      `subgraph_${
        name
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '_')
          .replace(/^_+|_+$/g, '') || 'unnamed'
      }`,
      { timeoutMs: config.SUBGRAPH_TIMEOUT_MS, breaker: { halfOpenAfterMs: config.SUBGRAPH_BREAKER_HALF_OPEN_MS } },
      platform.resilienceMetrics,
    );
    policies.set(name, { instances, policy });
    return policy;
  };

  const gateway = new ApolloGateway({
    supergraphSdl: supergraph,
    buildService: ({ name }) =>
      name === CATALOG_NAME
        ? new CatalogDataSource(buildCatalogSchema({ apiKeys }))
        : new SubgraphDataSource(name, {
            directory,
            policy: policyFor(name),
            telemetry: platform.telemetry,
            logger: platform.logger,
            serviceTokens: platform.serviceTokens,
          }),
  });
  const introspection = introspectionEnabled(config);
  const limits = queryLimitProtections({
    maxDepth: config.GRAPHQL_MAX_DEPTH,
    maxAliases: config.GRAPHQL_MAX_ALIASES,
    maxDirectives: config.GRAPHQL_MAX_DIRECTIVES,
    maxCost: config.GRAPHQL_MAX_COST,
    defaultListSize: config.GRAPHQL_DEFAULT_LIST_SIZE,
    blockFieldSuggestions: !introspection,
  });
  await mountGraphQL<CallerContext>(
    platform.app,
    {
      gateway,
      introspection,
      validationRules: limits.validationRules,
      allowBatchedHttpRequests: config.GRAPHQL_MAX_BATCH > 1,
      // Apollo's CSRF guard lets a request through when it carries a header a browser cannot send cross-site
      // without a preflight; credentials are such headers, so spec-following GET clients work.
      csrfPrevention: {
        requestHeaders: ['authorization', 'x-api-key', 'x-apollo-operation-name', 'apollo-require-preflight'],
      },
    },
    {
      metrics: platform.metrics,
      logger: platform.logger,
      context: (request) => Promise.resolve({ caller: request.caller }),
      // The answer cache last: it answers only operations the roles and limits let through.
      plugins: [
        rolesPlugin(),
        ...limits.plugins,
        responseCachePlugin(
          new ResponseCache(
            deps.redis,
            {
              ttlMs: config.RESPONSE_CACHE_TTL_MS,
              liveTtlMs: config.RESPONSE_CACHE_LIVE_TTL_MS,
              maxBytes: config.RESPONSE_CACHE_MAX_BYTES,
              supergraph: config.SUBGRAPH_TAG,
            },
            platform.logger,
          ),
          platform.metrics,
        ),
      ],
      hooks: {
        onRequest: [corsHook(config.CORS_ORIGINS), admissionHook(door)],
        preHandler: [requestLimitsHook({ maxBatch: config.GRAPHQL_MAX_BATCH, maxTokens: config.GRAPHQL_MAX_TOKENS })],
      },
    },
  );
  platform.readiness.add({
    name: 'consul',
    check: async (signal) => void (await deps.consul.services({ index: '0', wait: '1s', signal })),
  });
  platform.readiness.add({
    name: 'redis',
    check: async () => {
      if ((await deps.redis.ping()) !== 'PONG') throw new Error('no PONG');
    },
  });
  const consoleFiles = await loadConsoleFiles(config.CONSOLE_DIR);
  if (consoleFiles === undefined) {
    platform.logger.warn(
      { event: 'console_missing', dir: config.CONSOLE_DIR },
      `no console built in ${config.CONSOLE_DIR}: run npm run build`,
    );
  }
  registerConsole(platform.app, consoleFiles);
  const otlp = new OtlpRouter(directory, platform.logger, {
    forwardTimeoutMs: config.OTLP_FORWARD_TIMEOUT_MS,
    access: {
      admit: (request) => door.admit(request.headers, request.socket.remoteAddress ?? 'unknown', 'otlp'),
      headers: (caller) => platform.serviceTokens.headers(caller),
    },
  });
  platform.app.addHook('onClose', () => otlp.close());
  return { ...platform, supergraph, otlp };
}
