/**
 * Rate limits per client (SPEC §8): a token bucket per client in the Redis every gateway instance shares, so the
 * limit holds for the cluster, not per instance. A bucket holds `requests` tokens and refills `requests` per
 * `periodSeconds`; each request takes one. The arithmetic runs in Redis as one script on Redis's clock, so two
 * instances never race and their clocks never disagree.
 *
 * rate-limiter-flexible's Redis limiter counts in fixed windows, which lets a client send
 * twice its limit across a window boundary; a bucket does not, hence this script. When Redis fails, each instance
 * falls back to a bucket of its own in memory, so an outage neither opens the gate nor closes it.
 */
import type { Redis } from 'ioredis';
import type { Caller, Role } from '@heimdall/shared/auth';
import type { Counter, Logger, ServiceMetrics } from '@heimdall/shared/telemetry';

const TAKE_SCRIPT = `
local capacity = tonumber(ARGV[1])
local perMs = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * perMs)
local waitMs = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  waitMs = math.ceil((1 - tokens) / perMs)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / perMs) + 1000)
return waitMs
`;

/** Buckets the in-memory fallback keeps before starting over (each client then gets a full bucket again). */
const FALLBACK_BUCKETS = 100_000;

export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

export type Entry = 'graphql' | 'otlp';

export interface RateLimitOptions {
  /** Tokens per bucket, refilled over `periodSeconds`. */
  readonly requests: number;
  readonly periodSeconds: number;
  /** Limits replacing `requests` for callers holding a role; a caller gets its roles' highest. */
  readonly byRole: Readonly<Partial<Record<Role, number>>>;
}

interface Bucket {
  tokens: number;
  at: number;
}

type TakeCommand = (key: string, capacity: number, perMs: number) => Promise<number>;

/** One bucket's arithmetic, for the in-memory fallback (the script does the same in Redis). */
export function takeFromBucket(
  bucket: Bucket | undefined,
  capacity: number,
  perMs: number,
  now: number,
): { bucket: Bucket; waitMs: number } {
  const previous = bucket ?? { tokens: capacity, at: now };
  const tokens = Math.min(capacity, previous.tokens + Math.max(0, now - previous.at) * perMs);
  if (tokens >= 1) return { bucket: { tokens: tokens - 1, at: now }, waitMs: 0 };
  return { bucket: { tokens, at: now }, waitMs: Math.ceil((1 - tokens) / perMs) };
}

/** The bucket a request draws from: the token's subject, the API key, or else the address. */
export function clientKey(caller: Caller | undefined, address: string): string {
  if (caller === undefined) return `address:${address}`;
  return caller.kind === 'apiKey' ? `key:${caller.subject}` : `${caller.kind}:${caller.subject}`;
}

export class RateLimiter {
  private readonly take: TakeCommand;
  private readonly fallback = new Map<string, Bucket>();
  private redisFailing = false;
  private readonly decisions: Counter<'entry' | 'outcome'>;
  private readonly storeFailures: Counter;

  constructor(
    redis: Redis,
    private readonly options: RateLimitOptions,
    metrics: ServiceMetrics,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    redis.defineCommand('heimdallTakeToken', { numberOfKeys: 1, lua: TAKE_SCRIPT });
    const command = (
      redis as unknown as Record<'heimdallTakeToken', (key: string, capacity: number, perMs: number) => Promise<number>>
    ).heimdallTakeToken;
    this.take = (key, capacity, perMs) => command.call(redis, key, capacity, perMs);
    this.decisions = metrics.counter(
      'heimdall_rate_limit_decisions_total',
      'Requests the rate limiter let through or refused (429), by entry point',
      ['entry', 'outcome'],
    );
    this.storeFailures = metrics.counter(
      'heimdall_rate_limit_store_failures_total',
      'Rate-limit decisions made in memory because Redis failed',
    );
  }

  /** The limit for a caller: its roles' highest configured one, or the default. */
  limitFor(caller: Caller | undefined): number {
    const limits = (caller?.roles ?? [])
      .map((role) => this.options.byRole[role])
      .filter((limit) => limit !== undefined);
    return limits.length === 0 ? this.options.requests : Math.max(...limits);
  }

  /** Takes one token from the client's bucket; refused with the seconds until the next token. */
  async admit(caller: Caller | undefined, address: string, entry: Entry): Promise<RateDecision> {
    const key = clientKey(caller, address);
    const capacity = this.limitFor(caller);
    const perMs = capacity / (this.options.periodSeconds * 1000);
    let waitMs: number;
    try {
      waitMs = await this.take(`heimdall:rate:${key}`, capacity, perMs);
      if (this.redisFailing) this.logger.info('rate limits shared through Redis again');
      this.redisFailing = false;
    } catch (error) {
      this.storeFailures.inc();
      if (!this.redisFailing)
        this.logger.warn({ err: error }, 'Redis unavailable: rate limits are per instance until it is back');
      this.redisFailing = true;
      const taken = takeFromBucket(this.fallback.get(key), capacity, perMs, this.now());
      if (this.fallback.size >= FALLBACK_BUCKETS) this.fallback.clear();
      this.fallback.set(key, taken.bucket);
      waitMs = taken.waitMs;
    }
    this.decisions.inc({ entry, outcome: waitMs === 0 ? 'allowed' : 'limited' });
    return waitMs === 0 ? { ok: true } : { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }
}
