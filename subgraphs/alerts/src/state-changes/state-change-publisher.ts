/**
 * State changes published for the notification pipeline (issue 13) on the BullMQ queue `alert-state-changes`, one
 * job per change: name `state-change`, data an AlertStateChange, job id `state-change-<history id>`.
 *
 * Durable: an evaluation records its changes in the history in the same transaction as the new states (the
 * outbox); they are then put on the queue and marked published. A change whose publication failed (Redis down,
 * the instance stopped in between) stays unpublished and is published again, by this instance or another, every
 * STATE_CHANGE_RETRY_INTERVAL_MS. The job id makes a change published twice (marked published only after a crash)
 * one job while the job is kept (24 h); the consumer's idempotency key covers the rest. On the queue, a change is as
 * durable as Redis makes it (AOF, fsync every second locally).
 */
import { type ConnectionOptions, Queue } from 'bullmq';
import type { Logger } from '@heimdall/shared/telemetry';
import type { AlertStateChange, AlertsStore } from '../store/index.js';
import { CoalescedRun } from '../coalesced-run.js';

export const STATE_CHANGES_QUEUE = 'alert-state-changes';

/** Changes published per transaction. */
const BATCH = 500;
const KEEP_SECONDS = 86_400;
/** 1 s doubling: about 4 minutes of tries in all. */
const CONSUME_ATTEMPTS = 9;

export interface StateChangePublisherOptions {
  readonly connection: ConnectionOptions;
  readonly prefix: string;
  readonly store: Pick<AlertsStore, 'publishPending'>;
  /** How often unpublished changes are looked for (ms). */
  readonly retryIntervalMs: number;
  readonly logger: Logger;
  readonly onPublished?: (count: number) => void;
  readonly onFailure?: (error: unknown) => void;
}

export class StateChangePublisher {
  private readonly queue: Queue<AlertStateChange>;
  private timer: NodeJS.Timeout | undefined;
  private readonly runs = new CoalescedRun(() => this.drain());

  constructor(private readonly options: StateChangePublisherOptions) {
    this.queue = new Queue<AlertStateChange>(STATE_CHANGES_QUEUE, {
      connection: options.connection,
      prefix: options.prefix,
    });
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.kick(), this.options.retryIntervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Publishes what is pending now; calls while a run is under way make it run once more. */
  kick(): void {
    this.runs.kick();
  }

  private async drain(): Promise<void> {
    try {
      let published: number;
      do {
        published = await this.options.store.publishPending((changes) => this.publish(changes), BATCH);
        if (published > 0) this.options.onPublished?.(published);
      } while (published === BATCH && !this.runs.isStopped);
    } catch (error) {
      this.options.onFailure?.(error);
      this.options.logger.warn({ err: error }, 'publishing alert state changes failed; retrying later');
    }
  }

  private async publish(changes: readonly AlertStateChange[]): Promise<void> {
    await this.queue.addBulk(
      changes.map((change) => ({
        name: 'state-change',
        data: change,
        opts: {
          jobId: `state-change-${change.id}`,
          // The notification pipeline applies it in PostgreSQL: an outage of a minute or two must not lose it.
          attempts: CONSUME_ATTEMPTS,
          backoff: { type: 'exponential', delay: 1000 },
          removeOnComplete: { age: KEEP_SECONDS },
          removeOnFail: { age: KEEP_SECONDS },
        },
      })),
    );
  }

  /** Stops looking for changes, lets a run under way finish and closes the queue. */
  async close(): Promise<void> {
    const publishing = this.runs.stop();
    clearInterval(this.timer);
    await publishing;
    await this.queue.close();
  }
}
