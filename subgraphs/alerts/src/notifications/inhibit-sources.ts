/** The firing alerts that inhibit rules look for, read in a flush's transaction. */
import type { Labels } from '../evaluation/conditions.js';
import type { Severity } from '../rules/alert-rule.js';
import type { Query } from '../store/index.js';
import { matchLabels } from './mute.js';

/** Firing alerts that may inhibit others (of `severities`, or all), once each, with the labels matchers see. */
export async function firingSources(
  query: Query,
  severities: readonly Severity[] | null,
): Promise<{ id: string; labels: Labels }[]> {
  const rows = await query<{ alert_id: string; labels: Labels; severity: string }>(
    `SELECT DISTINCT ON (alert_id) alert_id, labels, severity FROM notification_alerts WHERE state = 'firing' AND ($1::text[] IS NULL OR severity = ANY($1))`,
    [severities],
  );
  return rows.map((row) => ({ id: row.alert_id, labels: matchLabels(row.labels, row.severity as Severity) }));
}
