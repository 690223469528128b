import {
  type ConsulClient,
  type Platform,
  createSubgraphPlatform,
  createResiliencePolicy,
  serveSubgraphSchema,
} from '@heimdall/shared';
import type { TracesConfig } from './config.js';
import { JaegerQueryClient } from './jaeger-client.js';
import { type TracesContext, buildSchema } from './schema.js';

export const SERVICE_NAME = 'traces';
export const VERSION = '0.1.0';

export interface TracesDeps {
  readonly consul: ConsulClient;
}

/** The traces subgraph: reads Jaeger's query API. Not started: call `service.start()` (main.ts or a test). */
export async function createServer(config: TracesConfig, deps: TracesDeps): Promise<Platform> {
  const platform = createSubgraphPlatform({ name: SERVICE_NAME, version: VERSION, env: config, consul: deps.consul });
  const jaeger = new JaegerQueryClient(
    config.JAEGER_QUERY_URL,
    createResiliencePolicy('jaeger', undefined, platform.resilienceMetrics),
  );
  platform.readiness.add({ name: 'jaeger', check: async () => void (await jaeger.services()) });
  const context: TracesContext = { jaeger };
  await serveSubgraphSchema(platform, buildSchema(), context);
  return platform;
}
