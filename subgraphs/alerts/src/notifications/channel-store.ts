/**
 * Channels in PostgreSQL. The secret fields of a channel's settings are sealed together (one SecretBox value bound
 * to the row's id) into `secrets`; `settings` holds the rest, with header names but not their values.
 */
import { randomUUID } from 'node:crypto';
import { heimdallError } from '@heimdall/shared/errors';
import type { PostgresStore } from '../store/index.js';
import {
  type Channel,
  type ChannelSettings,
  type ChannelSpec,
  type ChannelTemplates,
  CHANNEL_TYPES,
  type ChannelType,
  hasSecrets,
} from './channel.js';
import type { SecretBox } from './secret-box.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function channelId(id: string, argument = 'id'): string {
  if (!UUID.test(id))
    throw heimdallError('BAD_USER_INPUT', {
      message: `${argument}: "${id}" is not a channel id (a UUID)`,
      details: { argument },
    });
  return id.toLowerCase();
}

export function channelNotFound(id: string) {
  return heimdallError('NOT_FOUND', { message: `no notification channel with id ${id}`, details: { id } });
}

const SECRET_FIELDS = ['secret', 'webhookUrl', 'password', 'headers'] as const;
/** The secret fields of each type when none is set (nothing sealed). */
const NO_SECRETS: Readonly<Record<ChannelType, Record<string, unknown>>> = {
  WEBHOOK: { secret: null, headers: [] },
  SLACK: {},
  EMAIL: { password: null },
  HTTP: { headers: [] },
};

interface ChannelRow {
  id: string;
  name: string;
  type: string;
  settings: Record<string, unknown>;
  secrets: { sealed?: string };
  templates: ChannelTemplates;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, name, type, settings, secrets, templates, created_at, updated_at';

export class ChannelStore {
  constructor(
    private readonly postgres: PostgresStore,
    private readonly box: SecretBox | undefined,
  ) {}

  private sealed(
    id: string,
    settings: ChannelSettings,
  ): { settings: Record<string, unknown>; secrets: { sealed?: string } } {
    const plain: Record<string, unknown> = { ...settings };
    const secret: Record<string, unknown> = {};
    for (const field of SECRET_FIELDS) {
      if (field in plain) {
        secret[field] = plain[field];
        delete plain[field];
      }
    }
    if ('headers' in settings) plain.headerNames = settings.headers.map((h) => h.name);
    if (!hasSecrets(settings)) return { settings: plain, secrets: {} };
    if (this.box === undefined) {
      throw heimdallError('UNAVAILABLE', {
        message: 'this channel holds secrets, and the alerts service has no NOTIFICATION_SECRET_KEY to seal them with',
        retryAfterSeconds: 3600,
        service: 'alerts',
      });
    }
    return { settings: plain, secrets: { sealed: this.box.seal(JSON.stringify(secret), id) } };
  }

  private channelOf(row: ChannelRow): Channel {
    const type = row.type.toUpperCase() as ChannelType;
    if (!CHANNEL_TYPES.includes(type)) throw new Error(`unexpected stored channel type ${row.type}`);
    const plain = Object.fromEntries(Object.entries(row.settings).filter(([key]) => key !== 'headerNames'));
    let secret: Record<string, unknown> = {};
    if (row.secrets.sealed !== undefined) {
      if (this.box === undefined)
        throw new Error(`channel ${row.id} has sealed secrets and NOTIFICATION_SECRET_KEY is not set`);
      secret = JSON.parse(this.box.open(row.secrets.sealed, row.id)) as Record<string, unknown>;
    }
    return {
      id: row.id,
      name: row.name,
      settings: { ...NO_SECRETS[type], ...plain, ...secret, type } as unknown as ChannelSettings,
      templates: row.templates,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  async create(spec: ChannelSpec): Promise<Channel> {
    const id = randomUUID();
    const { settings, secrets } = this.sealed(id, spec.settings);
    const [row] = await this.postgres.query<ChannelRow>(
      `INSERT INTO notification_channels (id, name, type, settings, secrets, templates) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [
        id,
        spec.name,
        spec.settings.type.toLowerCase(),
        JSON.stringify(settings),
        JSON.stringify(secrets),
        JSON.stringify(spec.templates),
      ],
    );
    return this.channelOf(row!);
  }

  async update(id: string, spec: ChannelSpec): Promise<Channel> {
    const key = channelId(id);
    const { settings, secrets } = this.sealed(key, spec.settings);
    const [row] = await this.postgres.query<ChannelRow>(
      `UPDATE notification_channels SET name = $2, type = $3, settings = $4, secrets = $5, templates = $6, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
      [
        key,
        spec.name,
        spec.settings.type.toLowerCase(),
        JSON.stringify(settings),
        JSON.stringify(secrets),
        JSON.stringify(spec.templates),
      ],
    );
    if (row === undefined) throw channelNotFound(id);
    return this.channelOf(row);
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.postgres.query(
      'DELETE FROM notification_channels WHERE id = $1 RETURNING id',
      [channelId(id)],
      { idempotent: true },
    );
    return rows.length > 0;
  }

  async byId(id: string): Promise<Channel | undefined> {
    const [row] = await this.postgres.query<ChannelRow>(
      `SELECT ${COLUMNS} FROM notification_channels WHERE id = $1`,
      [channelId(id)],
      { idempotent: true },
    );
    return row === undefined ? undefined : this.channelOf(row);
  }

  async list(): Promise<Channel[]> {
    const rows = await this.postgres.query<ChannelRow>(
      `SELECT ${COLUMNS} FROM notification_channels ORDER BY name, id LIMIT 1000`,
      [],
      { idempotent: true },
    );
    return rows.map((row) => this.channelOf(row));
  }
}
