import { describe, expect, it, vi } from 'vitest';
import type { Caller, UserTokenVerifier } from '@heimdall/shared/auth';
import type { ApiKeys } from './api-keys.js';
import { CredentialAuthenticator } from './authenticate.js';
import { makeLogger } from './logger.fixtures.js';

const ANA: Caller = { kind: 'user', subject: 'ana', roles: ['viewer'] };
const AGENT: Caller = { kind: 'apiKey', subject: '0123456789abcdef', roles: ['agent'] };
const KEY = `hmd_0123456789abcdef_${'k'.repeat(43)}`;

function makeAuthenticator() {
  const tokens = {
    verify: vi.fn<UserTokenVerifier['verify']>((token: string) =>
      Promise.resolve(
        token === 'good.jwt.token'
          ? { ok: true as const, caller: ANA }
          : { ok: false as const, reason: 'ERR_JWT_EXPIRED' },
      ),
    ),
  };
  const apiKeys = {
    verify: vi.fn<ApiKeys['verify']>((key: string) =>
      Promise.resolve(key === KEY ? { ok: true as const, caller: AGENT } : { ok: false as const }),
    ),
  };
  const log = makeLogger();
  return { authenticator: new CredentialAuthenticator({ tokens, apiKeys, logger: log.logger }), tokens, apiKeys, log };
}

describe('who is calling the gateway', () => {
  it('takes a person from a Bearer JWT', async () => {
    const { authenticator } = makeAuthenticator();
    expect(await authenticator.authenticate({ authorization: 'Bearer good.jwt.token' })).toEqual({
      ok: true,
      caller: ANA,
    });
  });

  it('takes an agent from an API key, as a Bearer credential or in x-api-key', async () => {
    const { authenticator, tokens } = makeAuthenticator();
    expect(await authenticator.authenticate({ authorization: `Bearer ${KEY}` })).toEqual({ ok: true, caller: AGENT });
    expect(await authenticator.authenticate({ 'x-api-key': KEY })).toEqual({ ok: true, caller: AGENT });
    expect(tokens.verify).not.toHaveBeenCalled();
  });

  it('takes an API key or a token as the password of Basic auth, as Grafana data sources send it', async () => {
    const { authenticator } = makeAuthenticator();
    const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    expect(await authenticator.authenticate({ authorization: basic('grafana', KEY) })).toEqual({
      ok: true,
      caller: AGENT,
    });
    expect(await authenticator.authenticate({ authorization: basic('', 'good.jwt.token') })).toEqual({
      ok: true,
      caller: ANA,
    });
    expect(await authenticator.authenticate({ authorization: basic('grafana', 'wrong') })).toMatchObject({
      ok: false,
      error: { message: 'Invalid token' },
    });
  });

  it.each([
    ['no header at all', {}],
    ['another scheme', { authorization: 'Digest username="admin"' }],
    ['Basic without a password', { authorization: `Basic ${Buffer.from('grafana:').toString('base64')}` }],
    ['Bearer without a token', { authorization: 'Bearer ' }],
    ['an empty x-api-key', { 'x-api-key': '' }],
  ])('answers 401 "Missing or invalid authorization header" for %s', async (_case, headers) => {
    const { authenticator } = makeAuthenticator();
    const result = await authenticator.authenticate(headers);
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'UNAUTHENTICATED', status: 401, message: 'Missing or invalid authorization header' },
    });
  });

  it('answers 401 "Invalid token" for a token or key that does not verify, and logs why without the credential', async () => {
    const { authenticator, log } = makeAuthenticator();
    const badJwt = await authenticator.authenticate({ authorization: 'Bearer expired.jwt.token' });
    const badKey = await authenticator.authenticate({ 'x-api-key': `hmd_0123456789abcdef_${'x'.repeat(43)}` });
    for (const result of [badJwt, badKey])
      expect(result).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED', message: 'Invalid token' } });
    expect(log.debug).toHaveBeenCalledWith(expect.objectContaining({ reason: 'ERR_JWT_EXPIRED' }), expect.any(String));
    expect(JSON.stringify(log.debug.mock.calls)).not.toMatch(/expired\.jwt|xxxx/);
  });
});
