/**
 * The notification groups in PostgreSQL, so that they survive a restart and are shared by every alerts instance:
 * groups and their alerts (what is pending, what was sent last) and acknowledgements. A flush writes its messages
 * to the delivery outbox in the same transaction as the groups' new state.
 *
 * Several instances: a state change is applied by whichever instance's worker took its job, under the group's row
 * lock; a due group is flushed by the one instance that locked it (FOR UPDATE SKIP LOCKED).
 */
import type { Labels } from '../evaluation/conditions.js';
import type { Severity } from '../rules/alert-rule.js';
import type { AlertStateChange } from '../state-changes/alert-state-change.js';
import { type PostgresStore, type Query, alertId } from '../store/index.js';
import { type Outgoing, writeDeliveries } from './delivery-outbox.js';
import { digestOf } from './digest.js';
import {
  type IncidentMembership,
  type JoinOptions,
  joinIncident,
  leaveIncident,
  openIncidentsOf,
} from './incident-store.js';
import type { MessageAlert } from './message.js';
import type { MuteContext } from './mute.js';
import { matchLabels } from './mute.js';
import {
  type Escalation,
  type FlushAlert,
  type FlushDecision,
  type NotificationPolicy,
  decideFlush,
  effectivePolicy,
  groupKeyOf,
  groupLabelsOf,
  idempotencyKey,
  nextFlushAfterChange,
} from './policy.js';

export interface ApplyOptions extends JoinOptions {
  readonly defaults: NotificationPolicy;
  /** For a firing alert of a log condition: the newest matching lines. */
  readonly logLines?: readonly string[];
}

export interface FlushOptions {
  readonly now: number;
  readonly limit: number;
  readonly escalation: Escalation;
  readonly linkUrl: string;
  /** What mutes alerts now, read in the flush's transaction. */
  readonly muteContext: (query: Query) => Promise<MuteContext>;
}

interface GroupRow {
  key: string;
  channel_id: string;
  rule_id: string;
  severity: string;
  group_labels: Labels;
  policy: NotificationPolicy;
  next_flush_at: Date | null;
  last_flush_at: Date | null;
  last_sent_at: Date | null;
  last_sent_firing: string[];
}

interface AlertRow {
  group_key: string;
  alert_id: string;
  state: 'firing' | 'resolved';
  severity: string;
  labels: Labels;
  annotations: Record<string, string>;
  value: number | null;
  log_lines: string[];
  starts_at: Date;
  ends_at: Date | null;
}

