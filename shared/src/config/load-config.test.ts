import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, loadConfig, port } from './load-config.js';
import { serviceEnvSchema } from './service-env.js';

const schema = z.object({
  HTTP_PORT: port().default(8001),
  CONSUL_URL: z.url(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

function problemsOf(load: () => unknown): readonly string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies defaults and coerces numbers', () => {
    const config = loadConfig(schema, { CONSUL_URL: 'http://127.0.0.1:8500' });
    expect(config).toEqual({ HTTP_PORT: 8001, CONSUL_URL: 'http://127.0.0.1:8500', LOG_LEVEL: 'info' });
  });

  it('names every bad or missing variable in one error', () => {
    let caught: unknown;
    try {
      loadConfig(schema, { HTTP_PORT: '99999', LOG_LEVEL: 'loud' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems.find((p) => p.startsWith('HTTP_PORT:'))).toContain('"99999"');
    expect(problems.find((p) => p.startsWith('CONSUL_URL:'))).toContain('missing');
    expect(problems.find((p) => p.startsWith('LOG_LEVEL:'))).toContain('"loud"');
  });

  it('never echoes the value of a secret it refuses', () => {
    const problems = problemsOf(() =>
      loadConfig(serviceEnvSchema(8001), { SERVICE_AUTH_SECRET: 'hunter2-is-too-short' }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^SERVICE_AUTH_SECRET: each secret needs at least 32 characters \(value not shown\)$/),
    ]);
  });

  it('requires the service-trust secret, with no default, and takes a list for rotation', () => {
    expect(problemsOf(() => loadConfig(serviceEnvSchema(8001), {}))).toEqual([
      expect.stringMatching(/^SERVICE_AUTH_SECRET: required.*\(missing\)$/),
    ]);
    const [a, b] = ['a'.repeat(32), 'b'.repeat(40)];
    expect(loadConfig(serviceEnvSchema(8001), { SERVICE_AUTH_SECRET: `${a}, ${b}` }).SERVICE_AUTH_SECRET).toEqual([
      a,
      b,
    ]);
  });

  it('returns a frozen object', () => {
    const config = loadConfig(schema, { CONSUL_URL: 'http://127.0.0.1:8500' });
    expect(Object.isFrozen(config)).toBe(true);
  });
});
