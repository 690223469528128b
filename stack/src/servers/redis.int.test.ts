import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PrivateStack, privateStack } from '../test-stacks.js';

describe('Redis', () => {
  // A server of the test's own: restarting the shared one would pull it from under the other tests.
  let own: PrivateStack;
  beforeAll(async () => {
    own = await privateStack(['redis'], process.env);
  }, 60_000);
  afterAll(() => own.remove());

  it('keeps a write across a server restart (append-only file)', async () => {
    const key = `test:restart:${randomUUID()}`;
    const before = new Redis(own.endpoints.redisUrl);
    await before.set(key, 'survives restarts');
    await before.quit();

    await own.down();
    await own.up();

    const after = new Redis(own.endpoints.redisUrl);
    try {
      expect(await after.get(key)).toBe('survives restarts');
      expect(await after.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    } finally {
      await after.quit();
    }
  });
});
