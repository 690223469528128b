import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '@heimdall/shared/auth';
import { ServiceMetrics } from '@heimdall/shared/telemetry';
import { localStack } from '@heimdall/stack';
import { makeLogger } from './logger.fixtures.js';
import { type RateLimitOptions, RateLimiter } from './rate-limit.js';

const local = localStack(process.env);
let redis: Redis;

beforeAll(async () => {
  await local.require('redis');
  redis = new Redis(local.endpoints.redisUrl);
});
afterAll(() => redis.disconnect());

function makeLimiter(
  client: Redis,
  options: RateLimitOptions = { requests: 5, periodSeconds: 3600, byRole: { agent: 8 } },
) {
  const log = makeLogger();
  return {
    limiter: new RateLimiter(client, options, new ServiceMetrics({ service: 'gateway', instance: 'test' }), log.logger),
    log,
  };
}

const person = (roles: Caller['roles']): Caller => ({ kind: 'user', subject: `rate-int-${randomUUID()}`, roles });

describe('rate limits in Redis', () => {
  it('share one bucket per client between limiter instances', async () => {
    const [a, b] = [makeLimiter(redis).limiter, makeLimiter(redis).limiter];
    const caller = person(['viewer']);
    const decisions = [];
    for (let i = 0; i < 8; i++) decisions.push((await (i % 2 === 0 ? a : b).admit(caller, '10.0.0.1', 'graphql')).ok);
    expect(decisions).toEqual([true, true, true, true, true, false, false, false]);
  });

  it("give each client its own bucket, and a caller its roles' highest limit", async () => {
    const { limiter } = makeLimiter(redis);
    const agent = person(['viewer', 'agent']);
    let allowed = 0;
    for (let i = 0; i < 10; i++) if ((await limiter.admit(agent, '10.0.0.1', 'otlp')).ok) allowed++;
    expect(allowed).toBe(8);
    expect((await limiter.admit(person(['viewer']), '10.0.0.1', 'graphql')).ok).toBe(true);
  });

  it('answer with the seconds until the next token', async () => {
    const { limiter } = makeLimiter(redis, { requests: 2, periodSeconds: 60, byRole: {} });
    const caller = person(['viewer']);
    await limiter.admit(caller, '', 'graphql');
    await limiter.admit(caller, '', 'graphql');
    const refused = await limiter.admit(caller, '', 'graphql');
    expect(refused.ok).toBe(false);
    // One token per 30 s.
    expect(refused.ok ? 0 : refused.retryAfterSeconds).toBeGreaterThan(25);
    expect(refused.ok ? 0 : refused.retryAfterSeconds).toBeLessThanOrEqual(30);
  });

  it('go on per instance, in memory, while Redis is unreachable, and say so once', async () => {
    const unreachable = new Redis({ port: 1, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    const { limiter, log } = makeLimiter(unreachable);
    const caller = person(['viewer']);
    const decisions = [];
    for (let i = 0; i < 7; i++) decisions.push((await limiter.admit(caller, '', 'graphql')).ok);
    expect(decisions).toEqual([true, true, true, true, true, false, false]);
    expect(log.warn).toHaveBeenCalledTimes(1);
    unreachable.disconnect();
  });
});
