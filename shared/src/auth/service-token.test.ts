import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { type Caller, serviceCaller } from './caller.js';
import { SERVICE_AUTH_HEADER, ServiceTokens } from './service-token.js';

const SECRET = 's'.repeat(40);
const OTHER_SECRET = 'o'.repeat(40);
const viewer: Caller = { kind: 'user', subject: 'ana', roles: ['viewer'] };

function makeTokens(options: { secrets?: string[]; service?: string; clock?: { now: number } } = {}) {
  const clock = options.clock ?? { now: Date.parse('2026-11-22T10:00:00Z') };
  return new ServiceTokens({
    service: options.service ?? 'gateway',
    secrets: options.secrets ?? [SECRET],
    now: () => clock.now,
  });
}

describe('internal tokens (X-Service-Auth)', () => {
  it('carry who the call is for and which service signed it', async () => {
    const tokens = makeTokens();
    const headers = await tokens.headers(viewer);
    expect(Object.keys(headers)).toEqual([SERVICE_AUTH_HEADER]);
    expect(await makeTokens({ service: 'logs' }).verify(headers[SERVICE_AUTH_HEADER]!)).toEqual({
      ok: true,
      caller: viewer,
      signedBy: 'gateway',
    });
  });

  it('name the service itself when it calls on its own behalf', async () => {
    const tokens = makeTokens({ service: 'alerts' });
    const token = (await tokens.headers())[SERVICE_AUTH_HEADER]!;
    expect(await tokens.verify(token)).toMatchObject({ ok: true, caller: serviceCaller('alerts'), signedBy: 'alerts' });
  });

  it('are refused once expired', async () => {
    const clock = { now: Date.parse('2026-11-22T10:00:00Z') };
    const signer = makeTokens({ clock });
    const token = await signer.sign(viewer);
    clock.now += 64_000;
    expect(await makeTokens({ clock }).verify(token)).toMatchObject({ ok: true });
    clock.now += 2_000;
    expect(await makeTokens({ clock }).verify(token)).toEqual({ ok: false, reason: 'ERR_JWT_EXPIRED' });
  });

  it('are refused when signed with a secret the receiver does not hold', async () => {
    const forged = await makeTokens({ secrets: [OTHER_SECRET] }).sign(viewer);
    expect(await makeTokens().verify(forged)).toMatchObject({ ok: false });
  });

  it('verify with any secret of the list during a rotation, and sign with the first', async () => {
    const old = await makeTokens({ secrets: [OTHER_SECRET] }).sign(viewer);
    const rotating = makeTokens({ secrets: [SECRET, OTHER_SECRET] });
    expect(await rotating.verify(old)).toMatchObject({ ok: true });
    expect(await makeTokens({ secrets: [SECRET] }).verify(await rotating.sign(viewer))).toMatchObject({ ok: true });
  });

  it('are refused unsigned (alg none), or signed for longer than a minute', async () => {
    const now = Math.floor(Date.parse('2026-11-22T10:00:00Z') / 1000);
    const claims = { roles: ['admin'], kind: 'user', svc: 'gateway' };
    const unsigned = new UnsecuredJWT(claims)
      .setSubject('mallory')
      .setIssuer('heimdall')
      .setAudience('heimdall-services')
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .encode();
    expect(await makeTokens().verify(unsigned)).toMatchObject({ ok: false });
    const kid = (await makeTokens().sign(viewer)).split('.')[0]!;
    const header = JSON.parse(Buffer.from(kid, 'base64url').toString()) as { kid: string };
    const longLived = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: header.kid })
      .setSubject('mallory')
      .setIssuer('heimdall')
      .setAudience('heimdall-services')
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(new TextEncoder().encode(SECRET));
    expect(await makeTokens().verify(longLived)).toEqual({
      ok: false,
      reason: 'lives longer than an internal token may',
    });
  });

  it('are signed again only once half their life is gone', async () => {
    const clock = { now: Date.parse('2026-11-22T10:00:00Z') };
    const tokens = makeTokens({ clock });
    const first = await tokens.sign(viewer);
    clock.now += 29_000;
    expect(await tokens.sign(viewer)).toBe(first);
    expect(await tokens.sign({ ...viewer, roles: ['editor'] })).not.toBe(first);
    clock.now += 2_000;
    expect(await tokens.sign(viewer)).not.toBe(first);
  });
});
