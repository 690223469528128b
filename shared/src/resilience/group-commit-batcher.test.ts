import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GroupCommitBatcher } from './group-commit-batcher.js';

function record(writes: number[][], items: number[]): Promise<void> {
  writes.push(items);
  return Promise.resolve();
}

describe('group commit', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('writes concurrent requests together and answers each once its write committed', async () => {
    const writes: number[][] = [];
    const batcher = new GroupCommitBatcher<number>((items) => record(writes, items), { maxDelayMs: 20 });
    const settled: string[] = [];
    const a = batcher.add([1, 2]).then(() => settled.push('a'));
    const b = batcher.add([3]).then(() => settled.push('b'));
    await vi.advanceTimersByTimeAsync(19);
    expect(writes).toEqual([]);
    expect(settled).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all([a, b]);
    expect(writes).toEqual([[1, 2, 3]]);
    expect(settled).toEqual(['a', 'b']);
  });

  it('flushes at once when the batch is full', async () => {
    const writes: number[][] = [];
    const batcher = new GroupCommitBatcher<number>((items) => record(writes, items), {
      maxBatchSize: 3,
      maxDelayMs: 1000,
    });
    await Promise.all([batcher.add([1, 2]), batcher.add([3])]);
    expect(writes).toEqual([[1, 2, 3]]);
  });

  it('fails every request of a failed write and acknowledges none of them', async () => {
    const batcher = new GroupCommitBatcher<number>(() => Promise.reject(new Error('store down')), { maxDelayMs: 5 });
    const results = Promise.allSettled([batcher.add([1]), batcher.add([2])]);
    await vi.advanceTimersByTimeAsync(5);
    expect((await results).map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('hands each request what the write reported for its own items, and fails only the request whose item failed', async () => {
    const batcher = new GroupCommitBatcher<string, string>(
      (items) =>
        Promise.resolve(items.map((item) => (item === 'bad' ? new Error('shard unavailable') : `stored ${item}`))),
      { maxDelayMs: 5 },
    );
    const results = Promise.allSettled([batcher.add(['a', 'b']), batcher.add(['c', 'bad']), batcher.add(['d'])]);
    await vi.advanceTimersByTimeAsync(5);
    const [first, second, third] = await results;
    expect(first).toEqual({ status: 'fulfilled', value: ['stored a', 'stored b'] });
    expect(second).toMatchObject({ status: 'rejected', reason: { code: 'UNAVAILABLE', retryAfterSeconds: 5 } });
    expect(third).toEqual({ status: 'fulfilled', value: ['stored d'] });
  });

  it('never splits one request across two writes', async () => {
    const writes: number[][] = [];
    const batcher = new GroupCommitBatcher<number>((items) => record(writes, items), {
      maxBatchSize: 2,
      maxDelayMs: 5,
    });
    const done = Promise.all([batcher.add([1]), batcher.add([2, 3, 4])]);
    await vi.advanceTimersByTimeAsync(5);
    await done;
    expect(writes).toEqual([[1, 2, 3, 4]]);
  });

  it('refuses with RATE_LIMITED when the backlog is full, and accepts again once it drains', async () => {
    let release: () => void = () => undefined;
    const batcher = new GroupCommitBatcher<number>(() => new Promise<void>((resolve) => (release = resolve)), {
      maxBatchSize: 2,
      maxPendingSize: 3,
    });
    const first = batcher.add([1, 2]);
    await expect(batcher.add([3, 4])).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 1 });
    await vi.advanceTimersByTimeAsync(0);
    release();
    await first;
    const second = batcher.add([3, 4]);
    await vi.advanceTimersByTimeAsync(0);
    release();
    await expect(second).resolves.toEqual([]);
  });

  it('bounds what waits by what the items weigh, not by how many requests brought them', async () => {
    let release: () => void = () => undefined;
    const batcher = new GroupCommitBatcher<{ points: number }>(
      () => new Promise<void>((resolve) => (release = resolve)),
      { sizeOf: (item) => item.points, maxBatchSize: 1_000_000, maxDelayMs: 5, maxPendingSize: 150_000 },
    );
    const first = batcher.add([{ points: 100_000 }]);
    await expect(batcher.add([{ points: 100_000 }])).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterSeconds: 1,
    });
    const small = batcher.add([{ points: 50_000 }]);
    await expect(batcher.add([{ points: 1 }])).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await vi.advanceTimersByTimeAsync(5);
    release();
    await Promise.all([first, small]);
  });

  it('accepts a request larger than the whole budget when nothing else waits', async () => {
    const writes: number[][] = [];
    const batcher = new GroupCommitBatcher<number>((items) => record(writes, items), {
      maxDelayMs: 5,
      maxPendingSize: 2,
    });
    const done = batcher.add([1, 2, 3]);
    await vi.advanceTimersByTimeAsync(5);
    await done;
    expect(writes).toEqual([[1, 2, 3]]);
  });

  it('writes what waits when closed, then refuses', async () => {
    const writes: number[][] = [];
    const batcher = new GroupCommitBatcher<number>((items) => record(writes, items), { maxDelayMs: 1000 });
    const pending = batcher.add([7]);
    await batcher.close();
    await pending;
    expect(writes).toEqual([[7]]);
    await expect(batcher.add([8])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
