/**
 * The notification pipeline's state in PostgreSQL, so that it survives a restart and is shared by every alerts
 * instance: groups and their alerts (what is pending, what was sent last), deliveries (written in the same
 * transaction as the group's new state: the outbox, and the log), acknowledgements and incidents.
 *
 * Several instances: a state change is applied by whichever instance's worker took its job, under the group's row
 * lock; a due group is flushed by the one instance that locked it (FOR UPDATE SKIP LOCKED).
 */
import { createHash } from 'node:crypto';
import type { Labels } from '../evaluation/conditions.js';
import type { Severity } from '../rules/alert-rule.js';
import type { AlertStateChange } from '../state-changes/alert-state-change.js';
import { type PostgresStore, type Query, alertId } from '../store/index.js';
import { type DependencyEdge, isLinked, rootCauseOf } from './incidents.js';
import { type MessageAlert, type MessageIncident, type NotificationMessage, buildMessage, renderMessage } from './message.js';
import type { MuteContext } from './mute.js';
import { matchLabels } from './mute.js';
import {
  type Escalation,
  type FlushAlert,
  type NotificationPolicy,
  decideFlush,
  effectivePolicy,
  groupKeyOf,
  groupLabelsOf,
  idempotencyKey,
  nextFlushAfterChange,
} from './policy.js';

