import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localStack } from '@heimdall/stack';
import { RedisApiKeys } from './api-keys.js';

const local = localStack(process.env);
let redis: Redis;
const created: string[] = [];

beforeAll(async () => {
  await local.require('redis');
  redis = new Redis(local.endpoints.redisUrl);
});
afterAll(async () => {
  for (const id of created) await redis.hdel('heimdall:api-keys', id);
  redis.disconnect();
});

function makeKeys(clock = { now: Date.now() }) {
  return { keys: new RedisApiKeys(redis, { cacheMs: 2000, now: () => clock.now }), clock };
}

describe('API keys in Redis', () => {
  it('verify the key created, as an agent, and store only its hash', async () => {
    const { keys } = makeKeys();
    const { record, key } = await keys.create('edge collector', 'root');
    created.push(record.id);

    expect(key).toMatch(/^hmd_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(await keys.verify(key)).toEqual({
      ok: true,
      caller: { kind: 'apiKey', subject: record.id, roles: ['agent'] },
    });
    const stored = await redis.hget('heimdall:api-keys', record.id);
    expect(stored).not.toContain(key.split('_').slice(2).join('_'));
    expect(JSON.parse(stored!)).toMatchObject({
      name: 'edge collector',
      createdBy: 'root',
      hash: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown,
    });
  });

  it('refuse a key whose secret part is wrong, though its id exists', async () => {
    const { keys } = makeKeys();
    const { record, key } = await keys.create('guessed', 'root');
    created.push(record.id);
    const guessed = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    expect(await keys.verify(guessed)).toEqual({ ok: false });
  });

  it('list records without keys or hashes, oldest first', async () => {
    const { keys, clock } = makeKeys({ now: Date.parse('2020-01-01T00:00:00Z') });
    const first = await keys.create('first', 'root');
    clock.now += 1000;
    const second = await keys.create('second', 'root');
    created.push(first.record.id, second.record.id);
    const listed = (await keys.list()).filter((r) => [first.record.id, second.record.id].includes(r.id));
    expect(listed).toEqual([first.record, second.record]);
  });

  it('stop working on another instance once its cache entry expires (at most cacheMs after the revocation)', async () => {
    const clock = { now: Date.now() };
    const here = makeKeys(clock).keys;
    const elsewhere = makeKeys(clock).keys;
    const { record, key } = await here.create('revoked', 'root');
    created.push(record.id);
    expect(await elsewhere.verify(key)).toMatchObject({ ok: true });

    expect(await here.revoke(record.id)).toBe(true);
    expect(await here.verify(key)).toEqual({ ok: false });
    clock.now += 1999;
    expect(await elsewhere.verify(key)).toMatchObject({ ok: true });
    clock.now += 1;
    expect(await elsewhere.verify(key)).toEqual({ ok: false });
    expect(await here.revoke(record.id)).toBe(false);
  });
});
