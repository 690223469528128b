/**
 * The notification pipeline at run time (issue 13): a BullMQ worker consuming `alert-state-changes` into the groups
 * in PostgreSQL; a flusher looking at due groups (every NOTIFICATION_FLUSH_INTERVAL_MS, and at once after a change,
 * so that a group wait of 0 sends within milliseconds); and the `notification-deliveries` queue sending each
 * message with at most 3 attempts, exponential backoff or the receiver's Retry-After, then a dead letter.
 *
 * Exactly once, as far as a receiver can tell: the message is written as a pending delivery in the transaction
 * that changes its group, keyed by (group, state, time), so a restart never makes it twice; the job id is the
 * delivery's, so enqueuing it again (the sweep of pending deliveries after a crash) is a no-op; the job sends only
 * while the delivery is pending and marks it sent right after. A crash between the receiver's answer and that mark
 * sends it again, with the same X-Heimdall-Idempotency-Key.
 */
import { type ConnectionOptions, Queue, Worker } from 'bullmq';
import type { Logger, ServiceMetrics } from '@heimdall/shared/telemetry';
import type { AlertStateChange } from '../state-changes/alert-state-change.js';
import { STATE_CHANGES_QUEUE } from '../state-changes/state-change-publisher.js';
import type { Query } from '../store/index.js';
import type { ChannelStore } from './channel-store.js';
import { deliver } from './deliver.js';
import type { ServiceMap } from './incidents.js';
import { MuteContext, sourceSeverities } from './mute.js';
import type { DeliveryOutbox } from './delivery-outbox.js';
import type { GroupStore } from './group-store.js';
import { firingSources } from './inhibit-sources.js';
import type { NotificationSettings } from './settings.js';
import { mutingRules } from './silences.js';
import { CoalescedRun } from '../coalesced-run.js';

export const DELIVERY_QUEUE = 'notification-deliveries';
export const MAX_ATTEMPTS = 3;

const FLUSH_BATCH = 100;
/** A pending delivery untouched for this long may have lost its job (a crash before enqueuing): enqueue it again. */
const SWEEP_AFTER_MS = 10_000;
const KEEP_COMPLETED_SECONDS = 86_400;

interface DeliveryJob {
  readonly id: string;
}

/** A failed attempt worth another; carries the receiver's Retry-After for the backoff. */
export class RetryableDelivery extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | null,
  ) {
    super(message);
  }
}

export function notificationMetrics(metrics: ServiceMetrics) {
  return {
    deliveries: metrics.counter(
      'heimdall_notification_deliveries_total',
      'Delivery attempts by channel type and outcome: sent, retry, failed (a dead letter)',
      ['type', 'outcome'],
    ),
    changes: metrics.counter(
      'heimdall_notification_state_changes_total',
      'Alert state changes consumed by the notification pipeline',
    ),
    flushFailures: metrics.counter(
      'heimdall_notification_flush_failures_total',
      'Passes over the due groups that failed (retried at the next interval)',
    ),
  };
}

export type NotificationMetrics = ReturnType<typeof notificationMetrics>;

export interface PipelineDeps {
  readonly connection: ConnectionOptions;
  readonly prefix: string;
  readonly groups: GroupStore;
  readonly outbox: DeliveryOutbox;
  readonly channels: Pick<ChannelStore, 'byId'>;
  /** null: incidents group nothing (each alert is its own). */
  readonly serviceMap: Pick<ServiceMap, 'edges'> | null;
  readonly settings: NotificationSettings;
  readonly logger: Logger;
  readonly metrics: NotificationMetrics;
  /** The newest log lines matching a firing alert's log conditions; a message goes without when they cannot be read. */
  readonly sampleLogs?: (change: AlertStateChange) => Promise<string[]>;
  readonly now?: () => number;
}

