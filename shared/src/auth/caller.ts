/**
 * Who is calling, as every Heimdall service sees it: a person or tool (a JWT), an agent (an API key), or another
 * Heimdall service acting on its own behalf. The gateway finds out at the edge; the services behind it read the
 * same identity from the internal token the gateway forwards (`X-Service-Auth`).
 */

/** SPEC §8: viewer reads, editor writes rules/channels/silences, admin does everything (API keys too), agent ingests. */
export const ROLES = ['viewer', 'editor', 'admin', 'agent'] as const;

export type Role = (typeof ROLES)[number];

export type CallerKind = 'user' | 'apiKey' | 'service';

export interface Caller {
  readonly kind: CallerKind;
  /** The token's `sub`, the API key's id, or `service:<name>`. */
  readonly subject: string;
  readonly roles: readonly Role[];
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/**
 * The roles a token claim grants: an array of names or one space-separated string (the OAuth `scope` habit).
 * Names that are not Heimdall roles are ignored, so an identity provider's own roles do no harm.
 */
export function rolesFromClaim(claim: unknown): Role[] {
  const names = typeof claim === 'string' ? claim.split(/\s+/) : Array.isArray(claim) ? claim : [];
  return [...new Set(names.filter(isRole))];
}

/** The identity of a Heimdall service calling another on its own behalf (the alert evaluator, RED metrics). */
export function serviceCaller(service: string): Caller {
  return { kind: 'service', subject: `service:${service}`, roles: [] };
}
