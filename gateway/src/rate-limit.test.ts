import { describe, expect, it } from 'vitest';
import type { Caller } from '@heimdall/shared/auth';
import { clientKey, takeFromBucket } from './rate-limit.js';

describe('a token bucket', () => {
  const perMs = 10 / 1000;

  it('lets a full bucket spend its capacity at once, then refuses with the time to the next token', () => {
    let bucket;
    const outcomes: number[] = [];
    for (let i = 0; i < 11; i++) {
      const taken = takeFromBucket(bucket, 10, perMs, 0);
      bucket = taken.bucket;
      outcomes.push(taken.waitMs);
    }
    expect(outcomes.slice(0, 10)).toEqual(Array(10).fill(0));
    expect(outcomes[10]).toBe(100);
  });

  it('refills at its rate, never beyond its capacity', () => {
    let { bucket } = takeFromBucket(undefined, 10, perMs, 0);
    for (let i = 0; i < 9; i++) bucket = takeFromBucket(bucket, 10, perMs, 0).bucket;
    expect(takeFromBucket(bucket, 10, perMs, 99).waitMs).toBeGreaterThan(0);
    expect(takeFromBucket(bucket, 10, perMs, 100).waitMs).toBe(0);
    expect(takeFromBucket(bucket, 10, perMs, 60_000).bucket.tokens).toBe(9);
  });
});

describe('whose bucket a request draws from', () => {
  it("is the token's subject, the API key, or else the address", () => {
    const person: Caller = { kind: 'user', subject: 'ana', roles: ['viewer'] };
    const agent: Caller = { kind: 'apiKey', subject: 'k1', roles: ['agent'] };
    expect(clientKey(person, '10.0.0.1')).toBe('user:ana');
    expect(clientKey(agent, '10.0.0.1')).toBe('key:k1');
    expect(clientKey(undefined, '10.0.0.1')).toBe('address:10.0.0.1');
  });
});
