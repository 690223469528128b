import { SignJWT, UnsecuredJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createUserTokenVerifier, generateUserSigningKeys, signUserToken } from './user-token.js';

const ISSUER = 'airis-epm';
const AUDIENCE = 'airis-services';
const T0 = Date.parse('2026-11-22T10:00:00Z');

let keys: { privateKeyPem: string; publicKeyPem: string };
let otherKeys: { privateKeyPem: string; publicKeyPem: string };
beforeAll(async () => {
  [keys, otherKeys] = await Promise.all([generateUserSigningKeys(), generateUserSigningKeys()]);
});

function makeVerifier(clock: { now: number }, publicKeysPem = [keys.publicKeyPem]) {
  return createUserTokenVerifier({
    keys: { publicKeysPem },
    issuer: ISSUER,
    audience: AUDIENCE,
    clockToleranceSeconds: 30,
    maxTokenAgeSeconds: 3600,
    rolesClaim: 'roles',
    now: () => clock.now,
  });
}

function makeToken(
  overrides: { issuer?: string; audience?: string; ttlSeconds?: number; privateKeyPem?: string; at?: number } = {},
) {
  return signUserToken(overrides.privateKeyPem ?? keys.privateKeyPem, {
    subject: 'ana',
    roles: ['editor'],
    ttlSeconds: overrides.ttlSeconds ?? 3600,
    issuer: overrides.issuer ?? ISSUER,
    audience: overrides.audience ?? AUDIENCE,
    now: () => overrides.at ?? T0,
  });
}

describe('people tokens (RS256)', () => {
  it('give the subject and roles of a token signed with a configured key', async () => {
    const verifier = await makeVerifier({ now: T0 + 1000 });
    expect(await verifier.verify(await makeToken())).toEqual({
      ok: true,
      caller: { kind: 'user', subject: 'ana', roles: ['editor'] },
    });
  });

  it('are refused once expired, past the leeway', async () => {
    const clock = { now: T0 + 60_000 + 29_000 };
    const token = await makeToken({ ttlSeconds: 60 });
    expect(await (await makeVerifier(clock)).verify(token)).toMatchObject({ ok: true });
    clock.now = T0 + 60_000 + 31_000;
    expect(await (await makeVerifier(clock)).verify(token)).toEqual({ ok: false, reason: 'ERR_JWT_EXPIRED' });
  });

  it('are refused for another audience or from another issuer', async () => {
    const verifier = await makeVerifier({ now: T0 });
    expect(await verifier.verify(await makeToken({ audience: 'someone-else' }))).toEqual({
      ok: false,
      reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
    });
    expect(await verifier.verify(await makeToken({ issuer: 'evil-idp' }))).toEqual({
      ok: false,
      reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
    });
  });

  it('are refused when issued more than an hour ago, whatever their expiry says', async () => {
    const token = await makeToken({ ttlSeconds: 24 * 3600 });
    expect(await (await makeVerifier({ now: T0 + 3599_000 })).verify(token)).toMatchObject({ ok: true });
    expect(await (await makeVerifier({ now: T0 + 3700_000 })).verify(token)).toMatchObject({ ok: false });
  });

  it('refuse alg none', async () => {
    const now = Math.floor(T0 / 1000);
    const unsigned = new UnsecuredJWT({ roles: ['admin'] })
      .setSubject('mallory')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .encode();
    expect(await (await makeVerifier({ now: T0 })).verify(unsigned)).toEqual({
      ok: false,
      reason: 'ERR_JOSE_ALG_NOT_ALLOWED',
    });
  });

  it('refuse HS256 signed with the public key as the secret', async () => {
    const now = Math.floor(T0 / 1000);
    const forged = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(new TextEncoder().encode(keys.publicKeyPem));
    expect(await (await makeVerifier({ now: T0 })).verify(forged)).toEqual({
      ok: false,
      reason: 'ERR_JOSE_ALG_NOT_ALLOWED',
    });
  });

  it('refuse a token signed with another key, or altered after signing', async () => {
    const verifier = await makeVerifier({ now: T0 });
    expect(await verifier.verify(await makeToken({ privateKeyPem: otherKeys.privateKeyPem }))).toEqual({
      ok: false,
      reason: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
    const [header, payload, signature] = (await makeToken()).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    const promoted = Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url');
    expect(await verifier.verify(`${header}.${promoted}.${signature}`)).toMatchObject({ ok: false });
  });

  it('verify with any of several PEM keys during a rotation', async () => {
    const verifier = await makeVerifier({ now: T0 }, [otherKeys.publicKeyPem, keys.publicKeyPem]);
    expect(await verifier.verify(await makeToken())).toMatchObject({ ok: true });
    expect(await verifier.verify(await makeToken({ privateKeyPem: otherKeys.privateKeyPem }))).toMatchObject({
      ok: true,
    });
  });

  it('fail at start on a key that is not a PEM public key', async () => {
    await expect(makeVerifier({ now: T0 }, ['not a key'])).rejects.toThrow();
  });
});
