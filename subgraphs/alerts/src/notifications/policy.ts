/**
 * The notification policy as pure functions of time (issue 13, SPEC §6; Alertmanager's dispatcher): which group
 * an alert joins, when a group is next looked at, and what a look at it sends. group-store.ts keeps the state
 * these functions read and write in PostgreSQL.
 *
 * A new group waits groupWait for its first message; after a message, changes wait until groupInterval has passed
 * since it; a message is sent when the set of notified firing alerts changed (an alert fired, resolved or was
 * muted), or, unchanged, after repeatInterval. Resolved alerts are sent only if they were notified firing (and
 * sendResolved holds). Escalation: CRITICAL is sent at any hour and repeated every criticalRepeatMs until every
 * firing alert of the group is acknowledged; HIGH and MEDIUM wait for business hours; LOW for the daily digest
 * (where digest.ts merges a channel's LOW groups into one message).
 */
import { createHash } from 'node:crypto';
import type { Labels } from '../evaluation/conditions.js';
import type { NotificationOverrides, Severity } from '../rules/alert-rule.js';
import { type WeeklyWindow, isWithin, nextOpening } from './weekly-window.js';

export interface NotificationPolicy {
  /** Labels besides alertname that split groups. */
  readonly groupBy: readonly string[];
  readonly groupWaitMs: number;
  readonly groupIntervalMs: number;
  readonly repeatIntervalMs: number;
  readonly sendResolved: boolean;
}

export interface Escalation {
  /** When HIGH and MEDIUM are sent; null: at any time. */
  readonly businessHours: WeeklyWindow | null;
  /** When LOW is sent; null: at any time. */
  readonly digest: WeeklyWindow | null;
  readonly criticalRepeatMs: number;
}

export function effectivePolicy(
  defaults: NotificationPolicy,
  overrides: NotificationOverrides | undefined,
): NotificationPolicy {
  return {
    groupBy: overrides?.groupBy ?? defaults.groupBy,
    groupWaitMs: overrides?.groupWaitMs ?? defaults.groupWaitMs,
    groupIntervalMs: overrides?.groupIntervalMs ?? defaults.groupIntervalMs,
    repeatIntervalMs: overrides?.repeatIntervalMs ?? defaults.repeatIntervalMs,
    sendResolved: overrides?.sendResolved ?? defaults.sendResolved,
  };
}

/** alertname and the groupBy labels the alert has. */
export function groupLabelsOf(labels: Labels, groupBy: readonly string[]): Record<string, string> {
  const names = ['alertname', ...groupBy.filter((name) => name !== 'alertname')];
  return Object.fromEntries(
    names.filter((name) => Object.hasOwn(labels, name)).map((name) => [name, labels[name] ?? '']),
  );
}

export function groupKeyOf(channelId: string, ruleId: string, groupLabels: Labels): string {
  const sorted = Object.entries(groupLabels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256')
    .update(JSON.stringify([channelId, ruleId, sorted]))
    .digest('hex')
    .slice(0, 32);
}

export interface GroupTiming {
  readonly nextFlushAt: number | null;
  readonly lastFlushAt: number | null;
}

/** When a group must be looked at after one of its alerts changed at `now`. */
export function nextFlushAfterChange(
  group: GroupTiming,
  policy: Pick<NotificationPolicy, 'groupWaitMs' | 'groupIntervalMs'>,
  now: number,
): number {
  if (group.lastFlushAt === null) return group.nextFlushAt ?? now + policy.groupWaitMs;
  const earliest = Math.max(now, group.lastFlushAt + policy.groupIntervalMs);
  return group.nextFlushAt === null ? earliest : Math.min(group.nextFlushAt, earliest);
}

/** Until when a group of `severity` must wait before it may send at `now`; null when it may send now. */
export function escalationGate(severity: Severity, escalation: Escalation, now: number): number | null {
  const window = severity === 'CRITICAL' ? null : severity === 'LOW' ? escalation.digest : escalation.businessHours;
  if (window === null || isWithin(window, now)) return null;
  return nextOpening(window, now);
}

export type MuteReason = 'silenced' | 'inhibited' | 'maintenance' | 'incident';

export interface FlushAlert {
  readonly id: string;
  readonly state: 'firing' | 'resolved';
  /** Why it must not be notified now; null: it may. */
  readonly muted: MuteReason | null;
  readonly acknowledged: boolean;
}

export interface FlushInput {
  readonly now: number;
  readonly policy: NotificationPolicy;
  readonly severity: Severity;
  readonly escalation: Escalation;
  readonly alerts: readonly FlushAlert[];
  /** Ids of the firing alerts in the latest message. */
  readonly lastSentFiring: readonly string[];
  readonly lastSentAt: number | null;
}

export type FlushDecision =
  | { readonly kind: 'defer'; readonly until: number }
  | {
      readonly kind: 'flush';
      /** The message to send, or null. */
      readonly send: { readonly firing: readonly string[]; readonly resolved: readonly string[] } | null;
      readonly lastSentFiring: readonly string[];
      readonly lastSentAt: number | null;
      /** When to look again; null: when an alert changes. */
      readonly next: number | null;
    };

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((id) => b.includes(id));

/** The repeat interval of a group: CRITICAL pages every criticalRepeatMs until all its firing alerts are acknowledged. */
function repeatEvery(input: FlushInput, firing: readonly FlushAlert[]): number {
  if (input.severity !== 'CRITICAL') return input.policy.repeatIntervalMs;
  if (firing.every((a) => a.acknowledged)) return Number.POSITIVE_INFINITY;
  return Math.min(input.policy.repeatIntervalMs, input.escalation.criticalRepeatMs);
}

export function decideFlush(input: FlushInput): FlushDecision {
  const gate = escalationGate(input.severity, input.escalation, input.now);
  if (gate !== null) return { kind: 'defer', until: gate };
  const firingAlerts = input.alerts.filter((a) => a.state === 'firing' && a.muted === null);
  const firing = firingAlerts.map((a) => a.id).sort();
  const resolved = input.alerts
    .filter((a) => a.state === 'resolved' && input.lastSentFiring.includes(a.id))
    .map((a) => a.id)
    .sort();
  const every = repeatEvery(input, firingAlerts);
  const changed = !sameSet(firing, input.lastSentFiring);
  const repeatDue = firing.length > 0 && input.lastSentAt !== null && input.now >= input.lastSentAt + every;
  const worthSending = firing.length > 0 || (input.policy.sendResolved && resolved.length > 0);
  const send =
    (changed && worthSending) || repeatDue ? { firing, resolved: input.policy.sendResolved ? resolved : [] } : null;
  const lastSentAt = send === null ? input.lastSentAt : input.now;
  const candidates: number[] = [];
  if (firing.length > 0 && lastSentAt !== null && Number.isFinite(every)) candidates.push(lastSentAt + every);
  // A muted alert is looked at again, so that it is notified once its silence or window ends.
  if (input.alerts.some((a) => a.state === 'firing' && a.muted !== null))
    candidates.push(input.now + input.policy.groupIntervalMs);
  return {
    kind: 'flush',
    send,
    lastSentFiring: firing,
    lastSentAt,
    next: candidates.length === 0 ? null : Math.min(...candidates),
  };
}

/** Per group, state and time (issue 13): the same flush committed again makes no second message. */
export function idempotencyKey(
  groupKey: string,
  scheduledAt: number,
  send: { readonly firing: readonly string[]; readonly resolved: readonly string[] },
): string {
  return createHash('sha256')
    .update(JSON.stringify([groupKey, scheduledAt, send.firing, send.resolved]))
    .digest('hex')
    .slice(0, 40);
}