/** What a flush reads once for all the groups it locked. */
interface FlushContext {
  readonly alertsOf: ReadonlyMap<string, readonly AlertRow[]>;
  readonly acked: ReadonlySet<string>;
  readonly incidentOf: ReadonlyMap<string, IncidentMembership>;
  /** Channel names by id; a channel missing here was deleted. */
  readonly channels: ReadonlyMap<string, string>;
  readonly mute: MuteContext;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const ms = (date: Date | null) => (date === null ? null : date.getTime());
const date = (value: number | null) => (value === null ? null : new Date(value));

/** The notification status a state change means for an alert; null: none (pending, nodata…). */
function statusOf(change: AlertStateChange): 'firing' | 'resolved' | null {
  if (change.to === 'FIRING') return 'firing';
  if (change.from === 'FIRING') return 'resolved';
  return null;
}

/** Up to `limit` due groups, each locked so that no other instance flushes it at the same time. */
function lockDueGroups(query: Query, options: FlushOptions): Promise<GroupRow[]> {
  return query<GroupRow>(
    'SELECT * FROM notification_groups WHERE next_flush_at <= $1 ORDER BY next_flush_at LIMIT $2 FOR UPDATE SKIP LOCKED',
    [new Date(options.now), options.limit],
  );
}

async function readFlushContext(
  query: Query,
  groups: readonly GroupRow[],
  options: FlushOptions,
): Promise<FlushContext> {
  const keys = groups.map((g) => g.key);
  const alerts = await query<AlertRow>(
    'SELECT * FROM notification_alerts WHERE group_key = ANY($1) ORDER BY starts_at, alert_id',
    [keys],
  );
  const alertsOf = new Map<string, AlertRow[]>();
  for (const alert of alerts) {
    const list = alertsOf.get(alert.group_key);
    if (list === undefined) alertsOf.set(alert.group_key, [alert]);
    else list.push(alert);
  }
  const ids = [...new Set(alerts.map((a) => a.alert_id))];
  const acked = new Set(
    (await query<{ alert_id: string }>('SELECT alert_id FROM notification_acks WHERE alert_id = ANY($1)', [ids])).map(
      (r) => r.alert_id,
    ),
  );
  const incidentOf = await openIncidentsOf(query, ids);
  const channels = new Map(
    (
      await query<{ id: string; name: string }>(
        'SELECT id, name FROM notification_channels WHERE id = ANY($1::uuid[])',
        [[...new Set(groups.map((g) => g.channel_id))]],
      )
    ).map((c) => [c.id, c.name]),
  );
  const mute = await options.muteContext(query);
  return { alertsOf, acked, incidentOf, channels, mute };
}

/** The group's alerts as the policy sees them: muted (an alert of an incident whose lead pages this channel too), acknowledged. */
function flushAlertsOf(group: GroupRow, own: readonly AlertRow[], context: FlushContext, now: number): FlushAlert[] {
  return own.map((a) => {
    const incident = context.incidentOf.get(a.alert_id);
    const byIncident =
      incident !== undefined &&
      incident.lead_alert_id !== a.alert_id &&
      incident.lead_channels.includes(group.channel_id);
    const muted =
      a.state === 'firing'
        ? (context.mute.reason({ id: a.alert_id, labels: matchLabels(a.labels, a.severity as Severity) }, now) ??
          (byIncident ? 'incident' : null))
        : null;
    return { id: a.alert_id, state: a.state, muted, acknowledged: context.acked.has(a.alert_id) };
  });
}

/** The message a flush decided to send for a group. */
function outgoingOf(
  group: GroupRow,
  channelName: string,
  own: readonly AlertRow[],
  send: NonNullable<Extract<FlushDecision, { kind: 'flush' }>['send']>,
  context: FlushContext,
  scheduledAt: number,
  linkUrl: string,
): Outgoing {
  const included = new Set([...send.firing, ...send.resolved]);
  const messageAlerts: MessageAlert[] = own
    .filter((a) => included.has(a.alert_id))
    .map((a) => ({
      id: a.alert_id,
      status: a.state,
      severity: a.severity as Severity,
      labels: a.labels,
      annotations: a.annotations,
      value: a.value,
      logLines: a.log_lines,
      startsAt: a.starts_at.toISOString(),
      endsAt: a.ends_at?.toISOString() ?? null,
      link: `${linkUrl}/alerts/${encodeURIComponent(a.alert_id)}`,
    }));
  const lead = own.map((a) => context.incidentOf.get(a.alert_id)).find((m) => m !== undefined && m.services.length > 1);
  return {
    groupKey: group.key,
    channelId: group.channel_id,
    channelName,
    groupLabels: group.group_labels,
    alerts: messageAlerts,
    link: `${linkUrl}/alerts?rule=${group.rule_id}`,
    incident: lead === undefined ? null : { id: lead.id, services: lead.services, rootCause: lead.root_cause },
    key: idempotencyKey(group.key, scheduledAt, send),
  };
}

/** The group's state after a flush: its resolved alerts dropped, the group too once none is left firing. */
async function recordFlush(
  query: Query,
  group: GroupRow,
  own: readonly AlertRow[],
  decision: Extract<FlushDecision, { kind: 'flush' }>,
  now: number,
): Promise<void> {
  await query(`DELETE FROM notification_alerts WHERE group_key = $1 AND state = 'resolved'`, [group.key]);
  if (own.every((a) => a.state === 'resolved')) {
    await query('DELETE FROM notification_groups WHERE key = $1', [group.key]);
    return;
  }
  await query(
    'UPDATE notification_groups SET last_flush_at = $2, last_sent_at = $3, last_sent_firing = $4, next_flush_at = $5 WHERE key = $1',
    [group.key, new Date(now), date(decision.lastSentAt), JSON.stringify(decision.lastSentFiring), date(decision.next)],
  );
}

/** Decides one locked group and writes its new state; the message it sends, if any. */
async function flushGroup(
  query: Query,
  group: GroupRow,
  context: FlushContext,
  options: FlushOptions,
): Promise<Outgoing | null> {
  const channelName = context.channels.get(group.channel_id);
  if (channelName === undefined) {
    // The channel was deleted: its groups go with it.
    await query('DELETE FROM notification_groups WHERE key = $1', [group.key]);
    return null;
  }
  const own = context.alertsOf.get(group.key) ?? [];
  const decision = decideFlush({
    now: options.now,
    policy: group.policy,
    severity: group.severity as Severity,
    escalation: options.escalation,
    alerts: flushAlertsOf(group, own, context, options.now),
    lastSentFiring: group.last_sent_firing,
    lastSentAt: ms(group.last_sent_at),
  });
  if (decision.kind === 'defer') {
    await query('UPDATE notification_groups SET next_flush_at = $2 WHERE key = $1', [
      group.key,
      new Date(decision.until),
    ]);
    return null;
  }
  const scheduledAt = ms(group.next_flush_at) ?? options.now;
  const part =
    decision.send === null
      ? null
      : outgoingOf(group, channelName, own, decision.send, context, scheduledAt, options.linkUrl);
  await recordFlush(query, group, own, decision, options.now);
  return part;
}

export class GroupStore {
  constructor(private readonly postgres: PostgresStore) {}

