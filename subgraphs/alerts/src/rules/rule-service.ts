/**
 * What the rule mutations and previewAlertRule do: validate the input (log queries by the logs subgraph), change
 * the store (which writes the audit log in the same transaction), then make the evaluation schedule follow.
 */
import type { Logger } from '@heimdall/shared/telemetry';
import { badUserInputs } from '@heimdall/shared/user-input';
import { type PreviewedAlert, previewRule } from './rule-preview.js';
import type { ReadResult } from '../reads/condition-reader.js';
import { type AlertRuleInput, type LogQueryCheck, validateRuleInput } from './rule-input-validation.js';
import type { AlertRule } from './alert-rule.js';
import type { EvaluationScheduler } from '../evaluation/evaluation-scheduler.js';
import type { RuleRecord, RulesStore } from '../store/index.js';

export interface RuleServiceDeps {
  readonly store: Pick<RulesStore, 'create' | 'update' | 'delete' | 'setEnabled'>;
  readonly scheduler: Pick<EvaluationScheduler, 'schedule' | 'unschedule'>;
  readonly checkLogQuery: (query: string) => Promise<LogQueryCheck>;
  readonly read: (rule: AlertRule, at: number) => Promise<ReadResult>;
  readonly logger: Logger;
  readonly now?: () => number;
}

export class RuleService {
  private readonly now: () => number;

  constructor(private readonly deps: RuleServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  private async validate(input: AlertRuleInput): Promise<AlertRule> {
    const result = await validateRuleInput(input, { checkLogQuery: this.deps.checkLogQuery });
    if (!result.ok) throw badUserInputs(result.errors);
    return result.rule;
  }

  /**
   * The schedule follows the stored rule. A reschedule that fails (Redis down) is logged, not the caller's error:
   * the change is stored, and the next reconcile (SCHEDULE_RECONCILE_INTERVAL_MS) schedules from the store.
   */
  private async reschedule(record: RuleRecord | undefined, id: string): Promise<void> {
    try {
      if (record !== undefined && record.enabled)
        await this.deps.scheduler.schedule({ id: record.id, evaluationIntervalMs: record.evaluationIntervalMs });
      else await this.deps.scheduler.unschedule(id);
    } catch (error) {
      this.deps.logger.warn(
        { err: error, ruleId: id },
        `rule ${id}: its evaluation schedule could not be changed now; the next reconcile will`,
      );
    }
  }

  async create(input: AlertRuleInput, actor: string): Promise<RuleRecord> {
    const record = await this.deps.store.create(await this.validate(input), { actor });
    await this.reschedule(record, record.id);
    return record;
  }

  async update(id: string, version: number, input: AlertRuleInput, actor: string): Promise<RuleRecord> {
    const record = await this.deps.store.update(id, version, await this.validate(input), { actor }, this.now());
    await this.reschedule(record, record.id);
    return record;
  }

  async setEnabled(id: string, enabled: boolean, version: number | null, actor: string): Promise<RuleRecord> {
    const record = await this.deps.store.setEnabled(id, enabled, version, { actor }, this.now());
    await this.reschedule(record, record.id);
    return record;
  }

  /** False when there is no such rule (a retried delete). */
  async delete(id: string, version: number | null, actor: string): Promise<boolean> {
    const deleted = await this.deps.store.delete(id, version, { actor }, this.now());
    if (deleted !== undefined) await this.reschedule(undefined, deleted.id);
    return deleted !== undefined;
  }

  async preview(input: AlertRuleInput): Promise<PreviewedAlert[]> {
    const rule = await this.validate(input);
    const at = this.now();
    const { reads } = await this.deps.read(rule, at);
    return previewRule(rule, reads, at);
  }
}
