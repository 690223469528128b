/**
 * A state change of an alert instance as it is recorded in the history and published for the notification
 * pipeline (issue 13): everything a message needs, so that its consumer never has to read the rule again (the rule
 * may have changed or gone by then).
 */
import type { Labels } from '../evaluation/conditions.js';
import {
  type AlertInstance,
  type InstanceTransition,
  alertLabels,
  renderAnnotations,
} from '../evaluation/rule-instances.js';
import {
  type AlertRule,
  type LogLevel,
  type NotificationOverrides,
  type Severity,
  isLogCondition,
} from '../rules/alert-rule.js';
import { type AlertState, flappingCount } from '../evaluation/alert-state-machine.js';

/** Why the state changed: an evaluation, or the rule's end (its alerts end with it). */
export type StateChangeReason = 'evaluation' | 'rule disabled' | 'rule deleted';

export interface AlertStateChange {
  /** The history entry's id: one per change, the idempotency key of its publication. */
  readonly id: string;
  readonly ruleId: string;
  readonly ruleVersion: number;
  readonly ruleName: string;
  readonly severity: Severity;
  /** Notification channel ids of the rule. */
  readonly channels: readonly string[];
  /** The rule's overrides of the notification policy; absent in changes recorded before notifications existed. */
  readonly notification?: NotificationOverrides;
  /** The instance's identity within its rule (labelSetKey of its label set). */
  readonly instanceKey: string;
  /** alertname, the instance's label set, then the rule's labels (alertLabels). */
  readonly labels: Labels;
  /** The rule's annotations rendered for the instance after the change. */
  readonly annotations: Readonly<Record<string, string>>;
  readonly from: AlertState;
  readonly to: AlertState;
  /** ISO-8601: the evaluation's scheduled time. */
  readonly at: string;
  readonly value: number | null;
  readonly activeAt: string | null;
  readonly firedAt: string | null;
  readonly resolvedAt: string | null;
  /** State changes of the instance in the last hour, this one included. */
  readonly flapping: number;
  /** The read error of the evaluation, if it failed. */
  readonly error: string | null;
  readonly reason: StateChangeReason;
  /**
   * The rule's log conditions narrowed to the instance's service, so that a message can show the newest matching
   * lines; absent in changes recorded before notifications existed.
   */
  readonly logQueries?: readonly LogQuery[];
}

export interface LogQuery {
  readonly query: string;
  readonly services: readonly string[];
  readonly levels: readonly LogLevel[];
  readonly windowMs: number;
}

function logQueriesOf(rule: AlertRule, labels: Labels): LogQuery[] {
  const service = labels.service;
  return rule.conditions.filter(isLogCondition).map((c) => ({
    query: c.query,
    services: service !== undefined && service !== '' ? [service] : c.services,
    levels: c.levels,
    windowMs: c.windowMs,
  }));
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export interface RuleIdentity extends AlertRule {
  readonly id: string;
  readonly version: number;
}

/** The change without its id, which the history assigns. */
export function stateChangeOf(
  rule: RuleIdentity,
  instance: AlertInstance,
  transition: InstanceTransition,
  reason: StateChangeReason,
): Omit<AlertStateChange, 'id'> {
  const { state } = instance;
  return {
    ruleId: rule.id,
    ruleVersion: rule.version,
    ruleName: rule.name,
    severity: rule.severity,
    channels: rule.channels,
    notification: rule.notification,
    instanceKey: instance.key,
    labels: alertLabels(rule, instance),
    annotations: renderAnnotations(rule, instance),
    from: transition.from,
    to: transition.to,
    at: new Date(transition.at).toISOString(),
    value: transition.value,
    activeAt: iso(state.activeAt),
    firedAt: iso(state.firedAt),
    resolvedAt: iso(state.resolvedAt),
    flapping: flappingCount(state, transition.at),
    error: state.error,
    reason,
    logQueries: logQueriesOf(rule, instance.labels),
  };
}
