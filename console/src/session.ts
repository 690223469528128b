/**
 * The signed-in credential, kept for this tab only (sessionStorage): a token printed by `npm start` or
 * `npm run token`, or an API key. What a JWT says of its roles shapes what the console offers (a viewer sees no
 * edit controls); the gateway decides what is allowed, whatever the console shows.
 */

const KEY = 'heimdall.token';

export type Role = 'viewer' | 'editor' | 'admin' | 'agent';

export interface Session {
  readonly token: string;
  readonly subject: string;
  readonly roles: readonly Role[];
  /** Unix ms; null when the credential does not say (an API key). */
  readonly expiresAt: number | null;
}

function base64UrlJson(part: string): unknown {
  const base64 = part
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

const ROLE_NAMES: readonly string[] = ['viewer', 'editor', 'admin', 'agent'];

/** What the console can tell of a credential without asking: a JWT's subject, roles and expiry. */
export function sessionOf(token: string): Session {
  const parts = token.split('.');
  if (parts.length === 3) {
    try {
      const claims = base64UrlJson(parts[1]!) as { sub?: unknown; roles?: unknown; exp?: unknown };
      const names =
        typeof claims.roles === 'string' ? claims.roles.split(/\s+/) : Array.isArray(claims.roles) ? claims.roles : [];
      return {
        token,
        subject: typeof claims.sub === 'string' ? claims.sub : 'unknown',
        roles: names.filter((r): r is Role => typeof r === 'string' && ROLE_NAMES.includes(r)),
        expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : null,
      };
    } catch {
      // Not a JWT after all: treated like an API key below.
    }
  }
  return { token, subject: 'API key', roles: ['viewer'], expiresAt: null };
}

export function mayEdit(session: Session | null): boolean {
  return session !== null && session.roles.some((r) => r === 'editor' || r === 'admin');
}

export function readSession(): Session | null {
  const token = sessionStorage.getItem(KEY);
  return token === null || token === '' ? null : sessionOf(token);
}

export function saveSession(token: string): Session {
  sessionStorage.setItem(KEY, token);
  return sessionOf(token);
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}
