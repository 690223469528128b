import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { localStack } from '../testing.js';

const local = localStack(process.env);

describe('Redis', () => {
  beforeAll(() => local.require('redis'));

  it('keeps a write across a server restart (append-only file)', async () => {
    const key = `test:restart:${randomUUID()}`;
    const before = new Redis(local.endpoints.redisUrl);
    await before.set(key, 'survives restarts');
    await before.quit();

    const [server] = local.stack.select(['redis']);
    await local.stack.down([server!]);
    await local.stack.up([server!]);

    const after = new Redis(local.endpoints.redisUrl);
    try {
      expect(await after.get(key)).toBe('survives restarts');
      expect(await after.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    } finally {
      await after.del(key);
      await after.quit();
    }
  });
});
