/**
 * One scheduled evaluation of a rule: read its conditions through the owners' APIs, step its instances through the
 * state machine, record states, history and the changes to publish in one transaction. Nothing an evaluation meets
 * escapes it: a failed read follows the rule's errorState, anything else is logged and counted, and the next rule's
 * evaluation runs as usual.
 */
import type { Logger, ServiceMetrics } from '@heimdall/shared/telemetry';
import { evaluateConditions } from './conditions.js';
import { finishEvaluation } from './finished-evaluation.js';
import { evaluateRule, resumeAfterOutage } from './rule-instances.js';
import type { ReadResult } from '../reads/condition-reader.js';
import type { ScheduleAfter } from './evaluation-scheduler.js';
import type { AlertsStore, RuleRecord } from '../store/index.js';

export type EvaluationOutcome = 'ok' | 'nodata' | 'error' | 'stale' | 'gone' | 'failed';

/** How late evaluations start: from 10 ms to 2 min (a rule waiting a whole interval and more). */
const DELAY_BUCKETS_SECONDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** How long evaluations take: fine where they usually are (tens of ms), up to a read's retries (≈10 s). */
const DURATION_BUCKETS_SECONDS = [
  0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30,
];

export function evaluationMetrics(metrics: ServiceMetrics) {
  return {
    evaluations: metrics.counter(
      'heimdall_alert_evaluations_total',
      'Rule evaluations by outcome: ok, nodata, error (a read failed), stale (a time already evaluated), gone (rule deleted or disabled), failed (the evaluation itself failed)',
      ['outcome'],
    ),
    duration: metrics.histogram(
      'heimdall_alert_evaluation_duration_seconds',
      'Time to evaluate one rule: reads, state machine, store',
      [],
      DURATION_BUCKETS_SECONDS,
    ),
    delay: metrics.histogram(
      'heimdall_alert_evaluation_delay_seconds',
      'How late an evaluation started after its scheduled time',
      [],
      DELAY_BUCKETS_SECONDS,
    ),
    readFailures: metrics.counter(
      'heimdall_alert_read_failures_total',
      'Condition reads that failed, by the subgraph read',
      ['source'],
    ),
    rowsRead: metrics.counter(
      'heimdall_alert_metric_rows_read_total',
      'ClickHouse rows the metric conditions read (metricQuery rowsRead)',
    ),
    stateChanges: metrics.counter(
      'heimdall_alert_state_changes_total',
      'Alert instance state changes, by the state entered',
      ['to'],
    ),
    published: metrics.counter(
      'heimdall_alert_state_changes_published_total',
      'State changes put on the alert-state-changes queue',
    ),
    publishFailures: metrics.counter(
      'heimdall_alert_state_change_publish_failures_total',
      'Attempts to publish state changes that failed (retried)',
    ),
  };
}

export type EvaluationMetrics = ReturnType<typeof evaluationMetrics>;

export interface EvaluatorDeps {
  readonly rules: { byId(id: string): Promise<RuleRecord | undefined> };
  readonly alerts: Pick<AlertsStore, 'recordEvaluation'>;
  readonly read: (rule: RuleRecord, at: number) => Promise<ReadResult>;
  readonly metrics: EvaluationMetrics;
  readonly logger: Logger;
  /** Called after an evaluation that recorded state changes (to publish them). */
  readonly onStateChanges: () => void;
  readonly now?: () => number;
}

export class Evaluator {
  private readonly now: () => number;

  constructor(private readonly deps: EvaluatorDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Evaluates a rule as of `at`; resolves with what its schedule should become. Never rejects. */
  async evaluate(ruleId: string, at: number): Promise<ScheduleAfter> {
    const started = this.now();
    this.deps.metrics.delay.observe(Math.max(0, started - at) / 1000);
    const { outcome, schedule } = await this.run(ruleId, at, started).catch((error: unknown) => {
      this.deps.logger.error(
        { err: error, ruleId, at: new Date(at).toISOString() },
        `rule ${ruleId}: evaluation failed`,
      );
      // The schedule stays as it is: the next evaluation tries again.
      return { outcome: 'failed' as const, schedule: { kind: 'keep' } as const };
    });
    this.deps.metrics.evaluations.inc({ outcome });
    this.deps.metrics.duration.observe((this.now() - started) / 1000);
    return schedule;
  }

  private async run(
    ruleId: string,
    at: number,
    started: number,
  ): Promise<{ outcome: EvaluationOutcome; schedule: ScheduleAfter }> {
    const rule = await this.deps.rules.byId(ruleId);
    if (rule === undefined || !rule.enabled || rule.conditions.length === 0)
      return { outcome: 'gone', schedule: { kind: 'remove' } };
    const schedule: ScheduleAfter = {
      kind: 'set',
      rule: { id: rule.id, evaluationIntervalMs: rule.evaluationIntervalMs },
    };
    const { reads, rowsRead } = await this.deps.read(rule, at);
    this.deps.metrics.rowsRead.inc(rowsRead);
    const evaluation = evaluateConditions(rule, reads);
    const error = evaluation.kind === 'error' ? evaluation.message : null;
    const record = await this.deps.alerts.recordEvaluation(
      rule,
      at,
      (previous) =>
        finishEvaluation(
          rule,
          evaluateRule(
            rule,
            reads,
            previous.map((instance) => resumeAfterOutage(instance, at)),
            at,
          ),
        ),
      { durationMs: this.now() - started, error },
    );
    if (record.kind !== 'recorded')
      return { outcome: record.kind, schedule: record.kind === 'gone' ? { kind: 'remove' } : schedule };
    for (const t of record.transitions) {
      this.deps.metrics.stateChanges.inc({ to: t.to });
      this.deps.logger.info(
        {
          event: 'alert_state_change',
          ruleId,
          labels: t.labels,
          from: t.from,
          to: t.to,
          value: t.value,
          at: new Date(t.at).toISOString(),
        },
        `${rule.name} ${JSON.stringify(t.labels)}: ${t.from} → ${t.to}`,
      );
    }
    if (record.transitions.length > 0) this.deps.onStateChanges();
    return { outcome: evaluation.kind === 'values' ? 'ok' : evaluation.kind, schedule };
  }
}
