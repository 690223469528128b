// What the benchmarks share to measure: percentiles, a load from concurrent clients, and the clean-up of a run's keys.
import { Redis } from 'ioredis';

/** The p-th percentile of values sorted ascending. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `work` on `clients` concurrent clients, client c taking items c, c + clients, …; the elapsed ms. */
export async function concurrently<T>(
  items: readonly T[],
  clients: number,
  work: (item: T) => Promise<void>,
): Promise<number> {
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = c; i < items.length; i += clients) await work(items[i]!);
    }),
  );
  return performance.now() - started;
}

/** Deletes every Redis key under `prefix` (`<prefix>:…`): a run's queues and schedules. */
export async function removeRedisKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
