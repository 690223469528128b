/**
 * The life of one alert instance (one rule × label set) as a pure function of its state, one evaluation's
 * observation and the rule: `next(state, observation, rule)`. Time is the observation's `at` (ms), never the
 * clock, so a state restored from the store resumes its `for` and `keepFiringFor` timers where they were.
 *
 * First the observation becomes a verdict:
 * - value: the condition's result; while FIRING it also holds as long as the value has not crossed the
 *   rule's recovery threshold (hysteresis, condition.ts `holdsForRecovery`).
 * - absent (the rule had data, but none for this label set, e.g. a series that went away): false, as
 *   Prometheus treats a vanished series; the last value is kept.
 * - nodata / error, per the rule's noDataState / errorState: NODATA / ERROR enter that state; ALERTING is
 *   true and OK is false (both with no value); KEEP_LAST changes nothing.
 *
 * Then:
 * | state now                         | verdict true                                   | verdict false                                |
 * |-----------------------------------|------------------------------------------------|----------------------------------------------|
 * | INACTIVE, RESOLVED, NODATA, ERROR | PENDING (FIRING when for = 0); activeAt = at    | INACTIVE                                     |
 * | PENDING                           | FIRING once at − activeAt ≥ for, else PENDING  | INACTIVE                                     |
 * | FIRING                            | FIRING                                         | RESOLVED once false for keepFiringFor, else FIRING |
 * NODATA / ERROR verdicts enter NODATA / ERROR from any state. KEEP_LAST keeps the state, except RESOLVED,
 * which lasts exactly one evaluation (so that it is seen once) and becomes INACTIVE.
 *
 * `activeAt`, `firedAt` and `resolvedAt` describe the current or latest episode: entering PENDING or FIRING
 * from a state that is neither starts one (activeAt = at, firedAt and resolvedAt cleared); FIRING sets
 * firedAt; RESOLVED sets resolvedAt. An observation not later than the last one evaluated (a retried job)
 * changes nothing.
 */
import { holdsForRecovery } from './conditions.js';
import type { AlertRule } from '../rules/alert-rule.js';

