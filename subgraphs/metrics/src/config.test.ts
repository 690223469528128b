import { describe, expect, it } from 'vitest';
import { loadConfig } from '@heimdall/shared/config';
import { testServiceAuthEnv } from '@heimdall/testkit';
import { metricsEnvSchema } from './config.js';

describe('metrics configuration', () => {
  const env = { OTLP_TRACES_URL: 'off', ...testServiceAuthEnv() };

  it("lets ClickHouse's own limit end a read before the client's timeout does, and before the gateway's 3 s", () => {
    const config = loadConfig(metricsEnvSchema, env);
    expect(config.CLICKHOUSE_MAX_EXECUTION_SECONDS * 1000).toBeLessThan(config.CLICKHOUSE_READ_TIMEOUT_MS);
    expect(config.CLICKHOUSE_READ_TIMEOUT_MS).toBeLessThanOrEqual(3000);
  });

  it('refuses an engine limit the client timeout would cut short', () => {
    expect(() =>
      loadConfig(metricsEnvSchema, {
        ...env,
        CLICKHOUSE_MAX_EXECUTION_SECONDS: '3',
        CLICKHOUSE_READ_TIMEOUT_MS: '3000',
      }),
    ).toThrow(/CLICKHOUSE_MAX_EXECUTION_SECONDS/);
  });
});
