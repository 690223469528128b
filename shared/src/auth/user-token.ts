/**
 * People and tools (SPEC §8): `Authorization: Bearer <JWT>`, RS256 only, keys from a JWKS URL or PEM files, issuer
 * and audience checked, at most an hour old, with a little clock-skew leeway. `alg: none`, HS256 signed with the
 * public key as its secret, and every other algorithm are refused before any key is looked at.
 */
import {
  type CryptoKey,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  SignJWT,
  calculateJwkThumbprint,
  createRemoteJWKSet,
  exportJWK,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  importPKCS8,
  importSPKI,
  jwtVerify,
} from 'jose';
import { type Caller, type Role, rolesFromClaim } from './caller.js';
import { ExpiringCache } from './expiring-cache.js';

const ALGORITHM = 'RS256';
const CACHE_ENTRIES = 10_000;

/**
 * The issuer and audience of people's tokens unless JWT_ISSUER/JWT_AUDIENCE say otherwise (SPEC §8 seed): the
 * gateway's defaults, and what the local stack and the tests sign with, stated once.
 */
export const DEFAULT_JWT_ISSUER = 'airis-epm';
export const DEFAULT_JWT_AUDIENCE = 'airis-services';

/** Where the public keys come from: an identity provider's JWKS, or PEM files (one per key, for rotation). */
export type UserKeySource = { readonly jwksUrl: string } | { readonly publicKeysPem: readonly string[] };

export interface UserTokenVerifierOptions {
  readonly keys: UserKeySource;
  /** JWT_ISSUER; the SPEC §8 seed is DEFAULT_JWT_ISSUER. */
  readonly issuer: string;
  /** JWT_AUDIENCE; the SPEC §8 seed is DEFAULT_JWT_AUDIENCE. */
  readonly audience: string;
  /** Leeway for `exp`, `nbf` and `iat` between clocks. */
  readonly clockToleranceSeconds: number;
  /** Tokens issued longer ago than this are refused whatever their `exp` says (SPEC §8: 1 h). */
  readonly maxTokenAgeSeconds: number;
  /** The claim holding the roles: an array, or a space-separated string. */
  readonly rolesClaim: string;
  /** Default: the system clock. */
  readonly now?: () => number;
}

export type UserTokenCheck =
  | { readonly ok: true; readonly caller: Caller }
  | { readonly ok: false; /** For logs: jose's error code, never the token or its claims. */ readonly reason: string };

export interface UserTokenVerifier {
  verify(token: string): Promise<UserTokenCheck>;
}

type KeyResolver = CryptoKey | JWTVerifyGetKey;

function reasonOf(error: unknown): string {
  return error instanceof Error ? ((error as { code?: string }).code ?? error.message) : 'invalid';
}

/** Builds a verifier; PEM keys are parsed here, so a bad key file fails at start. */
export async function createUserTokenVerifier(options: UserTokenVerifierOptions): Promise<UserTokenVerifier> {
  const now = options.now ?? Date.now;
  const resolvers: KeyResolver[] =
    'jwksUrl' in options.keys
      ? [createRemoteJWKSet(new URL(options.keys.jwksUrl))]
      : await Promise.all(options.keys.publicKeysPem.map((pem) => importSPKI(pem, ALGORITHM)));
  if (resolvers.length === 0) throw new Error('no public key to verify tokens with');
  const verified = new ExpiringCache<UserTokenCheck & { ok: true }>(CACHE_ENTRIES, now);

  const verifyWith = async (token: string, key: KeyResolver) => {
    const checks: JWTVerifyOptions = {
      algorithms: [ALGORITHM],
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: options.clockToleranceSeconds,
      maxTokenAge: options.maxTokenAgeSeconds,
      requiredClaims: ['sub', 'exp', 'iat'],
      currentDate: new Date(now()),
    };
    return typeof key === 'function' ? jwtVerify(token, key, checks) : jwtVerify(token, key, checks);
  };

  return {
    async verify(token) {
      const cached = verified.get(token);
      if (cached !== undefined) return cached;
      let payload: JWTPayload | undefined;
      let reason = 'invalid';
      // Several PEM keys during a rotation: the one that verifies the signature decides; any other failure
      // (expired, wrong audience) is the token's own and ends the search.
      for (const key of resolvers) {
        try {
          payload = (await verifyWith(token, key)).payload;
          break;
        } catch (error) {
          reason = reasonOf(error);
          if (reason !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') break;
        }
      }
      if (payload === undefined) return { ok: false, reason };
      const check = {
        ok: true as const,
        caller: { kind: 'user' as const, subject: payload.sub!, roles: rolesFromClaim(payload[options.rolesClaim]) },
      };
      const ageLimit = (payload.iat! + options.maxTokenAgeSeconds) * 1000;
      verified.set(token, check, Math.min(payload.exp! * 1000, ageLimit));
      return check;
    },
  };
}

export interface UserTokenClaims {
  readonly subject: string;
  readonly roles: readonly Role[];
  readonly ttlSeconds: number;
  readonly issuer: string;
  readonly audience: string;
  /** Default: the system clock. */
  readonly now?: () => number;
}

/**
 * Signs a token as an identity provider would (the local stack's credentials, `npm run token`, tests). Its `kid`
 * is the key's JWK thumbprint, so the same key published in a JWKS matches it.
 */
export async function signUserToken(privateKeyPem: string, claims: UserTokenClaims): Promise<string> {
  const key = await importPKCS8(privateKeyPem, ALGORITHM, { extractable: true });
  const issuedAt = Math.floor((claims.now ?? Date.now)() / 1000);
  return new SignJWT({ roles: [...claims.roles] })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT', kid: await calculateJwkThumbprint(await exportJWK(key)) })
    .setSubject(claims.subject)
    .setIssuer(claims.issuer)
    .setAudience(claims.audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + claims.ttlSeconds)
    .sign(key);
}

/** A fresh RSA key pair for signing people's tokens, as PEM (PKCS#8 private, SPKI public). */
export async function generateUserSigningKeys(): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, { modulusLength: 2048, extractable: true });
  return { privateKeyPem: await exportPKCS8(privateKey), publicKeyPem: await exportSPKI(publicKey) };
}
