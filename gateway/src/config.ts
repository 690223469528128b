import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER, ROLES, type Role } from '@heimdall/shared/auth';
import { listenPort, positiveInt, serviceEnvSchema } from '@heimdall/shared/config';

const flag = () => z.enum(['true', 'false']).transform((value) => value === 'true');

const list = () =>
  z.string().transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  );

/** `agent=1000,viewer=50`: requests per RATE_LIMIT_PERIOD_SECONDS for callers holding that role. */
const perRole = () =>
  list().transform((items, ctx) => {
    const limits: Partial<Record<Role, number>> = {};
    for (const item of items) {
      const [role, value] = item.split('=').map((part) => part.trim());
      const limit = Number(value);
      if (!(ROLES as readonly string[]).includes(role ?? '') || !Number.isInteger(limit) || limit <= 0) {
        ctx.addIssue({
          code: 'custom',
          message: `"${item}" is not role=requests with a role among ${ROLES.join(', ')}`,
        });
        return z.NEVER;
      }
      limits[role as Role] = limit;
    }
    return limits;
  });

export const gatewayEnvSchema = serviceEnvSchema(4000)
  .extend({
    /** `production` turns introspection off by default and refuses AUTH_DISABLED. */
    NODE_ENV: z.string().optional(),
    /** The single OTLP/HTTP endpoint for agents; each signal goes on to its owner. */
    OTLP_PORT: listenPort().default(4318),
    /**
     * How long a subgraph that lost its last passing instance stays in the supergraph: its fields keep
     * validating and answer UNAVAILABLE, so dashboards get partial data through a restart or an outage.
     */
    SUBGRAPH_RETENTION_MS: z.coerce.number().int().min(0).default(300_000),
    /** Per subgraph call (SPEC §7: 3 s). */
    SUBGRAPH_TIMEOUT_MS: positiveInt().default(3000),
    /**
     * How long one OTLP request forwarded from :4318 may take, from the agent's request to the end of the owner's
     * answer; then the agent gets 503 + Retry-After and the forward is ended.
     */
    OTLP_FORWARD_TIMEOUT_MS: positiveInt().default(30_000),
    /** How long an open breaker waits before letting a trial call through (SPEC §7: 30 s). */
    SUBGRAPH_BREAKER_HALF_OPEN_MS: positiveInt().default(30_000),
    /** The built web console served at / (`npm run build` writes it); missing, / says how to build it. */
    CONSOLE_DIR: z
      .string()
      .min(1)
      .default(fileURLToPath(new URL('../../console/dist', import.meta.url))),
    /** API keys and rate-limit buckets, shared by every gateway instance. */
    REDIS_URL: z.url().default('redis://127.0.0.1:6379'),

    /** Turns authentication off: every caller is an admin. Logged as a warning at every start; refused in production. */
    AUTH_DISABLED: flag().default(false),
    /** The `iss` people's tokens must carry (SPEC §8 seed). */
    JWT_ISSUER: z.string().min(1).default(DEFAULT_JWT_ISSUER),
    /** The `aud` people's tokens must carry (SPEC §8 seed). */
    JWT_AUDIENCE: z.string().min(1).default(DEFAULT_JWT_AUDIENCE),
    /** The identity provider's JWKS, for RS256 keys. Exclusive with JWT_PUBLIC_KEY_FILE. */
    JWT_JWKS_URL: z.url().optional(),
    /** PEM (SPKI) public key files, comma-separated (several during a key rotation). `npm start` makes one. */
    JWT_PUBLIC_KEY_FILE: list().pipe(z.array(z.string()).min(1)).optional(),
    /** The claim holding a token's roles: an array, or a space-separated string. */
    JWT_ROLES_CLAIM: z.string().min(1).default('roles'),
    /** Leeway between clocks for `exp`, `nbf`, `iat`. */
    JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
    /** Tokens issued longer ago are refused whatever their `exp` (SPEC §8: 1 h). */
    JWT_MAX_TOKEN_AGE_SECONDS: positiveInt().default(3600),
    /**
     * How long a gateway instance trusts what it last read about an API key. At most 5 s: a revoked key stops
     * working on every instance within that time.
     */
    API_KEY_CACHE_MS: z.coerce.number().int().min(0).max(5000).default(2000),

    /** Requests each client may make per RATE_LIMIT_PERIOD_SECONDS (a token bucket holding as many). */
    RATE_LIMIT_REQUESTS: positiveInt().default(100),
    /** The period RATE_LIMIT_REQUESTS refills over. */
    RATE_LIMIT_PERIOD_SECONDS: positiveInt().default(1),
    /** Per-role limits replacing RATE_LIMIT_REQUESTS, e.g. `agent=1000,viewer=50`; a caller gets its roles' highest. */
    RATE_LIMIT_BY_ROLE: perRole().default({}),

    /** Deepest selection nesting a query may have. */
    GRAPHQL_MAX_DEPTH: positiveInt().default(10),
    /** Aliases one query may use. */
    GRAPHQL_MAX_ALIASES: positiveInt().default(15),
    /** Directives one query may use. */
    GRAPHQL_MAX_DIRECTIVES: positiveInt().default(20),
    /** Lexical tokens one query may have. */
    GRAPHQL_MAX_TOKENS: positiveInt().default(2000),
    /**
     * Cost one operation may have: each field 1, a list's selection times the size it asks for. Twice the costliest
     * list at its default size with every field of its items (`traces`, about 50,000): every default is usable,
     * while a size far past a documented maximum (`alertRules(first: 1000000)`) is not.
     */
    GRAPHQL_MAX_COST: positiveInt().default(100_000),
    /** The size assumed for a list that asks for none (no `limit`, `first` or `last`). */
    GRAPHQL_DEFAULT_LIST_SIZE: positiveInt().default(10),
    /** Operations one batched HTTP request may carry. */
    GRAPHQL_MAX_BATCH: positiveInt().default(10),
    /** Schema introspection; default on, off with NODE_ENV=production. */
    GRAPHQL_INTROSPECTION: flag().optional(),
    /** Browser origins allowed to call :4000, comma-separated, or `*`; none by default. */
    CORS_ORIGINS: list().default([]),

    /** How long a query's answer about the past (every instant it names over a minute ago) is cached; 0 turns the answer cache off. */
    RESPONSE_CACHE_TTL_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
    /** How long an answer that may still change is cached: a window reaching into the last minute, or no instant at all. */
    RESPONSE_CACHE_LIVE_TTL_MS: z.coerce.number().int().min(0).max(10_000).default(2_000),
    /** Bytes of answers each gateway instance keeps in memory (L1); Redis (L2) keeps them for every instance. */
    RESPONSE_CACHE_MAX_BYTES: positiveInt().default(64 * 1024 * 1024),
  })
  .superRefine((env, ctx) => {
    if (env.AUTH_DISABLED && env.NODE_ENV === 'production') {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_DISABLED'],
        message: 'authentication cannot be turned off with NODE_ENV=production',
      });
    }
    if (!env.AUTH_DISABLED && env.JWT_JWKS_URL === undefined && env.JWT_PUBLIC_KEY_FILE === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_PUBLIC_KEY_FILE'],
        message: 'set JWT_PUBLIC_KEY_FILE or JWT_JWKS_URL (or AUTH_DISABLED=true, locally only)',
      });
    }
    if (env.JWT_JWKS_URL !== undefined && env.JWT_PUBLIC_KEY_FILE !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_JWKS_URL'],
        message: 'set JWT_JWKS_URL or JWT_PUBLIC_KEY_FILE, not both',
      });
    }
  });

export type GatewayConfig = z.output<typeof gatewayEnvSchema>;

/** Whether introspection is on: as configured, else everywhere but production. */
export function introspectionEnabled(config: GatewayConfig): boolean {
  return config.GRAPHQL_INTROSPECTION ?? config.NODE_ENV !== 'production';
}