/** Exponential from the base (base, 2 × base), or the receiver's Retry-After up to its cap. */
export function retryDelay(
  attemptsMade: number,
  error: unknown,
  settings: Pick<NotificationSettings, 'retryBaseMs' | 'maxRetryAfterMs'>,
): number {
  if (error instanceof RetryableDelivery && error.retryAfterMs !== null)
    return Math.min(error.retryAfterMs, settings.maxRetryAfterMs);
  return settings.retryBaseMs * 2 ** Math.max(0, attemptsMade - 1);
}

export class NotificationPipeline {
  private readonly queue: Queue<DeliveryJob>;
  private consumer: Worker<AlertStateChange> | undefined;
  private sender: Worker<DeliveryJob> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly flushes = new CoalescedRun(() => this.drain());
  private lastSweep = 0;
  private readonly now: () => number;

  constructor(private readonly deps: PipelineDeps) {
    this.now = deps.now ?? Date.now;
    this.queue = new Queue<DeliveryJob>(DELIVERY_QUEUE, { connection: deps.connection, prefix: deps.prefix });
  }

  start(): void {
    if (this.consumer !== undefined) return;
    const { connection, prefix, settings, logger } = this.deps;
    this.consumer = new Worker<AlertStateChange>(STATE_CHANGES_QUEUE, (job) => this.consume(job.data), {
      connection,
      prefix,
      concurrency: 4,
    });
    this.consumer.on('failed', (job, error) =>
      logger.warn(
        { err: error, change: job?.data.id },
        'a state change could not be applied to the notification groups; BullMQ retries it',
      ),
    );
    this.sender = new Worker<DeliveryJob>(DELIVERY_QUEUE, (job) => this.send(job.data.id, job.attemptsMade + 1), {
      connection,
      prefix,
      concurrency: settings.deliveryConcurrency,
      settings: { backoffStrategy: (attemptsMade, _type, error) => retryDelay(attemptsMade, error, settings) },
    });
    this.sender.on('error', (error) => logger.warn({ err: error }, 'notification delivery worker error'));
    this.consumer.on('error', (error) => logger.warn({ err: error }, 'state change consumer error'));
    this.timer = setInterval(() => this.kick(), settings.flushIntervalMs);
    this.timer.unref();
    this.kick();
  }

  private async sampleLogs(change: AlertStateChange): Promise<string[]> {
    if (this.deps.sampleLogs === undefined) return [];
    try {
      return await this.deps.sampleLogs(change);
    } catch (error) {
      this.deps.logger.warn(
        { ruleId: change.ruleId, err: error instanceof Error ? error.message : String(error) },
        'sample log lines for a notification could not be read; it goes without',
      );
      return [];
    }
  }

  private async consume(change: AlertStateChange): Promise<void> {
    const { groups, settings, serviceMap } = this.deps;
    const needsMap = change.to === 'FIRING' && change.channels.length > 0 && (change.labels.service ?? '') !== '';
    const edges = needsMap && serviceMap !== null ? await serviceMap.edges() : null;
    const wantsLines = change.to === 'FIRING' && change.channels.length > 0 && (change.logQueries?.length ?? 0) > 0;
    const logLines = wantsLines ? await this.sampleLogs(change) : [];
    await groups.applyChange(change, {
      defaults: settings.defaults,
      now: this.now(),
      edges,
      incidentWindowMs: settings.incidentWindowMs,
      logLines,
    });
    this.deps.metrics.changes.inc();
    this.kick();
  }

  /** Looks at the due groups now; calls while a pass is under way make it run once more. */
  kick(): void {
    this.flushes.kick();
  }

  private muteContext(query: Query, now: number): Promise<MuteContext> {
    const { inhibitRules } = this.deps.settings;
    return Promise.all([
      mutingRules(query, now),
      inhibitRules.length === 0 ? [] : firingSources(query, sourceSeverities(inhibitRules)),
    ]).then(([rules, sources]) => new MuteContext({ ...rules, inhibitRules, sources }));
  }