  /** Applies one published state change to the groups of its channels; a change seen before is skipped. */
  applyChange(change: AlertStateChange, options: ApplyOptions): Promise<void> {
    const status = statusOf(change);
    // Channel ids are UUIDs; a rule naming something else has nowhere to send to.
    const channels = [...new Set(change.channels.filter((id) => UUID.test(id)).map((id) => id.toLowerCase()))];
    if (status === null || channels.length === 0) return Promise.resolve();
    const id = alertId(change.ruleId, change.instanceKey);
    const policy = effectivePolicy(options.defaults, change.notification);
    const groupLabels = groupLabelsOf(change.labels, policy.groupBy);
    const changeId = Number(change.id);
    return this.postgres.transaction(async (query) => {
      let applied = false;
      for (const channel of channels) {
        const key = groupKeyOf(channel, change.ruleId, groupLabels);
        let [group] = await query<GroupRow>('SELECT * FROM notification_groups WHERE key = $1 FOR UPDATE', [key]);
        if (group === undefined) {
          if (status === 'resolved') continue;
          [group] = await query<GroupRow>(
            `INSERT INTO notification_groups (key, channel_id, rule_id, severity, group_labels, policy) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (key) DO UPDATE SET policy = EXCLUDED.policy RETURNING *`,
            [key, channel, change.ruleId, change.severity, JSON.stringify(groupLabels), JSON.stringify(policy)],
          );
        }
        const [existing] = await query<{ last_change_id: string }>(
          'SELECT last_change_id FROM notification_alerts WHERE group_key = $1 AND alert_id = $2',
          [key, id],
        );
        if (existing !== undefined && Number(existing.last_change_id) >= changeId) continue;
        if (status === 'firing') {
          await query(
            `INSERT INTO notification_alerts (group_key, alert_id, state, severity, labels, annotations, value, starts_at, last_change_id, log_lines)
             VALUES ($1, $2, 'firing', $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (group_key, alert_id) DO UPDATE SET state = 'firing', severity = $3, labels = $4, annotations = $5, value = $6, starts_at = $7, ends_at = NULL,
               last_change_id = $8, log_lines = $9`,
            [
              key,
              id,
              change.severity,
              JSON.stringify(change.labels),
              JSON.stringify(change.annotations),
              change.value,
              change.firedAt ?? change.at,
              changeId,
              JSON.stringify(options.logLines ?? []),
            ],
          );
        } else {
          if (existing === undefined) continue;
          await query(
            `UPDATE notification_alerts SET state = 'resolved', value = $3, annotations = $4, ends_at = $5, last_change_id = $6 WHERE group_key = $1 AND alert_id = $2`,
            [key, id, change.value, JSON.stringify(change.annotations), change.resolvedAt ?? change.at, changeId],
          );
        }
        applied = true;
        const next = nextFlushAfterChange(
          { nextFlushAt: ms(group!.next_flush_at), lastFlushAt: ms(group!.last_flush_at) },
          policy,
          options.now,
        );
        await query('UPDATE notification_groups SET next_flush_at = $2, policy = $3, severity = $4 WHERE key = $1', [
          key,
          new Date(next),
          JSON.stringify(policy),
          change.severity,
        ]);
      }
      if (!applied) return;
      if (status === 'firing') {
        await joinIncident(query, change, id, options);
      } else {
        await query('DELETE FROM notification_acks WHERE alert_id = $1', [id]);
        await leaveIncident(query, id, options.now);
      }
    });
  }

  /**
   * Looks at up to `limit` due groups, each locked so that no other instance does at the same time: decides, writes
   * the message to send as a pending delivery (at most once per idempotency key) and the group's new state. Returns
   * the ids of the deliveries to enqueue, and how many groups it looked at.
   */
  flushDue(options: FlushOptions): Promise<{ deliveries: string[]; groups: number }> {
    return this.postgres.transaction(async (query) => {
      const groups = await lockDueGroups(query, options);
      if (groups.length === 0) return { deliveries: [], groups: 0 };
      const context = await readFlushContext(query, groups, options);
      const outgoing: Outgoing[] = [];
      const digests = new Map<string, Outgoing[]>();
      for (const group of groups) {
        const part = await flushGroup(query, group, context, options);
        if (part === null) continue;
        // LOW alerts due at the digest time go out as one message per channel: the daily digest.
        if (group.severity === 'LOW' && options.escalation.digest !== null)
          digests.set(group.channel_id, [...(digests.get(group.channel_id) ?? []), part]);
        else outgoing.push(part);
      }
      for (const parts of digests.values()) outgoing.push(digestOf(parts, options.linkUrl));
      return { deliveries: await writeDeliveries(query, outgoing), groups: groups.length };
    });
  }

  /** Stops the repeats of a firing alert until it resolves; false when it is not firing in any group. */
  async acknowledge(id: string, actor: string): Promise<boolean> {
    return this.postgres.transaction(async (query) => {
      const firing = await query(`SELECT 1 FROM notification_alerts WHERE alert_id = $1 AND state = 'firing' LIMIT 1`, [
        id,
      ]);
      if (firing.length === 0) return false;
      await query(
        'INSERT INTO notification_acks (alert_id, acknowledged_by) VALUES ($1, $2) ON CONFLICT (alert_id) DO NOTHING',
        [id, actor],
      );
      return true;
    });
  }
}
