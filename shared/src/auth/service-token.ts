/**
 * Service trust (SPEC §8): every call between Heimdall services carries a short-lived internal token in
 * `X-Service-Auth`, signed with a secret the services share (HS256), naming who the call is for (the person or
 * agent the gateway serves, or the calling service itself) and which service signed it. A subgraph port reached
 * without one grants nothing.
 */
import { createHash } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { type Caller, type CallerKind, rolesFromClaim, serviceCaller } from './caller.js';
import { ExpiringCache } from './expiring-cache.js';

export const SERVICE_AUTH_HEADER = 'x-service-auth';
/** How long an internal token is valid: a stolen one is of use for a minute at most. */
export const SERVICE_TOKEN_TTL_SECONDS = 60;
/** Tokens are signed again once less than this is left, so a receiver never gets one about to expire. */
const RENEW_BELOW_SECONDS = 30;
const CLOCK_TOLERANCE_SECONDS = 5;
const ISSUER = 'heimdall';
const AUDIENCE = 'heimdall-services';
const KINDS: ReadonlySet<string> = new Set<CallerKind>(['user', 'apiKey', 'service']);
const CACHE_ENTRIES = 10_000;

export type ServiceTokenCheck =
  | { readonly ok: true; readonly caller: Caller; /** The service that signed the token. */ readonly signedBy: string }
  | { readonly ok: false; /** For logs; never the token. */ readonly reason: string };

export interface ServiceTokensOptions {
  /** The service signing tokens (carried in each as `svc`), and the identity `headers()` uses by default. */
  readonly service: string;
  /**
   * The cluster secrets (SERVICE_AUTH_SECRET): the first signs, every one verifies. To rotate, deploy with the new
   * secret second, then first, then drop the old one.
   */
  readonly secrets: readonly string[];
  /** Default: the system clock. */
  readonly now?: () => number;
}

/** A key id that names a secret without revealing it, so a receiver picks the right one during a rotation. */
function keyId(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 12);
}

/** Signs and verifies internal tokens; both are cached, so a busy caller signs about once per 30 s per identity. */
export class ServiceTokens {
  private readonly signingKey: { readonly kid: string; readonly secret: Uint8Array };
  private readonly verifyingKeys: ReadonlyMap<string, Uint8Array>;
  private readonly now: () => number;
  private readonly signed: ExpiringCache<Promise<string>>;
  private readonly verified: ExpiringCache<ServiceTokenCheck & { ok: true }>;

  constructor(private readonly options: ServiceTokensOptions) {
    const [first] = options.secrets;
    if (first === undefined) throw new Error('ServiceTokens needs at least one secret');
    const encode = (secret: string) => new TextEncoder().encode(secret);
    this.signingKey = { kid: keyId(first), secret: encode(first) };
    this.verifyingKeys = new Map(options.secrets.map((secret) => [keyId(secret), encode(secret)]));
    this.now = options.now ?? Date.now;
    this.signed = new ExpiringCache(CACHE_ENTRIES, this.now);
    this.verified = new ExpiringCache(CACHE_ENTRIES, this.now);
  }

  /** A token for a call made on behalf of `caller`. */
  sign(caller: Caller): Promise<string> {
    const cacheKey = `${caller.kind}\n${caller.subject}\n${caller.roles.join(',')}`;
    const cached = this.signed.get(cacheKey);
    if (cached !== undefined) return cached;
    const issuedAt = Math.floor(this.now() / 1000);
    const token = new SignJWT({ roles: [...caller.roles], kind: caller.kind, svc: this.options.service })
      .setProtectedHeader({ alg: 'HS256', kid: this.signingKey.kid })
      .setSubject(caller.subject)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + SERVICE_TOKEN_TTL_SECONDS)
      .sign(this.signingKey.secret);
    this.signed.set(cacheKey, token, (issuedAt + SERVICE_TOKEN_TTL_SECONDS - RENEW_BELOW_SECONDS) * 1000);
    return token;
  }

  /** `{ 'x-service-auth': token }` for `caller`; by default this service calling on its own behalf. */
  async headers(caller: Caller = serviceCaller(this.options.service)): Promise<Record<string, string>> {
    return { [SERVICE_AUTH_HEADER]: await this.sign(caller) };
  }

  /** Checks a token: signed with one of the secrets, HS256, for Heimdall's services, unexpired and short-lived. */
  async verify(token: string): Promise<ServiceTokenCheck> {
    const cached = this.verified.get(token);
    if (cached !== undefined) return cached;
    try {
      const { payload } = await jwtVerify(
        token,
        (header) => {
          const key = header.kid === undefined ? undefined : this.verifyingKeys.get(header.kid);
          if (key === undefined) throw new Error('signed with an unknown secret');
          return key;
        },
        {
          algorithms: ['HS256'],
          issuer: ISSUER,
          audience: AUDIENCE,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          requiredClaims: ['sub', 'iat', 'exp'],
          currentDate: new Date(this.now()),
        },
      );
      const { sub, iat, exp, kind, roles, svc } = payload as {
        sub: string;
        iat: number;
        exp: number;
        kind?: unknown;
        roles?: unknown;
        svc?: unknown;
      };
      if (exp - iat > SERVICE_TOKEN_TTL_SECONDS)
        return { ok: false, reason: 'lives longer than an internal token may' };
      if (typeof kind !== 'string' || !KINDS.has(kind) || typeof svc !== 'string')
        return { ok: false, reason: 'malformed claims' };
      const check = {
        ok: true as const,
        caller: { kind: kind as CallerKind, subject: sub, roles: rolesFromClaim(roles) },
        signedBy: svc,
      };
      this.verified.set(token, check, exp * 1000);
      return check;
    } catch (error) {
      return {
        ok: false,
        reason: error instanceof Error ? ((error as { code?: string }).code ?? error.message) : 'invalid',
      };
    }
  }
}
