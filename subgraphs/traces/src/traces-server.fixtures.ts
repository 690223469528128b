import { randomUUID } from 'node:crypto';
import { loadConfig } from '@heimdall/shared/config';
import { ConsulClient } from '@heimdall/shared/discovery';
import type { Platform } from '@heimdall/shared/http';
import { makeCaller, serviceAuthHeaders, testServiceAuthEnv } from '@heimdall/testkit';
import type { LocalStack, StackEndpoints } from '@heimdall/stack';
import { tracesEnvSchema } from './config.js';
import { createServer } from './server.js';

/** A traces subgraph started in the test's process on a free port, under a Consul tag of its own. */
export interface TracesServer {
  readonly platform: Platform;
  readonly url: string;
  /** A GraphQL request as the gateway forwards one for an admin. */
  graphql<T>(
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<{
    data?: T;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  }>;
  /** The internal token the gateway adds to an agent's push (valid 60 s). */
  agentHeaders(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

/** `jaeger`: the Jaeger it forwards to and reads from, the shared stack's unless a test's own (`privateStack`). */
export async function startTracesServer(
  local: LocalStack,
  env: Record<string, string> = {},
  jaeger: { readonly endpoints: StackEndpoints } = local,
): Promise<TracesServer> {
  const config = loadConfig(tracesEnvSchema, {
    HOST: '127.0.0.1',
    PORT: '0',
    // The 503s some tests provoke are logged at warn.
    LOG_LEVEL: 'error',
    SUBGRAPH_TAG: `traces-int-${randomUUID().slice(0, 8)}`,
    CONSUL_URL: local.endpoints.consulUrl,
    CONSUL_CHECK_INTERVAL: '1s',
    CONSUL_CHECK_TIMEOUT: '1s',
    CONSUL_DEREGISTER_AFTER: '1m',
    OTLP_TRACES_URL: 'off',
    JAEGER_QUERY_URL: jaeger.endpoints.jaegerQueryUrl,
    JAEGER_OTLP_URL: `${jaeger.endpoints.jaegerOtlpHttpUrl}/v1/traces`,
    ...testServiceAuthEnv(),
    ...env,
  });
  const platform = await createServer(config, { consul: new ConsulClient(config.CONSUL_URL) });
  await platform.service.start({ host: '127.0.0.1', port: 0 });
  const url = platform.service.url;
  return {
    platform,
    url,
    async graphql(query, variables = {}) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(await serviceAuthHeaders()) },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as never;
    },
    agentHeaders: () => serviceAuthHeaders(makeCaller(['agent'])),
    stop: () => platform.service.stop(),
  };
}
