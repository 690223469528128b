/**
 * Rule evaluations on a schedule (SPEC §6): one BullMQ job scheduler per enabled rule, `every` its evaluation
 * interval, in Redis. Each alerts instance runs a Worker on the same queue; BullMQ hands each scheduled job to one
 * worker, so a rule is evaluated once per interval however many instances run, and the store's check on the
 * evaluated time (AlertsStore.recordEvaluation) makes a job that is retried after a crash count once.
 *
 * Each rule runs at its own phase within its interval, from a hash of its id (as Prometheus offsets rule groups):
 * a thousand rules created in one burst, or restored together, do not all come due in the same second of every
 * minute. A new rule is first evaluated at its phase, so within one interval.
 *
 * PostgreSQL is the source of truth: `reconcile` makes the schedulers match the enabled rules (at start and every
 * SCHEDULE_RECONCILE_INTERVAL_MS), so a change whose reschedule failed (Redis down at that moment) or a Redis
 * that lost its data is repaired; an evaluation that finds its rule gone removes its scheduler at once.
 */
import { createHash } from 'node:crypto';
import { type ConnectionOptions, type Job, Queue, Worker } from 'bullmq';
import type { Logger } from '@heimdall/shared/telemetry';
import type { ScheduledRule } from '../store/index.js';

export const EVALUATION_QUEUE = 'alert-evaluations';

/** What an evaluation found the rule's schedule should become. */
export type ScheduleAfter =
  | { readonly kind: 'set'; readonly rule: ScheduledRule }
  /** The rule was deleted or disabled, or has nothing to evaluate. */
  | { readonly kind: 'remove' }
  /** Unknown (the evaluation failed): as it is. */
  | { readonly kind: 'keep' };

interface EvaluationJob {
  readonly ruleId: string;
  /** The interval the scheduler was made with: an evaluation that finds another one reschedules the rule. */
  readonly intervalMs: number;
}

export interface SchedulerOptions {
  readonly connection: ConnectionOptions;
  /** BullMQ key prefix (QUEUE_PREFIX). */
  readonly prefix: string;
  /** Evaluations this instance runs at a time. */
  readonly concurrency: number;
  readonly logger: Logger;
  /** Evaluates a rule at its scheduled time (Unix ms); resolves with what the rule's schedule should become. */
  readonly evaluate: (ruleId: string, at: number) => Promise<ScheduleAfter>;
}

/** A rule's phase within its interval (ms), the same on every instance and across restarts. */
export function phaseOf(ruleId: string, intervalMs: number): number {
  return createHash('sha256').update(ruleId).digest().readUInt32BE(0) % intervalMs;
}

/**
 * The time a scheduler's job was due: BullMQ names each iteration `repeat:<scheduler id>:<due time in ms>`. The
 * evaluation is of that time, not of when a worker got to it, so a late or retried job evaluates the same time.
 */
export function scheduledTime(job: Pick<Job, 'id' | 'timestamp'>): number {
  const due = Number(job.id?.slice(job.id.lastIndexOf(':') + 1));
  return Number.isSafeInteger(due) && due > 0 ? due : job.timestamp;
}

export class EvaluationScheduler {
  private readonly queue: Queue<EvaluationJob>;
  private worker: Worker<EvaluationJob> | undefined;
  private reconciling: NodeJS.Timeout | undefined;

  constructor(private readonly options: SchedulerOptions) {
    this.queue = new Queue<EvaluationJob>(EVALUATION_QUEUE, { connection: options.connection, prefix: options.prefix });
  }

  /** Creates or changes a rule's scheduler; an unchanged interval keeps its timing. */
  async schedule(rule: ScheduledRule): Promise<void> {
    await this.queue.upsertJobScheduler(
      rule.id,
      { every: rule.evaluationIntervalMs, offset: phaseOf(rule.id, rule.evaluationIntervalMs) },
      {
        name: 'evaluate',
        data: { ruleId: rule.id, intervalMs: rule.evaluationIntervalMs },
        opts: { removeOnComplete: true, removeOnFail: 1000 },
      },
    );
  }

  async unschedule(ruleId: string): Promise<void> {
    await this.queue.removeJobScheduler(ruleId);
  }

  /**
   * Makes the schedulers match `load()`'s rules: missing or changed ones are upserted, others removed. Schedulers are
   * listed before the rules are loaded, so a rule created meanwhile (and scheduled by its creator) is never removed.
   */
  async reconcile(load: () => Promise<readonly ScheduledRule[]>): Promise<{ scheduled: number; removed: number }> {
    const existing = new Map((await this.queue.getJobSchedulers(0, -1)).map((s) => [s.key, s]));
    const rules = await load();
    const wanted = new Set(rules.map((r) => r.id));
    const stale = rules.filter((rule) => {
      const scheduler = existing.get(rule.id);
      return (
        scheduler?.every !== rule.evaluationIntervalMs ||
        (scheduler.offset ?? 0) !== phaseOf(rule.id, rule.evaluationIntervalMs)
      );
    });
    for (const rule of stale) await this.schedule(rule);
    const extra = [...existing.keys()].filter((id) => !wanted.has(id));
    for (const id of extra) await this.unschedule(id);
    return { scheduled: stale.length, removed: extra.length };
  }

  /**
   * Reconciles now and then every `intervalMs` until close. A failure (Redis or PostgreSQL away) is logged and
   * tried again at the next interval: the schedules already in Redis keep running meanwhile.
   */
  async keepReconciled(load: () => Promise<readonly ScheduledRule[]>, intervalMs: number): Promise<void> {
    const run = async () => {
      try {
        const { scheduled, removed } = await this.reconcile(load);
        if (scheduled + removed > 0)
          this.options.logger.info(
            { event: 'schedules_reconciled', scheduled, removed },
            `evaluation schedules: ${scheduled} set, ${removed} removed`,
          );
      } catch (error) {
        this.options.logger.warn(
          { err: error },
          'the evaluation schedules could not be reconciled with the rules; trying again later',
        );
      }
    };
    await run();
    clearInterval(this.reconciling);
    this.reconciling = setInterval(() => void run(), intervalMs);
    this.reconciling.unref();
  }

  /** Starts this instance's worker. */
  start(): void {
    if (this.worker !== undefined) return;
    this.worker = new Worker<EvaluationJob>(EVALUATION_QUEUE, (job) => this.process(job), {
      connection: this.options.connection,
      prefix: this.options.prefix,
      concurrency: this.options.concurrency,
    });
    this.worker.on('error', (error) => this.options.logger.warn({ err: error }, 'evaluation worker: Redis error'));
  }

  private async process(job: Job<EvaluationJob>): Promise<void> {
    const { ruleId, intervalMs } = job.data;
    const after = await this.options.evaluate(ruleId, scheduledTime(job));
    // A rule re-enabled between the evaluation's read and this removal is scheduled again by the next reconcile.
    if (after.kind === 'remove') await this.unschedule(ruleId);
    else if (after.kind === 'set' && after.rule.evaluationIntervalMs !== intervalMs) await this.schedule(after.rule);
  }

  /** Stops reconciling and the worker (its evaluations in progress finish) and closes the queue. */
  async close(): Promise<void> {
    clearInterval(this.reconciling);
    await this.worker?.close();
    await this.queue.close();
  }
}