export interface ApplyOptions {
  readonly defaults: NotificationPolicy;
  readonly now: number;
  /** The service map; null when it cannot be read (each alert is then its own incident). */
  readonly edges: readonly DependencyEdge[] | null;
  readonly incidentWindowMs: number;
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

export type DeliveryStatus = 'pending' | 'sent' | 'failed';

export interface Delivery {
  readonly id: string;
  readonly idempotencyKey: string;
  readonly groupKey: string;
  readonly channelId: string;
  readonly channelName: string;
  readonly groupLabels: Labels;
  readonly state: 'firing' | 'resolved';
  readonly title: string;
  readonly alertCount: number;
  readonly message: NotificationMessage;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly redrives: number;
  readonly lastError: string | null;
  readonly responseStatus: number | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly sentAt: Date | null;
}

export interface IncidentAlertRecord {
  readonly alertId: string;
  readonly alertname: string;
  readonly service: string;
  readonly firedAt: Date;
}

export interface Incident {
  readonly id: string;
  readonly state: 'open' | 'closed';
  readonly services: readonly string[];
  readonly rootCause: string;
  readonly alerts: readonly IncidentAlertRecord[];
  readonly openedAt: Date;
  readonly closedAt: Date | null;
}

export interface IncidentFilter {
  readonly states?: readonly ('open' | 'closed')[] | null;
  readonly service?: string | null;
  readonly from?: Date | null;
  readonly to?: Date | null;
}

export interface DeliveryFilter {
  readonly channelId?: string | null;
  readonly statuses?: readonly DeliveryStatus[] | null;
  readonly from?: Date | null;
  readonly to?: Date | null;
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

interface DeliveryRow {
  id: string;
  idempotency_key: string;
  group_key: string;
  channel_id: string;
  channel_name: string;
  group_labels: Labels;
  state: 'firing' | 'resolved';
  title: string;
  alert_count: number;
  message: NotificationMessage;
  status: DeliveryStatus;
  attempts: number;
  redrives: number;
  last_error: string | null;
  response_status: number | null;
  created_at: Date;
  updated_at: Date;
  sent_at: Date | null;
}

const DELIVERY_COLUMNS = `id::text AS id, idempotency_key, group_key, channel_id, channel_name, group_labels, state, title, alert_count, message, status, attempts,
  redrives, last_error, response_status, created_at, updated_at, sent_at`;

function deliveryOf(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    idempotencyKey: row.idempotency_key,
    groupKey: row.group_key,
    channelId: row.channel_id,
    channelName: row.channel_name,
    groupLabels: row.group_labels,
    state: row.state,
    title: row.title,
    alertCount: row.alert_count,
    message: row.message,
    status: row.status,
    attempts: row.attempts,
    redrives: row.redrives,
    lastError: row.last_error,
    responseStatus: row.response_status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    sentAt: row.sent_at,
  };
}

/** One message to write: a group's, or a channel's digest of several groups. */
interface Outgoing {
  readonly groupKey: string;
  readonly channelId: string;
  readonly channelName: string;
  readonly groupLabels: Labels;
  readonly alerts: readonly MessageAlert[];
  readonly link: string;
  readonly incident: MessageIncident | null;
  readonly key: string;
}

export const DIGEST_ALERTNAME = 'Daily digest';

/** The LOW groups of one channel due at the digest time, as one message. */
function digestOf(parts: readonly Outgoing[], linkUrl: string): Outgoing {
  const [first] = parts;
  if (first === undefined) throw new Error('a digest of no groups');
  const key = createHash('sha256')
    .update(JSON.stringify(parts.map((p) => p.key).sort()))
    .digest('hex')
    .slice(0, 40);
  return {
    groupKey: `digest:${first.channelId}`,
    channelId: first.channelId,
    channelName: first.channelName,
    groupLabels: { alertname: DIGEST_ALERTNAME },
    alerts: parts.flatMap((p) => p.alerts),
    link: `${linkUrl}/alerts`,
    incident: null,
    key,
  };
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

async function joinIncident(query: Query, change: AlertStateChange, id: string, options: ApplyOptions): Promise<void> {
  const service = change.labels.service;
  if (service === undefined || service === '') return;
  const member = await query('SELECT 1 FROM incident_alerts WHERE alert_id = $1 AND resolved_at IS NULL', [id]);
  if (member.length > 0) return;
  const now = new Date(options.now);
  const alertname = change.labels.alertname ?? change.ruleName;
  let target: { id: string; services: string[] } | undefined;
  if (options.edges !== null) {
    const open = await query<{ id: string; services: string[] }>(
      `SELECT id, services FROM incidents WHERE state = 'open' AND last_fired_at >= $1 ORDER BY opened_at FOR UPDATE`,
      [new Date(options.now - options.incidentWindowMs)],
    );
    target = open.find((incident) => isLinked(service, incident.services, options.edges ?? []));
  }
  if (target === undefined) {
    const [created] = await query<{ id: string }>(`INSERT INTO incidents (services, root_cause, lead_alert_id, opened_at, last_fired_at) VALUES ($1, $2, $3, $4, $4) RETURNING id`, [
      JSON.stringify([service]),
      service,
      id,
      now,
    ]);
    target = { id: created!.id, services: [service] };
  } else {
    const services = target.services.includes(service) ? target.services : [...target.services, service];
    await query('UPDATE incidents SET services = $2, root_cause = $3, last_fired_at = $4 WHERE id = $1', [target.id, JSON.stringify(services), rootCauseOf(services, options.edges ?? []), now]);
  }
  await query('INSERT INTO incident_alerts (incident_id, alert_id, alertname, service, fired_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [target.id, id, alertname, service, now]);
}

async function leaveIncident(query: Query, id: string, now: number): Promise<void> {
  const left = await query<{ incident_id: string }>('UPDATE incident_alerts SET resolved_at = $2 WHERE alert_id = $1 AND resolved_at IS NULL RETURNING incident_id', [id, new Date(now)]);
  if (left.length === 0) return;
  await query(
    `UPDATE incidents SET state = 'closed', closed_at = $2 WHERE id = ANY($1::uuid[]) AND state = 'open'
       AND NOT EXISTS (SELECT 1 FROM incident_alerts ia WHERE ia.incident_id = incidents.id AND ia.resolved_at IS NULL)`,
    [left.map((row) => row.incident_id), new Date(now)],
  );
}

export class PipelineStore {
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
        const [existing] = await query<{ last_change_id: string }>('SELECT last_change_id FROM notification_alerts WHERE group_key = $1 AND alert_id = $2', [key, id]);
        if (existing !== undefined && Number(existing.last_change_id) >= changeId) continue;
        if (status === 'firing') {
          await query(
            `INSERT INTO notification_alerts (group_key, alert_id, state, severity, labels, annotations, value, starts_at, last_change_id, log_lines)
             VALUES ($1, $2, 'firing', $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (group_key, alert_id) DO UPDATE SET state = 'firing', severity = $3, labels = $4, annotations = $5, value = $6, starts_at = $7, ends_at = NULL,
               last_change_id = $8, log_lines = $9`,
            [key, id, change.severity, JSON.stringify(change.labels), JSON.stringify(change.annotations), change.value, change.firedAt ?? change.at, changeId, JSON.stringify(options.logLines ?? [])],
          );
        } else {
          if (existing === undefined) continue;
          await query(`UPDATE notification_alerts SET state = 'resolved', value = $3, annotations = $4, ends_at = $5, last_change_id = $6 WHERE group_key = $1 AND alert_id = $2`, [
            key,
            id,
            change.value,
            JSON.stringify(change.annotations),
            change.resolvedAt ?? change.at,
            changeId,
          ]);
        }
        applied = true;
        const next = nextFlushAfterChange({ nextFlushAt: ms(group!.next_flush_at), lastFlushAt: ms(group!.last_flush_at) }, policy, options.now);
        await query('UPDATE notification_groups SET next_flush_at = $2, policy = $3, severity = $4 WHERE key = $1', [key, new Date(next), JSON.stringify(policy), change.severity]);
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
      const groups = await query<GroupRow>('SELECT * FROM notification_groups WHERE next_flush_at <= $1 ORDER BY next_flush_at LIMIT $2 FOR UPDATE SKIP LOCKED', [
        new Date(options.now),
        options.limit,
      ]);
      if (groups.length === 0) return { deliveries: [], groups: 0 };
      const keys = groups.map((g) => g.key);
      const alerts = await query<AlertRow>('SELECT * FROM notification_alerts WHERE group_key = ANY($1) ORDER BY starts_at, alert_id', [keys]);
      const alertsOf = new Map<string, AlertRow[]>();
      for (const alert of alerts) {
        const list = alertsOf.get(alert.group_key);
        if (list === undefined) alertsOf.set(alert.group_key, [alert]);
        else list.push(alert);
      }
      const ids = [...new Set(alerts.map((a) => a.alert_id))];
      const acked = new Set((await query<{ alert_id: string }>('SELECT alert_id FROM notification_acks WHERE alert_id = ANY($1)', [ids])).map((r) => r.alert_id));
      const memberships = await query<{ alert_id: string; id: string; lead_alert_id: string; services: string[]; root_cause: string; lead_channels: string[] }>(
        `SELECT ia.alert_id, i.id, i.lead_alert_id, i.services, i.root_cause,
                coalesce((SELECT jsonb_agg(DISTINCT g.channel_id) FROM notification_alerts na JOIN notification_groups g ON g.key = na.group_key
                           WHERE na.alert_id = i.lead_alert_id AND na.state = 'firing'), '[]') AS lead_channels
           FROM incident_alerts ia JOIN incidents i ON i.id = ia.incident_id
          WHERE ia.alert_id = ANY($1) AND ia.resolved_at IS NULL AND i.state = 'open'`,
        [ids],
      );
      const incidentOf = new Map(memberships.map((m) => [m.alert_id, m]));
      const channels = new Map(
        (await query<{ id: string; name: string }>('SELECT id, name FROM notification_channels WHERE id = ANY($1::uuid[])', [[...new Set(groups.map((g) => g.channel_id))]])).map((c) => [c.id, c.name]),
      );
      const mute = await options.muteContext(query);
      const outgoing: Outgoing[] = [];
      const digests = new Map<string, Outgoing[]>();
      for (const group of groups) {
        const channelName = channels.get(group.channel_id);
        if (channelName === undefined) {
          // The channel was deleted: its groups go with it.
          await query('DELETE FROM notification_groups WHERE key = $1', [group.key]);
          continue;
        }
        const own = alertsOf.get(group.key) ?? [];
        const severity = group.severity as Severity;
        const flushAlerts: FlushAlert[] = own.map((a) => {
          const incident = incidentOf.get(a.alert_id);
          const byIncident = incident !== undefined && incident.lead_alert_id !== a.alert_id && incident.lead_channels.includes(group.channel_id);
          const muted = a.state === 'firing' ? (mute.reason({ id: a.alert_id, labels: matchLabels(a.labels, a.severity as Severity) }, options.now) ?? (byIncident ? 'incident' : null)) : null;
          return { id: a.alert_id, state: a.state, muted, acknowledged: acked.has(a.alert_id) };
        });
        const scheduledAt = ms(group.next_flush_at) ?? options.now;
        const decision = decideFlush({
          now: options.now,
          policy: group.policy,
          severity,
          escalation: options.escalation,
          alerts: flushAlerts,
          lastSentFiring: group.last_sent_firing,
          lastSentAt: ms(group.last_sent_at),
        });
        if (decision.kind === 'defer') {
          await query('UPDATE notification_groups SET next_flush_at = $2 WHERE key = $1', [group.key, new Date(decision.until)]);
          continue;
        }
        if (decision.send !== null) {
          const included = new Set([...decision.send.firing, ...decision.send.resolved]);
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
              link: `${options.linkUrl}/alerts/${encodeURIComponent(a.alert_id)}`,
            }));
          const lead = own.map((a) => incidentOf.get(a.alert_id)).find((m) => m !== undefined && m.services.length > 1);
          const part: Outgoing = {
            groupKey: group.key,
            channelId: group.channel_id,
            channelName,
            groupLabels: group.group_labels,
            alerts: messageAlerts,
            link: `${options.linkUrl}/alerts?rule=${group.rule_id}`,
            incident: lead === undefined ? null : { id: lead.id, services: lead.services, rootCause: lead.root_cause },
            key: idempotencyKey(group.key, scheduledAt, decision.send),
          };
          // LOW alerts due at the digest time go out as one message per channel: the daily digest.
          if (severity === 'LOW' && options.escalation.digest !== null) digests.set(group.channel_id, [...(digests.get(group.channel_id) ?? []), part]);
          else outgoing.push(part);
        }
        await query(`DELETE FROM notification_alerts WHERE group_key = $1 AND state = 'resolved'`, [group.key]);
        if (own.every((a) => a.state === 'resolved')) {
          await query('DELETE FROM notification_groups WHERE key = $1', [group.key]);
          continue;
        }
        await query('UPDATE notification_groups SET last_flush_at = $2, last_sent_at = $3, last_sent_firing = $4, next_flush_at = $5 WHERE key = $1', [
          group.key,
          new Date(options.now),
          date(decision.lastSentAt),
          JSON.stringify(decision.lastSentFiring),
          date(decision.next),
        ]);
      }
      for (const parts of digests.values()) outgoing.push(digestOf(parts, options.linkUrl));
      const deliveries: string[] = [];
      for (const part of outgoing) {
        const message = buildMessage({ groupKey: part.groupKey, groupLabels: part.groupLabels, alerts: part.alerts, link: part.link, incident: part.incident });
        const [row] = await query<{ id: string }>(
          `INSERT INTO notification_deliveries (idempotency_key, group_key, channel_id, channel_name, group_labels, state, title, alert_count, message)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id::text AS id`,
          [
            part.key,
            part.groupKey,
            part.channelId,
            part.channelName,
            JSON.stringify(part.groupLabels),
            message.status,
            renderMessage({ title: null, body: null }, message).title,
            part.alerts.length,
            JSON.stringify(message),
          ],
        );
        if (row !== undefined) deliveries.push(row.id);
      }
      return { deliveries, groups: groups.length };
    });
  }

  /** Pending deliveries created before `before`: those whose job may never have reached the queue. */
  async pendingBefore(before: number, limit: number): Promise<{ id: string; redrives: number }[]> {
    return this.postgres.query<{ id: string; redrives: number }>(
      `SELECT id::text AS id, redrives FROM notification_deliveries WHERE status = 'pending' AND updated_at < $1 ORDER BY id LIMIT $2`,
      [new Date(before), limit],
      { idempotent: true },
    );
  }

  async delivery(id: string): Promise<Delivery | undefined> {
    if (!/^\d{1,18}$/.test(id)) return undefined;
    const [row] = await this.postgres.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM notification_deliveries WHERE id = $1`, [id], { idempotent: true });
    return row === undefined ? undefined : deliveryOf(row);
  }

  /** Records one attempt's outcome; `status` pending means another attempt follows. */
  async recordAttempt(id: string, outcome: { status: DeliveryStatus; error: string | null; responseStatus: number | null }, now: number): Promise<void> {
    await this.postgres.query(
      `UPDATE notification_deliveries SET status = $2, attempts = attempts + 1, last_error = $3, response_status = $4, updated_at = $5,
         sent_at = CASE WHEN $2 = 'sent' THEN $5 ELSE sent_at END
       WHERE id = $1 AND status = 'pending'`,
      [id, outcome.status, outcome.error, outcome.responseStatus, new Date(now)],
    );
  }

  /** A dead letter made pending again; undefined when there is no failed delivery with that id. */
  async redrive(id: string, now: number): Promise<Delivery | undefined> {
    if (!/^\d{1,18}$/.test(id)) return undefined;
    const [row] = await this.postgres.query<DeliveryRow>(
      `UPDATE notification_deliveries SET status = 'pending', redrives = redrives + 1, updated_at = $2 WHERE id = $1 AND status = 'failed' RETURNING ${DELIVERY_COLUMNS}`,
      [id, new Date(now)],
    );
    return row === undefined ? undefined : deliveryOf(row);
  }

  async deliveries(filter: DeliveryFilter, first: number): Promise<Delivery[]> {
    const rows = await this.postgres.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM notification_deliveries
        WHERE ($1::uuid IS NULL OR channel_id = $1) AND ($2::text[] IS NULL OR status = ANY($2)) AND ($3::timestamptz IS NULL OR created_at >= $3)
          AND ($4::timestamptz IS NULL OR created_at < $4)
        ORDER BY id DESC LIMIT $5`,
      [filter.channelId ?? null, filter.statuses ?? null, filter.from ?? null, filter.to ?? null, first],
      { idempotent: true },
    );
    return rows.map(deliveryOf);
  }

  /** Stops the repeats of a firing alert until it resolves; false when it is not firing in any group. */
  async acknowledge(id: string, actor: string): Promise<boolean> {
    return this.postgres.transaction(async (query) => {
      const firing = await query(`SELECT 1 FROM notification_alerts WHERE alert_id = $1 AND state = 'firing' LIMIT 1`, [id]);
      if (firing.length === 0) return false;
      await query('INSERT INTO notification_acks (alert_id, acknowledged_by) VALUES ($1, $2) ON CONFLICT (alert_id) DO NOTHING', [id, actor]);
      return true;
    });
  }

  async incidents(filter: IncidentFilter, first: number): Promise<Incident[]> {
    const rows = await this.postgres.query<{
      id: string;
      state: 'open' | 'closed';
      services: string[];
      root_cause: string;
      opened_at: Date;
      closed_at: Date | null;
      alerts: { alert_id: string; alertname: string; service: string; fired_at: string }[];
    }>(
      `SELECT i.id, i.state, i.services, i.root_cause, i.opened_at, i.closed_at,
              coalesce((SELECT jsonb_agg(jsonb_build_object('alert_id', alert_id, 'alertname', alertname, 'service', service, 'fired_at', fired_at) ORDER BY fired_at)
                          FROM incident_alerts WHERE incident_id = i.id), '[]') AS alerts
         FROM incidents i
        WHERE ($1::text[] IS NULL OR i.state = ANY($1)) AND ($2::text IS NULL OR i.services ? $2)
          AND ($3::timestamptz IS NULL OR i.opened_at >= $3) AND ($4::timestamptz IS NULL OR i.opened_at < $4)
        ORDER BY i.opened_at DESC LIMIT $5`,
      [filter.states ?? null, filter.service ?? null, filter.from ?? null, filter.to ?? null, first],
      { idempotent: true },
    );
    return rows.map((row) => ({
      id: row.id,
      state: row.state,
      services: row.services,
      rootCause: row.root_cause,
      alerts: row.alerts.map((a) => ({ alertId: a.alert_id, alertname: a.alertname, service: a.service, firedAt: new Date(a.fired_at) })),
      openedAt: row.opened_at,
      closedAt: row.closed_at,
    }));
  }
}

/** Firing alerts that may inhibit others (of `severities`, or all), once each, with the labels matchers see. */
export async function firingSources(query: Query, severities: readonly Severity[] | null): Promise<{ id: string; labels: Labels }[]> {
  const rows = await query<{ alert_id: string; labels: Labels; severity: string }>(
    `SELECT DISTINCT ON (alert_id) alert_id, labels, severity FROM notification_alerts WHERE state = 'firing' AND ($1::text[] IS NULL OR severity = ANY($1))`,
    [severities],
  );
  return rows.map((row) => ({ id: row.alert_id, labels: matchLabels(row.labels, row.severity as Severity) }));
}
