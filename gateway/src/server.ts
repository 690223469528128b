import { ApolloGateway, LocalGraphQLDataSource } from '@apollo/gateway';
import {
  type ConsulClient,
  type Platform,
  type ResiliencePolicy,
  createPlatform,
  createResiliencePolicy,
  mountGraphQL,
} from '@heimdall/shared';
import { CATALOG_NAME, buildCatalogSchema } from './catalog.js';
import type { GatewayConfig } from './config.js';
import { SubgraphDataSource } from './data-source.js';
import { SubgraphDirectory } from './directory.js';
import { OtlpRouter } from './otlp-router.js';
import { ConsulSupergraphManager } from './supergraph-manager.js';

export const SERVICE_NAME = 'gateway';
export const VERSION = '0.1.0';

export interface GatewayDeps {
  /**
   * The class, not `ConsulApi`, only because the shared platform registers the gateway with it; the directory
   * and the readiness check need just the interface.
   */
  readonly consul: ConsulClient;
}

export interface Gateway extends Platform {
  readonly supergraph: ConsulSupergraphManager;
  /** Not listening yet: `otlp.listen(host, config.OTLP_PORT)`. */
  readonly otlp: OtlpRouter;
}

/** The federation gateway: composes what Consul lists, answers partially when a subgraph is down. */
export async function createServer(config: GatewayConfig, deps: GatewayDeps): Promise<Gateway> {
  const platform = createPlatform({
    name: SERVICE_NAME,
    version: VERSION,
    env: config,
    consul: deps.consul,
    tags: ['heimdall'],
    meta: { graphql_path: '/graphql' },
  });
  const directory = new SubgraphDirectory(deps.consul, config.SUBGRAPH_TAG, platform.logger);
  const supergraph = new ConsulSupergraphManager(directory, platform.logger, { retentionMs: config.SUBGRAPH_RETENTION_MS });

  // One policy per subgraph, renewed when its set of instances changes: a breaker opened against instances that
  // are gone must not hold back the ones that replaced them.
  const policies = new Map<string, { instances: string; policy: ResiliencePolicy }>();
  const policyFor = (name: string) => () => {
    const instances = directory.passing(name).map((i) => i.id).sort().join(',');
    const known = policies.get(name);
    if (known !== undefined && (known.instances === instances || instances === '')) return known.policy;
    const policy = createResiliencePolicy(
      `subgraph_${name}`,
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
        ? new LocalGraphQLDataSource(buildCatalogSchema())
        : new SubgraphDataSource(name, { directory, policy: policyFor(name), telemetry: platform.telemetry, logger: platform.logger }),
  });
  await mountGraphQL(platform.app, { gateway }, {
    metrics: platform.metrics,
    logger: platform.logger,
    context: () => Promise.resolve({}),
  });
  platform.readiness.add({
    name: 'consul',
    check: async (signal) => void (await deps.consul.services({ index: '0', wait: '1s', signal })),
  });
  const otlp = new OtlpRouter(directory, platform.logger, { forwardTimeoutMs: config.OTLP_FORWARD_TIMEOUT_MS });
  platform.app.addHook('onClose', () => otlp.close());
  return { ...platform, supergraph, otlp };
}
