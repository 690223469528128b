/**
 * One evaluation of a rule over its instances: the reads of its conditions (condition.ts) become one
 * observation per instance, each instance steps through the state machine, and the transitions come out for
 * history and notifications. Pure: the evaluator reads the data and stores the result.
 *
 * - A label set with a value is observed with it; a known instance whose label set is missing while the rule
 *   has data elsewhere is observed `absent` (false: its series went away).
 * - nodata and error apply to every known instance; with none yet, to one instance with no labels, so that
 *   a rule that never had data still shows NODATA or ERROR.
 * - Instances that are INACTIVE and changed nothing in the last hour are dropped: they are indistinguishable
 *   from a new instance, and a rule over many quiet series would otherwise store one row per series.
 */
import { type ConditionRead, type Labels, evaluateConditions, labelSetKey } from './conditions.js';
import type { AlertRule } from '../rules/alert-rule.js';
import {
  type InstanceState,
  type Observation,
  type Transition,
  flappingCount,
  initialState,
  next,
} from './alert-state-machine.js';
import { parseTemplate, render } from '../rules/annotation-templates.js';

export interface AlertInstance {
  /** The label set that identifies the instance within its rule (from groupBy and the series' labels). */
  readonly labels: Labels;
  /** labelSetKey(labels). */
  readonly key: string;
  readonly state: InstanceState;
}

export interface InstanceTransition extends Transition {
  readonly key: string;
  readonly labels: Labels;
}

export interface RuleEvaluation {
  readonly instances: readonly AlertInstance[];
  readonly transitions: readonly InstanceTransition[];
}

export function evaluateRule(
  rule: AlertRule,
  reads: readonly ConditionRead[],
  previous: readonly AlertInstance[],
  at: number,
): RuleEvaluation {
  const evaluation = evaluateConditions(rule, reads);
  const known = new Map(previous.map((instance) => [instance.key, instance]));
  const observed: { labels: Labels; key: string; state: InstanceState; observation: Observation }[] = [];
  if (evaluation.kind === 'values') {
    for (const set of evaluation.sets) {
      const state = known.get(set.key)?.state ?? initialState();
      observed.push({
        labels: set.labels,
        key: set.key,
        state,
        observation: { at, kind: 'value', value: set.value, conditionTrue: set.conditionTrue },
      });
      known.delete(set.key);
    }
    for (const instance of known.values()) observed.push({ ...instance, observation: { at, kind: 'absent' } });
  } else {
    const targets = previous.length > 0 ? previous : [{ labels: {}, key: labelSetKey({}), state: initialState() }];
    const observation: Observation =
      evaluation.kind === 'nodata' ? { at, kind: 'nodata' } : { at, kind: 'error', message: evaluation.message };
    for (const instance of targets) observed.push({ ...instance, observation });
  }

  const instances: AlertInstance[] = [];
  const transitions: InstanceTransition[] = [];
  for (const { labels, key, state, observation } of observed) {
    const step = next(state, observation, rule);
    if (step.transition !== undefined) transitions.push({ ...step.transition, key, labels });
    if (step.state.state !== 'INACTIVE' || flappingCount(step.state, at) > 0)
      instances.push({ labels, key, state: step.state });
  }
  return { instances, transitions };
}

/** An instance's labels as notifications and templates see them: alertname, the series' labels, then the rule's (which win). */
export function alertLabels(rule: Pick<AlertRule, 'name' | 'labels'>, instance: Pick<AlertInstance, 'labels'>): Labels {
  return { alertname: rule.name, ...instance.labels, ...rule.labels };
}

/** The rule's annotations rendered for an instance. The templates were checked when the rule was saved. */
export function renderAnnotations(
  rule: Pick<AlertRule, 'name' | 'labels' | 'annotations'>,
  instance: AlertInstance,
): Record<string, string> {
  const data = { labels: alertLabels(rule, instance), value: instance.state.value };
  return Object.fromEntries(
    Object.entries(rule.annotations).map(([key, text]) => {
      const parsed = parseTemplate(text);
      if (!parsed.ok) throw new Error(`annotation ${key} of rule ${rule.name} does not parse: ${parsed.message}`);
      return [key, render(parsed.template, data)];
    }),
  );
}

/**
 * How long an outage of the evaluator a PENDING instance's `for` timer survives (Prometheus'
 * rules.alert.for-outage-tolerance, 1 h): after a longer gap since its last evaluation nobody saw the condition
 * hold meanwhile, so the timer starts again instead of firing at once on an activeAt from before the outage.
 */
export const FOR_OUTAGE_TOLERANCE_MS = 3_600_000;

/** The instance as an evaluation at `at` resumes it: a PENDING one restarts `for` after a gap beyond the tolerance. */
export function resumeAfterOutage(instance: AlertInstance, at: number): AlertInstance {
  const { state } = instance;
  if (
    state.state !== 'PENDING' ||
    state.lastEvaluatedAt === null ||
    at - state.lastEvaluatedAt <= FOR_OUTAGE_TOLERANCE_MS
  )
    return instance;
  return { ...instance, state: { ...state, activeAt: at } };
}
