import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, loadConfig, port } from './config.js';

const schema = z.object({
  HTTP_PORT: port().default(8001),
  CONSUL_URL: z.url(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

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

  it('returns a frozen object', () => {
    const config = loadConfig(schema, { CONSUL_URL: 'http://127.0.0.1:8500' });
    expect(Object.isFrozen(config)).toBe(true);
  });
});
