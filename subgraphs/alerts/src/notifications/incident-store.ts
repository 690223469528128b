/**
 * Incidents in PostgreSQL: a firing alert of a service joins the open incident of a linked service (by the
 * service map) or opens its own, in the transaction that applies its state change; a resolved alert leaves, and an
 * incident closes when its last alert has.
 */
import type { AlertStateChange } from '../state-changes/alert-state-change.js';
import type { PostgresStore, Query } from '../store/index.js';
import { type DependencyEdge, isLinked, rootCauseOf } from './incidents.js';

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

/** Where the service map and the incident window come from when an alert joins. */
export interface JoinOptions {
  readonly now: number;
  /** The service map; null when it cannot be read (each alert is then its own incident). */
  readonly edges: readonly DependencyEdge[] | null;
  readonly incidentWindowMs: number;
}

export async function joinIncident(
  query: Query,
  change: AlertStateChange,
  id: string,
  options: JoinOptions,
): Promise<void> {
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
    const [created] = await query<{ id: string }>(
      `INSERT INTO incidents (services, root_cause, lead_alert_id, opened_at, last_fired_at) VALUES ($1, $2, $3, $4, $4) RETURNING id`,
      [JSON.stringify([service]), service, id, now],
    );
    target = { id: created!.id, services: [service] };
  } else {
    const services = target.services.includes(service) ? target.services : [...target.services, service];
    await query('UPDATE incidents SET services = $2, root_cause = $3, last_fired_at = $4 WHERE id = $1', [
      target.id,
      JSON.stringify(services),
      rootCauseOf(services, options.edges ?? []),
      now,
    ]);
  }
  await query(
    'INSERT INTO incident_alerts (incident_id, alert_id, alertname, service, fired_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
    [target.id, id, alertname, service, now],
  );
}

export async function leaveIncident(query: Query, id: string, now: number): Promise<void> {
  const left = await query<{ incident_id: string }>(
    'UPDATE incident_alerts SET resolved_at = $2 WHERE alert_id = $1 AND resolved_at IS NULL RETURNING incident_id',
    [id, new Date(now)],
  );
  if (left.length === 0) return;
  await query(
    `UPDATE incidents SET state = 'closed', closed_at = $2 WHERE id = ANY($1::uuid[]) AND state = 'open'
       AND NOT EXISTS (SELECT 1 FROM incident_alerts ia WHERE ia.incident_id = incidents.id AND ia.resolved_at IS NULL)`,
    [left.map((row) => row.incident_id), new Date(now)],
  );
}

/** An alert's open incident as a flush sees it: its lead alert, and the channels the lead fires in. */
export interface IncidentMembership {
  readonly alert_id: string;
  readonly id: string;
  readonly lead_alert_id: string;
  readonly services: string[];
  readonly root_cause: string;
  readonly lead_channels: string[];
}

/** The open incidents of the alerts `ids`, by alert id. */
export async function openIncidentsOf(query: Query, ids: readonly string[]): Promise<Map<string, IncidentMembership>> {
  const memberships = await query<IncidentMembership>(
    `SELECT ia.alert_id, i.id, i.lead_alert_id, i.services, i.root_cause,
            coalesce((SELECT jsonb_agg(DISTINCT g.channel_id) FROM notification_alerts na JOIN notification_groups g ON g.key = na.group_key
                       WHERE na.alert_id = i.lead_alert_id AND na.state = 'firing'), '[]') AS lead_channels
       FROM incident_alerts ia JOIN incidents i ON i.id = ia.incident_id
      WHERE ia.alert_id = ANY($1) AND ia.resolved_at IS NULL AND i.state = 'open'`,
    [ids],
  );
  return new Map(memberships.map((m) => [m.alert_id, m]));
}

export class IncidentStore {
  constructor(private readonly postgres: PostgresStore) {}

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
      alerts: row.alerts.map((a) => ({
        alertId: a.alert_id,
        alertname: a.alertname,
        service: a.service,
        firedAt: new Date(a.fired_at),
      })),
      openedAt: row.opened_at,
      closedAt: row.closed_at,
    }));
  }
}
