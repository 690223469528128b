import { HeimdallError, heimdallError } from '../errors/heimdall-error.js';

/** Options of {@link GroupCommitBatcher}. */
export interface BatcherOptions<T> {
  /**
   * What one item counts for against the limits below: the data points or bytes it holds, so that what waits is
   * bounded by what it weighs in memory, not by how many requests brought it. Default: 1 per item.
   */
  readonly sizeOf?: (item: T) => number;
  /** Flush as soon as this much waits. Default 10,000. */
  readonly maxBatchSize?: number;
  /** Flush this long after the first item of a batch arrived, full or not. Default 25 ms. */
  readonly maxDelayMs?: number;
  /**
   * What may wait or be in writing; a request that would take it past this is refused with 429, unless nothing
   * waits at all (a request larger than the whole budget alone must not be refused for ever). Default 200,000.
   */
  readonly maxPendingSize?: number;
  /** Retry-After of the requests of a write that failed on its own (not with a HeimdallError). Default 5 s. */
  readonly failedWriteRetryAfterSeconds?: number;
}

interface Waiting<T, R> {
  readonly items: readonly T[];
  readonly size: number;
  resolve(results: R[]): void;
  reject(error: unknown): void;
}

/**
 * What a write may report about each item, in item order: a result handed back to the request that brought it, or
 * an Error that fails that request alone (503 with Retry-After, unless it is a HeimdallError of its own). A write
 * that reports nothing succeeded for every item; a write that throws failed for every request of the batch.
 */
export type ItemOutcomes<R> = readonly (R | Error)[];

/**
 * Group commit: concurrent requests share one write, and each request is answered only when the write holding
 * its items has committed (or failed: then every request in it fails and nothing is acknowledged). A request's
 * items are never split across writes. Writes run one at a time, in arrival order.
 *
 * Whatever keeps a write from committing (a store down, or one that refuses it) leaves the items not durable: a
 * failure that is not already a HeimdallError becomes UNAVAILABLE with Retry-After, so senders retry rather than
 * get a 500 that OTLP clients drop.
 */
export class GroupCommitBatcher<T, R = void> {
  private readonly sizeOf: (item: T) => number;
  private readonly maxBatchSize: number;
  private readonly maxDelayMs: number;
  private readonly maxPendingSize: number;
  private readonly failedWriteRetryAfterSeconds: number;
  private queue: Waiting<T, R>[] = [];
  private queuedSize = 0;
  private writingSize = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly write: (items: T[]) => Promise<ItemOutcomes<R> | void>,
    options: BatcherOptions<T> = {},
  ) {
    this.sizeOf = options.sizeOf ?? (() => 1);
    this.maxBatchSize = options.maxBatchSize ?? 10_000;
    this.maxDelayMs = options.maxDelayMs ?? 25;
    this.maxPendingSize = options.maxPendingSize ?? 200_000;
    this.failedWriteRetryAfterSeconds = options.failedWriteRetryAfterSeconds ?? 5;
  }

  /**
   * Resolves once `items` are committed, with what the write reported for each (empty when it reported nothing).
   * Throws RATE_LIMITED at once when the backlog is full.
   */
  add(items: readonly T[]): Promise<R[]> {
    if (this.closed)
      return Promise.reject(heimdallError('UNAVAILABLE', { message: 'shutting down', retryAfterSeconds: 1 }));
    if (items.length === 0) return Promise.resolve([]);
    const size = items.reduce((sum, item) => sum + this.sizeOf(item), 0);
    const pending = this.queuedSize + this.writingSize;
    if (pending > 0 && pending + size > this.maxPendingSize) {
      return Promise.reject(heimdallError('RATE_LIMITED', { message: 'ingest backlog is full', retryAfterSeconds: 1 }));
    }
    return new Promise<R[]>((resolve, reject) => {
      this.queue.push({ items, size, resolve, reject });
      this.queuedSize += size;
      if (this.queuedSize >= this.maxBatchSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.maxDelayMs).unref();
    });
  }

  /** Writes what is waiting, then refuses new items. */
  async close(): Promise<void> {
    this.closed = true;
    this.flush();
    await this.writing;
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    const size = this.queuedSize;
    this.queue = [];
    this.queuedSize = 0;
    this.writingSize += size;
    this.writing = this.writing.then(async () => {
      try {
        const outcomes = await this.write(batch.flatMap((w) => w.items));
        let offset = 0;
        for (const waiting of batch) {
          const mine = outcomes?.slice(offset, (offset += waiting.items.length)) ?? [];
          const failed = mine.find((outcome): outcome is Error => outcome instanceof Error);
          if (failed === undefined) waiting.resolve(mine as R[]);
          else waiting.reject(this.failure(failed));
        }
      } catch (error) {
        const failure = this.failure(error);
        for (const waiting of batch) waiting.reject(failure);
      } finally {
        this.writingSize -= size;
      }
    });
  }

  private failure(error: unknown): HeimdallError {
    return error instanceof HeimdallError
      ? error
      : heimdallError('UNAVAILABLE', {
          message: `the batch was not stored: ${error instanceof Error ? error.message : String(error)}`,
          retryAfterSeconds: this.failedWriteRetryAfterSeconds,
          cause: error,
        });
  }
}
