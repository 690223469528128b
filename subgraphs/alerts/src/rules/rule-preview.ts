/**
 * previewAlertRule: what a rule that is not saved would show if it were evaluated now for the first time, per label
 * set: its value and the state it would enter from INACTIVE (PENDING or, without `for`, FIRING when the condition
 * holds; INACTIVE when not; NODATA/ERROR or their configured meaning without data or when a read fails).
 */
import { type ConditionRead, type Labels, evaluateConditions, labelSetKey } from '../evaluation/conditions.js';
import { alertLabels, renderAnnotations } from '../evaluation/rule-instances.js';
import type { AlertRule } from './alert-rule.js';
import { type AlertState, type Observation, initialState, next } from '../evaluation/alert-state-machine.js';

export interface PreviewedAlert {
  /** alertname, the label set, then the rule's labels: the labels the alert would carry. */
  readonly labels: Labels;
  readonly value: number | null;
  readonly state: AlertState;
  readonly error: string | null;
  readonly annotations: Readonly<Record<string, string>>;
}

export function previewRule(rule: AlertRule, reads: readonly ConditionRead[], at: number): PreviewedAlert[] {
  const start = (labels: Labels, observation: Observation): PreviewedAlert => {
    const { state } = next(initialState(), observation, rule);
    const instance = { labels, key: labelSetKey(labels), state };
    return {
      labels: alertLabels(rule, instance),
      value: state.value,
      state: state.state,
      error: state.error,
      annotations: renderAnnotations(rule, instance),
    };
  };
  const evaluation = evaluateConditions(rule, reads);
  switch (evaluation.kind) {
    case 'values':
      return evaluation.sets.map((set) =>
        start(set.labels, { at, kind: 'value', value: set.value, conditionTrue: set.conditionTrue }),
      );
    case 'nodata':
      return [start({}, { at, kind: 'nodata' })];
    case 'error':
      return [start({}, { at, kind: 'error', message: evaluation.message })];
  }
}
