/**
 * The delivery outbox and log in PostgreSQL: a message decided by a flush is written here as a pending delivery in
 * the flush's transaction (at most once per idempotency key), then sent by whichever instance's worker takes its
 * job; each attempt's outcome is recorded, and a dead letter can be made pending again.
 */
import type { Labels } from '../evaluation/conditions.js';
import type { PostgresStore, Query } from '../store/index.js';
import {
  type MessageAlert,
  type MessageIncident,
  type NotificationMessage,
  buildMessage,
  renderMessage,
} from './message.js';

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

export interface DeliveryFilter {
  readonly channelId?: string | null;
  readonly statuses?: readonly DeliveryStatus[] | null;
  readonly from?: Date | null;
  readonly to?: Date | null;
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
export interface Outgoing {
  readonly groupKey: string;
  readonly channelId: string;
  readonly channelName: string;
  readonly groupLabels: Labels;
  readonly alerts: readonly MessageAlert[];
  readonly link: string;
  readonly incident: MessageIncident | null;
  readonly key: string;
}

/** Writes each message as a pending delivery, once per idempotency key; the ids of those written now. */
export async function writeDeliveries(query: Query, outgoing: readonly Outgoing[]): Promise<string[]> {
  const deliveries: string[] = [];
  for (const part of outgoing) {
    const message = buildMessage({
      groupKey: part.groupKey,
      groupLabels: part.groupLabels,
      alerts: part.alerts,
      link: part.link,
      incident: part.incident,
    });
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
  return deliveries;
}

export class DeliveryOutbox {
  constructor(private readonly postgres: PostgresStore) {}

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
    const [row] = await this.postgres.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM notification_deliveries WHERE id = $1`,
      [id],
      { idempotent: true },
    );
    return row === undefined ? undefined : deliveryOf(row);
  }

  /** Records one attempt's outcome; `status` pending means another attempt follows. */
  async recordAttempt(
    id: string,
    outcome: { status: DeliveryStatus; error: string | null; responseStatus: number | null },
    now: number,
  ): Promise<void> {
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
}
