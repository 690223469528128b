import type { Client } from '@elastic/elasticsearch';
import { type ConsulClient, type Platform, createSubgraphPlatform, createResiliencePolicy, serveSubgraphSchema } from '@heimdall/shared';
import type { LogsConfig } from './config.js';
import { ensureLogIndices } from './indices.js';
import { type LogsContext, buildSchema } from './schema.js';
import { LogsStore } from './store.js';

export const SERVICE_NAME = 'logs';
export const VERSION = '0.1.0';

export interface LogsDeps {
  readonly consul: ConsulClient;
  readonly elasticsearch: Client;
}

/** The logs subgraph over Elasticsearch; installs the index template first. Not started: call `service.start()`. */
export async function createServer(config: LogsConfig, deps: LogsDeps): Promise<Platform> {
  const platform = createSubgraphPlatform({ name: SERVICE_NAME, version: VERSION, env: config, consul: deps.consul });
  await ensureLogIndices(deps.elasticsearch);
  const store = new LogsStore(deps.elasticsearch, createResiliencePolicy('elasticsearch', undefined, platform.resilienceMetrics));
  platform.readiness.add({ name: 'elasticsearch', check: (signal) => store.ping(signal) });
  const context: LogsContext = { store };
  await serveSubgraphSchema(platform, buildSchema(), context);
  return platform;
}
