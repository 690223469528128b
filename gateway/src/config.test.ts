import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@heimdall/shared/config';
import { testServiceAuthEnv } from '@heimdall/testkit';
import { gatewayEnvSchema, introspectionEnabled } from './config.js';

const BASE = { ...testServiceAuthEnv(), JWT_PUBLIC_KEY_FILE: '/keys/jwt-public.pem' };

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(gatewayEnvSchema, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('gateway configuration', () => {
  it('keeps authentication on by default, with the SPEC seed issuer and audience', () => {
    const config = loadConfig(gatewayEnvSchema, BASE);
    expect(config).toMatchObject({
      AUTH_DISABLED: false,
      JWT_ISSUER: 'airis-epm',
      JWT_AUDIENCE: 'airis-services',
      JWT_PUBLIC_KEY_FILE: ['/keys/jwt-public.pem'],
    });
  });

  it('needs a key to verify tokens with unless authentication is turned off', () => {
    expect(problemsOf(testServiceAuthEnv())).toEqual([
      expect.stringMatching(/^JWT_PUBLIC_KEY_FILE: set JWT_PUBLIC_KEY_FILE or JWT_JWKS_URL/),
    ]);
    expect(problemsOf({ ...testServiceAuthEnv(), AUTH_DISABLED: 'true' })).toEqual([]);
  });

  it('refuses AUTH_DISABLED with NODE_ENV=production', () => {
    expect(problemsOf({ ...BASE, AUTH_DISABLED: 'true', NODE_ENV: 'production' })).toEqual([
      expect.stringMatching(/^AUTH_DISABLED: authentication cannot be turned off with NODE_ENV=production/),
    ]);
  });

  it('reads per-role rate limits and refuses a role Heimdall does not have', () => {
    expect(
      loadConfig(gatewayEnvSchema, { ...BASE, RATE_LIMIT_BY_ROLE: 'agent=1000, viewer=50' }).RATE_LIMIT_BY_ROLE,
    ).toEqual({ agent: 1000, viewer: 50 });
    expect(problemsOf({ ...BASE, RATE_LIMIT_BY_ROLE: 'superuser=5' })).toEqual([
      expect.stringMatching(/^RATE_LIMIT_BY_ROLE: "superuser=5" is not role=requests/),
    ]);
  });

  it('keeps a revoked API key cached for 5 s at most', () => {
    expect(problemsOf({ ...BASE, API_KEY_CACHE_MS: '10000' })).toEqual([expect.stringMatching(/^API_KEY_CACHE_MS:/)]);
  });

  it('has introspection on locally and off by default in production, unless configured', () => {
    expect(introspectionEnabled(loadConfig(gatewayEnvSchema, BASE))).toBe(true);
    expect(introspectionEnabled(loadConfig(gatewayEnvSchema, { ...BASE, NODE_ENV: 'production' }))).toBe(false);
    expect(
      introspectionEnabled(
        loadConfig(gatewayEnvSchema, { ...BASE, NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true' }),
      ),
    ).toBe(true);
  });
});
