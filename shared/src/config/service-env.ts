import { z } from 'zod';
import { listenPort } from './load-config.js';

/**
 * The variables every Heimdall service reads, with local defaults (SPEC §1). A service's own schema extends
 * this one: `serviceEnvSchema(8001).extend({ CLICKHOUSE_URL: ... })`.
 */
export function serviceEnvSchema(defaultPort: number) {
  return z.object({
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: listenPort().default(defaultPort),
    /** The address Consul hands out for this instance; defaults to HOST. */
    ADVERTISE_ADDRESS: z.string().min(1).optional(),
    SERVICE_INSTANCE_ID: z.string().min(1).optional(),
    CONSUL_URL: z.url().default('http://127.0.0.1:8500'),
    CONSUL_CHECK_INTERVAL: z
      .string()
      .regex(/^\d+(ms|s|m)$/, 'a Go duration such as 30s')
      .default('30s'),
    CONSUL_CHECK_TIMEOUT: z
      .string()
      .regex(/^\d+(ms|s|m)$/, 'a Go duration such as 10s')
      .default('10s'),
    CONSUL_DEREGISTER_AFTER: z
      .string()
      .regex(/^\d+(s|m|h)$/, 'a Go duration such as 90s')
      .default('90s'),
    /** Consul tag marking subgraphs; the gateway composes the instances carrying it (one system per tag). */
    SUBGRAPH_TAG: z
      .string()
      .regex(/^[\w.-]+$/, 'letters, digits, ".", "-" or "_"')
      .default('graphql-subgraph'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Where the service's own traces go; "off" disables tracing. Default: the local Jaeger's OTLP receiver. */
    OTLP_TRACES_URL: z.union([z.url(), z.literal('off')]).default('http://127.0.0.1:14318/v1/traces'),
    /**
     * The cluster secrets signing the internal tokens services send each other (`X-Service-Auth`): comma-separated,
     * at least 32 characters each; the first signs, every one verifies (rotation). Required, with no default: a
     * secret written in the code protects nothing. `npm start` makes one for the local services.
     */
    SERVICE_AUTH_SECRET: z
      .string({ error: 'required: one or more secrets of at least 32 characters, comma-separated' })
      .transform((value) =>
        value
          .split(',')
          .map((secret) => secret.trim())
          .filter((secret) => secret !== ''),
      )
      .pipe(z.array(z.string().min(32, 'each secret needs at least 32 characters')).min(1, 'at least one secret')),
  });
}

export type ServiceEnv = z.output<ReturnType<typeof serviceEnvSchema>>;
