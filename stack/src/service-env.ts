import type { StackEndpoints } from './endpoints.js';

/**
 * The variables through which Heimdall's services find the stack (their config schemas: shared/src/config/service-env.ts
 * and each service's config.ts), set from where the stack's servers actually listen, so that a moved port or state
 * directory reaches the services `npm start` runs.
 */
export function stackVariables(endpoints: StackEndpoints): Record<string, string> {
  return {
    CONSUL_URL: endpoints.consulUrl,
    ELASTICSEARCH_URL: endpoints.elasticsearchUrl,
    JAEGER_QUERY_URL: endpoints.jaegerQueryUrl,
    JAEGER_OTLP_URL: `${endpoints.jaegerOtlpHttpUrl}/v1/traces`,
    OTLP_TRACES_URL: `${endpoints.jaegerOtlpHttpUrl}/v1/traces`,
    DATABASE_URL: endpoints.postgresUrl,
    REDIS_URL: endpoints.redisUrl,
    CLICKHOUSE_DATA_DIR: endpoints.clickhouseDataDir,
  };
}

/**
 * The environment of a service `npm start` runs: the caller's, then the stack's endpoints over it, except where the
 * caller set a service variable explicitly (pointing a service at another Consul or a ClickHouse server wins).
 */
export function serviceEnvironment(
  endpoints: StackEndpoints,
  inherited: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(inherited)) if (value !== undefined) environment[name] = value;
  for (const [name, value] of Object.entries(stackVariables(endpoints))) environment[name] = inherited[name] ?? value;
  return environment;
}
