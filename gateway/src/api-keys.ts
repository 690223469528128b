/**
 * API keys (SPEC §8): for agents (role agent: ingest only) and for read-only tools such as Grafana's data sources
 * (role viewer: reads, never writes nor ingest). Created and revoked by admins through GraphQL, shown once, stored hashed in the
 * Redis every gateway instance shares. A key is `hmd_<id>_<secret>`: the id finds its record, the SHA-256 of the
 * whole key must match the stored hash. A fast hash is enough here, unlike for passwords: the secret is 256 random
 * bits, so there is nothing to guess, and agents present the key on every push.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type Caller, ExpiringCache, type Role } from '@heimdall/shared/auth';

/** Every key starts with it, so a Bearer credential tells at once whether it is a key or a JWT. */
export const API_KEY_PREFIX = 'hmd_';
const KEY_PATTERN = /^hmd_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/;
const RECORDS = 'heimdall:api-keys';
const CACHE_ENTRIES = 10_000;

/** The roles a key can carry: an agent's, or a viewer's for read-only tools. Never more. */
export const API_KEY_ROLES = ['agent', 'viewer'] as const satisfies readonly Role[];
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

/** What is known of a key; never the key itself. */
export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  /** The subject of the admin who created it. */
  readonly createdBy: string;
  readonly role: ApiKeyRole;
}

interface StoredRecord extends ApiKeyRecord {
  /** SHA-256 of the whole key, hex. */
  readonly hash: string;
}

export type ApiKeyCheck = { readonly ok: true; readonly caller: Caller } | { readonly ok: false };

export interface ApiKeys {
  create(name: string, createdBy: string, role?: ApiKeyRole): Promise<{ record: ApiKeyRecord; key: string }>;
  /** False when there was no such key. */
  revoke(id: string): Promise<boolean>;
  list(): Promise<ApiKeyRecord[]>;
  verify(key: string): Promise<ApiKeyCheck>;
}

/** Keys made before keys had roles were agents' keys; a stored value that is not a key's role grants no more. */
function roleOf(stored: unknown): ApiKeyRole {
  return stored === 'viewer' ? 'viewer' : 'agent';
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export interface RedisApiKeysOptions {
  /**
   * How long this instance trusts what it last read about a key (found or not). At most 5 s: a key revoked through
   * another instance stops working here within that time.
   */
  readonly cacheMs: number;
  /** Default: the system clock. */
  readonly now?: () => number;
}

export class RedisApiKeys implements ApiKeys {
  private readonly cache: ExpiringCache<ApiKeyCheck>;
  private readonly now: () => number;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisApiKeysOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.cache = new ExpiringCache(CACHE_ENTRIES, this.now);
  }

  async create(
    name: string,
    createdBy: string,
    role: ApiKeyRole = 'agent',
  ): Promise<{ record: ApiKeyRecord; key: string }> {
    const id = randomBytes(8).toString('hex');
    const key = `${API_KEY_PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
    const record: ApiKeyRecord = { id, name, createdAt: new Date(this.now()).toISOString(), createdBy, role };
    await this.redis.hset(
      RECORDS,
      id,
      JSON.stringify({ ...record, hash: sha256(key).toString('hex') } satisfies StoredRecord),
    );
    return { record, key };
  }

  async revoke(id: string): Promise<boolean> {
    const removed = (await this.redis.hdel(RECORDS, id)) > 0;
    // This instance forgets at once; the others within cacheMs.
    if (removed) this.cache.clear();
    return removed;
  }

  async list(): Promise<ApiKeyRecord[]> {
    const stored = Object.values(await this.redis.hgetall(RECORDS)).map((json) => JSON.parse(json) as StoredRecord);
    return stored
      .map(({ id, name, createdAt, createdBy, role }) => ({ id, name, createdAt, createdBy, role: roleOf(role) }))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async verify(key: string): Promise<ApiKeyCheck> {
    const id = KEY_PATTERN.exec(key)?.[1];
    if (id === undefined) return { ok: false };
    const hash = sha256(key);
    const cacheKey = hash.toString('hex');
    const cached = this.cache.get(cacheKey);
    if (cached !== undefined) return cached;
    const json = await this.redis.hget(RECORDS, id);
    const stored = json === null ? undefined : (JSON.parse(json) as StoredRecord);
    const check: ApiKeyCheck =
      stored !== undefined && timingSafeEqual(Buffer.from(stored.hash, 'hex'), hash)
        ? { ok: true, caller: { kind: 'apiKey', subject: id, roles: [roleOf(stored.role)] } }
        : { ok: false };
    this.cache.set(cacheKey, check, this.now() + this.options.cacheMs);
    return check;
  }
}
