/**
 * An evaluation's result as the store writes it: each kept instance with the service and annotations it renders to,
 * and each transition as the state change the history records and the pipeline is sent. Built in the evaluation's
 * room so that the store writes what it is handed and never renders or decides.
 */
import type { Labels } from './conditions.js';
import {
  type AlertInstance,
  type InstanceTransition,
  type RuleEvaluation,
  alertLabels,
  renderAnnotations,
} from './rule-instances.js';
import { MAX_FLAP_HISTORY } from './alert-state-machine.js';
import {
  type AlertStateChange,
  type RuleIdentity,
  type StateChangeReason,
  stateChangeOf,
} from '../state-changes/alert-state-change.js';

/** A state change before the history gives it its id. */
export type NewStateChange = Omit<AlertStateChange, 'id'>;

export interface FinishedInstance {
  readonly instance: AlertInstance;
  /** The `service` the alert is about, which `alerts(filter: {service})` selects on. */
  readonly service: string | null;
  readonly annotations: Readonly<Record<string, string>>;
  /** It changed state in this evaluation: it is in its state since the evaluation's time. */
  readonly changed: boolean;
}

export interface FinishedEvaluation {
  readonly instances: readonly FinishedInstance[];
  readonly transitions: readonly InstanceTransition[];
  readonly changes: readonly NewStateChange[];
}

/** What a rule's change means for its alerts when it is disabled or deleted: every one not INACTIVE ends. */
export type Retirement = (
  rule: RuleIdentity,
  instances: readonly AlertInstance[],
  at: number,
  reason: StateChangeReason,
) => NewStateChange[];

/** The `service` an alert is about: the rule's or the series' `service` label, else the OTLP `service.name`. */
function serviceOf(labels: Labels): string | null {
  return labels.service ?? labels['service.name'] ?? null;
}

export function finishEvaluation(rule: RuleIdentity, evaluation: RuleEvaluation): FinishedEvaluation {
  const { instances, transitions } = evaluation;
  const changed = new Set(transitions.map((t) => t.key));
  const byKey = new Map(instances.map((instance) => [instance.key, instance]));
  const changes = transitions.map((t) => {
    // A changed instance is kept: its change counts towards flapping for an hour.
    const instance = byKey.get(t.key);
    if (instance === undefined) throw new Error(`instance ${t.key} changed state but was dropped`);
    return stateChangeOf(rule, instance, t, 'evaluation');
  });
  return {
    instances: instances.map((instance) => ({
      instance,
      service: serviceOf(alertLabels(rule, instance)),
      annotations: renderAnnotations(rule, instance),
      changed: changed.has(instance.key),
    })),
    transitions,
    changes,
  };
}

export const retireInstances: Retirement = (rule, instances, at, reason) =>
  instances.flatMap((instance) => {
    if (instance.state.state === 'INACTIVE') return [];
    const changes = [...instance.state.changes, at].slice(-MAX_FLAP_HISTORY);
    const ended: AlertInstance = {
      ...instance,
      state: { ...instance.state, state: 'INACTIVE', lastEvaluatedAt: at, changes },
    };
    const transition: InstanceTransition = {
      from: instance.state.state,
      to: 'INACTIVE',
      at,
      value: instance.state.value,
      key: instance.key,
      labels: instance.labels,
    };
    return [stateChangeOf(rule, ended, transition, reason)];
  });
