/**
 * Who is calling the gateway (SPEC §8): `Authorization: Bearer <JWT>` for people and tools, an API key for agents
 * and read-only tools (`Authorization: Bearer hmd_…` or the OTLP-customary `x-api-key`), or either as the password
 * of `Authorization: Basic` (what Grafana's data sources offer; the user name is not read). Failures carry the catalog's words: no usable
 * header is 401 "Missing or invalid authorization header", a credential that does not verify 401 "Invalid token".
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Caller, UserTokenVerifier } from '@heimdall/shared/auth';
import { type HeimdallError, heimdallError } from '@heimdall/shared/errors';
import type { Logger } from '@heimdall/shared/telemetry';
import { API_KEY_PREFIX, type ApiKeys } from './api-keys.js';

export type Authentication =
  { readonly ok: true; readonly caller: Caller } | { readonly ok: false; readonly error: HeimdallError };

export interface Authenticator {
  authenticate(headers: IncomingHttpHeaders): Promise<Authentication>;
}

/** Every caller when AUTH_DISABLED=true: an admin, so everything works as it did before authentication. */
export const ANONYMOUS_ADMIN: Caller = { kind: 'user', subject: 'anonymous', roles: ['admin'] };

const BEARER = /^Bearer +(\S+) *$/i;
const BASIC = /^Basic +([A-Za-z0-9+/=]+) *$/i;

/** The password of a Basic credential (`user:password`, base64); undefined when there is none. */
function basicPassword(authorization: string): string | undefined {
  const encoded = BASIC.exec(authorization)?.[1];
  if (encoded === undefined) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const password = colon < 0 ? '' : decoded.slice(colon + 1).trim();
  return password === '' ? undefined : password;
}

export function missingCredentials(): HeimdallError {
  return heimdallError('UNAUTHENTICATED', { message: 'Missing or invalid authorization header' });
}

export function invalidToken(): HeimdallError {
  return heimdallError('UNAUTHENTICATED', { message: 'Invalid token' });
}

export class CredentialAuthenticator implements Authenticator {
  constructor(
    private readonly deps: {
      readonly tokens: UserTokenVerifier;
      readonly apiKeys: Pick<ApiKeys, 'verify'>;
      readonly logger: Logger;
    },
  ) {}

  async authenticate(headers: IncomingHttpHeaders): Promise<Authentication> {
    const authorization = headers.authorization;
    const apiKey = headers['x-api-key'];
    let credential: string;
    if (authorization !== undefined) {
      const given = BEARER.exec(authorization)?.[1] ?? basicPassword(authorization);
      if (given === undefined) return { ok: false, error: missingCredentials() };
      credential = given;
    } else if (typeof apiKey === 'string' && apiKey !== '') {
      credential = apiKey.trim();
    } else {
      return { ok: false, error: missingCredentials() };
    }
    if (credential.startsWith(API_KEY_PREFIX)) {
      const check = await this.deps.apiKeys.verify(credential);
      if (check.ok) return check;
      this.deps.logger.debug({ credential: 'api key' }, 'unknown or revoked API key refused');
      return { ok: false, error: invalidToken() };
    }
    const check = await this.deps.tokens.verify(credential);
    if (check.ok) return check;
    // The reason is jose's error code (expired, audience…), never the token or its claims.
    this.deps.logger.debug({ credential: 'jwt', reason: check.reason }, 'token refused');
    return { ok: false, error: invalidToken() };
  }
}

/** AUTH_DISABLED=true: everyone is an admin. */
export const openDoor: Authenticator = {
  authenticate: () => Promise.resolve({ ok: true, caller: ANONYMOUS_ADMIN }),
};
