import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ResilienceMetrics, createResiliencePolicy } from '@heimdall/shared/resilience';
import type { LogDocument } from '../log-document.js';
import { LogQueue, messageFields, parseMessage, queueKeys, streamIdTime } from './log-queue.js';

describe('queued messages', () => {
  it('carry documents through a stream entry unchanged, line breaks and Korean included', () => {
    const documents = [
      { id: '0190-a', source: JSON.stringify({ message: '결제가\n실패했습니다', labels: { 'a,b': 'c' } }) },
      { id: '0190-b', source: JSON.stringify({ message: 'second' }) },
    ];
    expect(parseMessage(messageFields(documents))).toEqual(documents);
  });

  it('are not read from fields of another shape', () => {
    expect(parseMessage(['ids', 'a,b', 'docs', '{}'])).toBeUndefined();
    expect(parseMessage(['docs', '{}'])).toBeUndefined();
    expect(parseMessage(['x', 'ids', 'a', 'docs'])).toBeUndefined();
  });

  it('tell when they were queued, and name their keys after the stream', () => {
    expect(streamIdTime('1795918408959-3')).toBe(1795918408959);
    expect(queueKeys('heimdall:logs:entries')).toEqual({
      stream: 'heimdall:logs:entries',
      dead: 'heimdall:logs:entries:dead',
      backlog: 'heimdall:logs:entries:backlog',
    });
  });
});

describe('the queue', () => {
  /** A Redis whose writes (the API's enqueue) or reads (the dead letters) fail as a dropped connection does. */
  function failingRedis(fails: 'writes' | 'reads') {
    const dropped = () => Promise.reject(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    const multi = {
      xadd: () => multi,
      incrby: () => multi,
      exec: () => (fails === 'writes' ? dropped() : Promise.resolve([[null, 'ok']])),
    };
    return {
      get: () => Promise.resolve('0'),
      multi: () => multi,
      xrange: () => (fails === 'reads' ? dropped() : Promise.resolve([])),
    } as unknown as Redis;
  }
  const queueOn = (redis: Redis) => {
    const metrics = new ResilienceMetrics(new Registry());
    const once = { retry: { maxAttempts: 1 } };
    return new LogQueue(
      redis,
      {
        ingest: createResiliencePolicy('redis_ingest', once, metrics),
        read: createResiliencePolicy('redis', once, metrics),
      },
      'heimdall:logs:test',
      { maxEntries: 1000 },
    );
  };
  const entry: LogDocument = {
    id: 'a',
    timestamp: '2026-11-22T10:00:00.000000000Z',
    level: 'INFO',
    message: 'ok',
    service: 'checkout',
    labels: {},
  };

  it('keeps serving its dead letters while enqueueing fails, and keeps accepting entries while reads fail', async () => {
    const writesFail = queueOn(failingRedis('writes'));
    for (let i = 0; i < 10; i++)
      await expect(writesFail.enqueue([entry])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(writesFail.deadLetters(10)).resolves.toEqual([]);

    const readsFail = queueOn(failingRedis('reads'));
    for (let i = 0; i < 10; i++) await expect(readsFail.deadLetters(10)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(readsFail.enqueue([entry])).resolves.toBeUndefined();
  });
});
