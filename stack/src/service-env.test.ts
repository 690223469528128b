import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@heimdall/shared/config';
import { gatewayEnvSchema } from '../../gateway/src/config.js';
import { alertsEnvSchema } from '../../subgraphs/alerts/src/config.js';
import { logsEnvSchema } from '../../subgraphs/logs/src/config.js';
import { metricsEnvSchema } from '../../subgraphs/metrics/src/config.js';
import { tracesEnvSchema } from '../../subgraphs/traces/src/config.js';
import { loadStackConfig } from './config.js';
import { stackEndpoints } from './endpoints.js';
import { ensureNotificationKey, localAuthFiles, serviceAuthEnv } from './local-auth.js';
import { serviceEnvironment } from './service-env.js';

describe('the environment npm start gives services', () => {
  it('points them at the stack where it actually listens, ports and state directory moved', () => {
    const moved = loadStackConfig(
      {
        HOME: '/home/u',
        HEIMDALL_STACK_DIR: '/data/hd',
        CONSUL_PORT: '18500',
        ES_PORT: '19200',
        POSTGRES_PORT: '15432',
        REDIS_PORT: '16379',
        JAEGER_QUERY_PORT: '26686',
        JAEGER_OTLP_HTTP_PORT: '24318',
      },
      '/repo',
    );

    expect(serviceEnvironment(stackEndpoints(moved), { PATH: '/usr/bin' })).toEqual({
      PATH: '/usr/bin',
      CONSUL_URL: 'http://127.0.0.1:18500',
      ELASTICSEARCH_URL: 'http://127.0.0.1:19200',
      JAEGER_QUERY_URL: 'http://127.0.0.1:26686',
      JAEGER_OTLP_URL: 'http://127.0.0.1:24318/v1/traces',
      OTLP_TRACES_URL: 'http://127.0.0.1:24318/v1/traces',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:15432/heimdall',
      REDIS_URL: 'redis://127.0.0.1:16379',
      CLICKHOUSE_DATA_DIR: '/data/hd/clickhouse',
    });
  });

  it('reaches each service as its own config reads it, so a renamed variable fails here', async () => {
    const stack = loadStackConfig(
      { HOME: '/home/u', CONSUL_PORT: '18500', ES_PORT: '19200', REDIS_PORT: '16379' },
      '/repo',
    );
    // As npm start composes it: the stack's endpoints, then the service-trust secret, the public key file and the
    // key sealing channel secrets (made in a stack directory of the test's own).
    const ownDir = await mkdtemp(join(tmpdir(), 'heimdall-env-'));
    const auth = localAuthFiles(ownDir);
    const env = {
      ...serviceEnvironment(stackEndpoints(stack), {}),
      ...serviceAuthEnv({}, localAuthFiles(stack.stackDir)),
      ...(await ensureNotificationKey(auth, {})),
    };

    expect(loadConfig(gatewayEnvSchema, env).CONSUL_URL).toBe('http://127.0.0.1:18500');
    expect(loadConfig(metricsEnvSchema, env).CONSUL_URL).toBe('http://127.0.0.1:18500');
    expect(loadConfig(logsEnvSchema, env).ELASTICSEARCH_URL).toBe('http://127.0.0.1:19200');
    expect(loadConfig(tracesEnvSchema, env).CONSUL_URL).toBe('http://127.0.0.1:18500');
    expect(loadConfig(alertsEnvSchema, env).REDIS_URL).toBe('redis://127.0.0.1:16379');
    expect(loadConfig(alertsEnvSchema, env).NOTIFICATION_SECRET_KEY).toHaveLength(1);
    await rm(ownDir, { recursive: true, force: true });
  });

  it('keeps a service variable the user set explicitly', () => {
    const env = serviceEnvironment(stackEndpoints(loadStackConfig({ HOME: '/home/u' }, '/repo')), {
      CONSUL_URL: 'http://consul.internal:8500',
      OTLP_TRACES_URL: 'off',
    });

    expect(env.CONSUL_URL).toBe('http://consul.internal:8500');
    expect(env.OTLP_TRACES_URL).toBe('off');
    expect(env.ELASTICSEARCH_URL).toBe('http://127.0.0.1:9200');
  });
});