export const ALERT_STATES = ['INACTIVE', 'PENDING', 'FIRING', 'RESOLVED', 'NODATA', 'ERROR'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

/** State changes are counted over this window to make flapping visible. */
export const FLAP_WINDOW_MS = 3_600_000;
/** At most this many change times are kept, so a flapping count saturates here. */
export const MAX_FLAP_HISTORY = 100;

export interface InstanceState {
  readonly state: AlertState;
  /** The latest value; null after an evaluation that had none (nodata, error). */
  readonly value: number | null;
  readonly activeAt: number | null;
  readonly firedAt: number | null;
  readonly resolvedAt: number | null;
  /** When a FIRING instance's verdict turned false; keepFiringFor counts from here. */
  readonly keepFiringSince: number | null;
  readonly lastEvaluatedAt: number | null;
  /** The message of the latest evaluation if its read failed (whatever errorState made of it). */
  readonly error: string | null;
  /** Times of state changes within FLAP_WINDOW_MS of the latest evaluation, oldest first. */
  readonly changes: readonly number[];
}

export type Observation =
  | { readonly at: number; readonly kind: 'value'; readonly value: number; readonly conditionTrue: boolean }
  | { readonly at: number; readonly kind: 'absent' }
  | { readonly at: number; readonly kind: 'nodata' }
  | { readonly at: number; readonly kind: 'error'; readonly message: string };

export interface Transition {
  readonly from: AlertState;
  readonly to: AlertState;
  readonly at: number;
  readonly value: number | null;
}

export interface Step {
  readonly state: InstanceState;
  readonly transition?: Transition;
}

export type StateMachineRule = Pick<
  AlertRule,
  'conditions' | 'forMs' | 'keepFiringForMs' | 'recoveryThreshold' | 'noDataState' | 'errorState'
>;

type Verdict =
  | { readonly kind: 'condition'; readonly holds: boolean; readonly value: number | null }
  | { readonly kind: 'enter'; readonly state: 'NODATA' | 'ERROR' }
  | { readonly kind: 'keep' };

export function initialState(): InstanceState {
  return {
    state: 'INACTIVE',
    value: null,
    activeAt: null,
    firedAt: null,
    resolvedAt: null,
    keepFiringSince: null,
    lastEvaluatedAt: null,
    error: null,
    changes: [],
  };
}

/** State changes in the hour up to `at`. */
export function flappingCount(state: InstanceState, at: number): number {
  return state.changes.filter((t) => t > at - FLAP_WINDOW_MS && t <= at).length;
}

function verdictOf(current: InstanceState, observation: Observation, rule: StateMachineRule): Verdict {
  switch (observation.kind) {
    case 'value': {
      const holds =
        observation.conditionTrue || (current.state === 'FIRING' && holdsForRecovery(rule, observation.value));
      return { kind: 'condition', holds, value: observation.value };
    }
    case 'absent':
      return { kind: 'condition', holds: false, value: current.value };
    case 'nodata':
      return missingVerdict(rule.noDataState, 'NODATA');
    case 'error':
      return missingVerdict(rule.errorState, 'ERROR');
  }
}

function missingVerdict(
  setting: StateMachineRule['noDataState'] | StateMachineRule['errorState'],
  own: 'NODATA' | 'ERROR',
): Verdict {
  if (setting === 'ALERTING') return { kind: 'condition', holds: true, value: null };
  if (setting === 'OK') return { kind: 'condition', holds: false, value: null };
  if (setting === 'KEEP_LAST') return { kind: 'keep' };
  return { kind: 'enter', state: own };
}

/** The state after a true verdict. */
function whenTrue(current: InstanceState, at: number, rule: StateMachineRule): Partial<InstanceState> {
  if (current.state === 'FIRING') return { state: 'FIRING', keepFiringSince: null };
  if (current.state === 'PENDING') {
    if (current.activeAt === null) throw new Error('a PENDING instance without activeAt');
    return at - current.activeAt >= rule.forMs ? { state: 'FIRING', firedAt: at } : {};
  }
  return rule.forMs === 0
    ? { state: 'FIRING', activeAt: at, firedAt: at, resolvedAt: null, keepFiringSince: null }
    : { state: 'PENDING', activeAt: at, firedAt: null, resolvedAt: null, keepFiringSince: null };
}

/** The state after a false verdict. */
function whenFalse(current: InstanceState, at: number, rule: StateMachineRule): Partial<InstanceState> {
  if (current.state !== 'FIRING') return { state: 'INACTIVE' };
  const since = current.keepFiringSince ?? at;
  return at - since >= rule.keepFiringForMs
    ? { state: 'RESOLVED', resolvedAt: at, keepFiringSince: null }
    : { keepFiringSince: since };
}

function changeTo(
  current: InstanceState,
  verdict: Verdict,
  at: number,
  rule: StateMachineRule,
): Partial<InstanceState> {
  if (verdict.kind === 'keep') return current.state === 'RESOLVED' ? { state: 'INACTIVE' } : {};
  if (verdict.kind === 'enter') return { state: verdict.state, value: null, keepFiringSince: null };
  return { value: verdict.value, ...(verdict.holds ? whenTrue(current, at, rule) : whenFalse(current, at, rule)) };
}

export function next(current: InstanceState, observation: Observation, rule: StateMachineRule): Step {
  const { at } = observation;
  if (current.lastEvaluatedAt !== null && at <= current.lastEvaluatedAt) return { state: current };
  const changed = changeTo(current, verdictOf(current, observation, rule), at, rule);
  const state: InstanceState = {
    ...current,
    ...changed,
    lastEvaluatedAt: at,
    error: observation.kind === 'error' ? observation.message : null,
    changes: current.changes.filter((t) => t > at - FLAP_WINDOW_MS),
  };
  if (state.state === current.state) return { state };
  const changes = [...state.changes, at].slice(-MAX_FLAP_HISTORY);
  return { state: { ...state, changes }, transition: { from: current.state, to: state.state, at, value: state.value } };
}
