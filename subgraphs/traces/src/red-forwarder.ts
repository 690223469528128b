import { toBinary } from '@bufbuild/protobuf';
import { type ExportMetricsServiceRequest, otlp } from '@heimdall/shared/otlp';
import { HttpStatusError } from '@heimdall/shared/resilience';

export type DropReason = 'buffer_full' | 'refused' | 'shutdown';

/** What the forwarder reports, for `/metrics`. */
export interface RedForwarderObserver {
  pending(points: number): void;
  sent(points: number): void;
  dropped(points: number, reason: DropReason): void;
  sendFailed(error: unknown): void;
}

export interface RedForwarderOptions {
  /**
   * Points that may wait for the metrics subgraph; beyond, the oldest exports are dropped. They wait encoded, about
   * 300 bytes a point. Default 100,000.
   */
  readonly maxPendingPoints?: number;
  /** Points sent in one request at most (one export is never split). Default 20,000. */
  readonly maxBatchPoints?: number;
  /** Pause after a failed send; it doubles with each failure in a row, up to `maxRetryDelayMs`. Default 1000. */
  readonly retryDelayMs?: number;
  /** Default 30,000. */
  readonly maxRetryDelayMs?: number;
  readonly observer?: RedForwarderObserver;
}

interface Queued {
  /** The export in protobuf. */
  readonly body: Uint8Array;
  readonly points: number;
}

const NO_OBSERVER: RedForwarderObserver = {
  pending: () => undefined,
  sent: () => undefined,
  dropped: () => undefined,
  sendFailed: () => undefined,
};

/**
 * Sends the RED metrics derived from trace pushes to the metrics subgraph's OTLP ingest, in the background: a trace
 * push never waits for them and never fails for them. While the metrics subgraph is down or slow the exports wait
 * in memory, bounded by points; a full buffer drops its oldest exports, and so does a shutdown that cannot send
 * what waits. Both are counted, so what can be lost is visible: the RED points of a metrics outage longer than the
 * buffer holds, and of a traces instance that stops or crashes before sending them. Exports that wait together are
 * sent as one request; a send that fails is tried again after a pause that grows while failures go on. The metrics
 * ingest drops a point it already stored (same series and time), so sending one twice counts it once.
 */
export class RedMetricsForwarder {
  private readonly maxPendingPoints: number;
  private readonly maxBatchPoints: number;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly observer: RedForwarderObserver;
  private queue: Queued[] = [];
  /** Points queued or being sent. */
  private pendingPoints = 0;
  private sending: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failuresInARow = 0;
  private closed = false;

  constructor(
    private readonly send: (body: Uint8Array) => Promise<void>,
    options: RedForwarderOptions = {},
  ) {
    this.maxPendingPoints = options.maxPendingPoints ?? 100_000;
    this.maxBatchPoints = options.maxBatchPoints ?? 20_000;
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 30_000;
    this.observer = options.observer ?? NO_OBSERVER;
  }

  /** Queues an export for sending; returns at once. */
  submit(request: ExportMetricsServiceRequest): void {
    const points = countPoints(request);
    if (points === 0) return;
    if (this.closed) {
      this.observer.dropped(points, 'shutdown');
      return;
    }
    this.queue.push({ body: toBinary(otlp.ExportMetricsServiceRequestSchema, request), points });
    this.pendingPoints += points;
    while (this.pendingPoints > this.maxPendingPoints && this.queue.length > 0) {
      const oldest = this.queue.shift()!;
      this.pendingPoints -= oldest.points;
      this.observer.dropped(oldest.points, 'buffer_full');
    }
    this.observer.pending(this.pendingPoints);
    this.start();
  }

  /**
   * Stops taking exports and sends what waits, unless sends are failing (then it would only wait for a timeout);
   * what is left is dropped and counted. Resolves once nothing is being sent.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.sending;
    if (this.failuresInARow === 0 && this.queue.length > 0) await this.drain();
    const left = this.queue.reduce((sum, q) => sum + q.points, 0);
    this.queue = [];
    this.pendingPoints = 0;
    if (left > 0) this.observer.dropped(left, 'shutdown');
    this.observer.pending(0);
  }

  private start(): void {
    if (this.sending !== undefined || this.retryTimer !== undefined || this.queue.length === 0) return;
    this.sending = this.drain().finally(() => {
      this.sending = undefined;
      // An export queued after the last batch was taken, before this callback ran, would otherwise wait for the next.
      if (!this.closed) this.start();
    });
  }

  /** Sends batch after batch until the queue is empty or a send fails (then a retry is scheduled). */
  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.takeBatch();
      const points = batch.reduce((sum, q) => sum + q.points, 0);
      try {
        await this.send(encodeBatch(batch));
        this.failuresInARow = 0;
        this.pendingPoints -= points;
        this.observer.sent(points);
      } catch (error) {
        this.observer.sendFailed(error);
        if (isRefused(error)) {
          // The metrics ingest refused the request itself: sending it again would be refused again.
          this.pendingPoints -= points;
          this.observer.dropped(points, 'refused');
        } else {
          this.queue.unshift(...batch);
          this.failuresInARow++;
          if (!this.closed) this.scheduleRetry();
          return;
        }
      } finally {
        this.observer.pending(this.pendingPoints);
      }
    }
  }

  private scheduleRetry(): void {
    const delay = Math.min(this.maxRetryDelayMs, this.retryDelayMs * 2 ** (this.failuresInARow - 1));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.start();
    }, delay);
    this.retryTimer.unref();
  }

  /** The oldest exports, up to `maxBatchPoints` (at least one). */
  private takeBatch(): Queued[] {
    let points = 0;
    let count = 0;
    while (count < this.queue.length && (count === 0 || points + this.queue[count]!.points <= this.maxBatchPoints)) {
      points += this.queue[count]!.points;
      count++;
    }
    return this.queue.splice(0, count);
  }
}

/** Data points of an export: a histogram point counts as one, like a sum's. */
export function countPoints(request: ExportMetricsServiceRequest): number {
  let points = 0;
  for (const rm of request.resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      for (const metric of sm.metrics) {
        const data = metric.data;
        if (data.case !== undefined) points += data.value.dataPoints.length;
      }
    }
  }
  return points;
}

/** One export of all the batch's resource metrics: protobuf messages concatenated merge their repeated fields. */
function encodeBatch(batch: readonly Queued[]): Uint8Array {
  return batch.length === 1 ? batch[0]!.body : Buffer.concat(batch.map((q) => q.body));
}

/** A 4xx other than 429: the request, not the moment, was wrong. */
function isRefused(error: unknown): boolean {
  return error instanceof HttpStatusError && error.status >= 400 && error.status < 500 && error.status !== 429;
}
