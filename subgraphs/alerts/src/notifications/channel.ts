/**
 * Notification channels (issue 13) after validation: a discriminated union by type. Secrets (a webhook's secret,
 * a Slack webhook URL, an SMTP password, header values) are plain here; channel-store.ts seals them at rest and the
 * GraphQL types never show them.
 */

export const CHANNEL_TYPES = ['WEBHOOK', 'SLACK', 'EMAIL', 'HTTP'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

export interface Header {
  readonly name: string;
  readonly value: string;
}

export interface WebhookSettings {
  readonly type: 'WEBHOOK';
  readonly url: string;
  readonly secret: string | null;
  readonly headers: readonly Header[];
}

export interface SlackSettings {
  readonly type: 'SLACK';
  readonly webhookUrl: string;
  readonly channel: string | null;
  readonly username: string | null;
}

export interface EmailSettings {
  readonly type: 'EMAIL';
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  readonly requireTls: boolean;
  readonly rejectUnauthorized: boolean;
  readonly username: string | null;
  readonly password: string | null;
  readonly from: string;
  readonly to: readonly string[];
}

export interface HttpSettings {
  readonly type: 'HTTP';
  readonly url: string;
  readonly method: 'POST' | 'PUT' | 'PATCH';
  readonly headers: readonly Header[];
  /** A template over the message. */
  readonly body: string;
  readonly contentType: string;
}

export type ChannelSettings = WebhookSettings | SlackSettings | EmailSettings | HttpSettings;

export const isWebhook = (s: ChannelSettings): s is WebhookSettings => s.type === 'WEBHOOK';
export const isSlack = (s: ChannelSettings): s is SlackSettings => s.type === 'SLACK';
export const isEmail = (s: ChannelSettings): s is EmailSettings => s.type === 'EMAIL';
export const isHttp = (s: ChannelSettings): s is HttpSettings => s.type === 'HTTP';

/** Template sources; null: the built-in one. */
export interface ChannelTemplates {
  readonly title: string | null;
  readonly body: string | null;
}

export interface ChannelSpec {
  readonly name: string;
  readonly settings: ChannelSettings;
  readonly templates: ChannelTemplates;
}

export interface Channel extends ChannelSpec {
  readonly id: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Whether a channel holds any secret, i.e. needs NOTIFICATION_SECRET_KEY to be stored. */
export function hasSecrets(settings: ChannelSettings): boolean {
  if (isWebhook(settings)) return settings.secret !== null || settings.headers.length > 0;
  if (isEmail(settings)) return settings.password !== null;
  if (isHttp(settings)) return settings.headers.length > 0;
  return true;
}