  private async drain(): Promise<void> {
    const { groups, outbox, settings } = this.deps;
    try {
      let looked: number;
      do {
        const now = this.now();
        const result = await groups.flushDue({
          now,
          limit: FLUSH_BATCH,
          escalation: settings.escalation,
          linkUrl: settings.linkUrl,
          muteContext: (query) => this.muteContext(query, now),
        });
        looked = result.groups;
        await this.enqueue(result.deliveries.map((id) => ({ id, redrives: 0 })));
      } while (looked === FLUSH_BATCH && !this.flushes.isStopped);
      if (this.now() - this.lastSweep >= SWEEP_AFTER_MS) {
        this.lastSweep = this.now();
        await this.enqueue(await outbox.pendingBefore(this.now() - SWEEP_AFTER_MS, 500));
      }
    } catch (error) {
      this.deps.metrics.flushFailures.inc();
      this.deps.logger.warn(
        { err: error },
        'looking at the due notification groups failed; trying again at the next interval',
      );
    }
  }

  /** Puts deliveries on the queue; one already there (same id and redrive) is not added again. */
  async enqueue(deliveries: readonly { id: string; redrives: number }[]): Promise<void> {
    if (deliveries.length === 0) return;
    await this.queue.addBulk(
      deliveries.map(({ id, redrives }) => ({
        name: 'deliver',
        data: { id },
        opts: {
          jobId: `delivery-${id}-${redrives}`,
          attempts: MAX_ATTEMPTS,
          backoff: { type: 'custom' },
          removeOnComplete: { age: KEEP_COMPLETED_SECONDS },
          // The dead letter is the delivery row; a job that failed for another reason (PostgreSQL down through its
          // attempts) frees its id, so that the sweep of pending deliveries enqueues it again.
          removeOnFail: true,
        },
      })),
    );
  }

  private async send(id: string, attempt: number): Promise<void> {
    const { outbox, channels, settings, logger, metrics } = this.deps;
    const delivery = await outbox.delivery(id);
    if (delivery === undefined || delivery.status !== 'pending') return;
    const channel = await channels.byId(delivery.channelId);
    if (channel === undefined) {
      await outbox.recordAttempt(
        id,
        { status: 'failed', error: 'the channel was deleted', responseStatus: null },
        this.now(),
      );
      metrics.deliveries.inc({ type: 'deleted', outcome: 'failed' });
      return;
    }
    const type = channel.settings.type.toLowerCase();
    const outcome = await deliver(channel, delivery.message, {
      idempotencyKey: delivery.idempotencyKey,
      timeoutMs: settings.deliveryTimeoutMs,
      now: this.now,
    });
    if (outcome.ok) {
      await outbox.recordAttempt(id, { status: 'sent', error: null, responseStatus: outcome.status }, this.now());
      metrics.deliveries.inc({ type, outcome: 'sent' });
      return;
    }
    const final = !outcome.retryable || attempt >= MAX_ATTEMPTS;
    await outbox.recordAttempt(
      id,
      { status: final ? 'failed' : 'pending', error: outcome.message, responseStatus: outcome.status },
      this.now(),
    );
    metrics.deliveries.inc({ type, outcome: final ? 'failed' : 'retry' });
    if (final) {
      logger.warn(
        { delivery: id, channel: channel.id, attempts: attempt, error: outcome.message },
        `notification ${id} to channel "${channel.name}" failed ${attempt} times: a dead letter (retryNotification)`,
      );
      return;
    }
    throw new RetryableDelivery(outcome.message, outcome.retryAfterMs);
  }

  /** Stops consuming and flushing; lets work under way finish. */
  async close(): Promise<void> {
    const flushing = this.flushes.stop();
    clearInterval(this.timer);
    await Promise.all([this.consumer?.close(), this.sender?.close()]);
    await flushing;
    await this.queue.close();
  }
}
