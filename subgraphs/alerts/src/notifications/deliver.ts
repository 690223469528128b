/**
 * Sending one message to one channel, once: the webhook (signed JSON), Slack's incoming-webhook payload, email over
 * SMTP (nodemailer) and a generic HTTP provider. The outcome is a value: whether it worked, what the receiver said,
 * whether trying again may help and when (its Retry-After). Retries are the delivery queue's.
 */
import nodemailer from 'nodemailer';
import {
  type Channel,
  type ChannelSettings,
  type EmailSettings,
  type HttpSettings,
  type SlackSettings,
  type WebhookSettings,
  isEmail,
  isHttp,
  isSlack,
  isWebhook,
} from './channel.js';
import { type NotificationMessage, type RenderedMessage, renderMessage, renderTemplate } from './message.js';
import { SIGNATURE_HEADER, signatureHeader } from './signature.js';

export type DeliveryOutcome =
  | { readonly ok: true; readonly status: number | null; readonly message: string; readonly durationMs: number }
  | {
      readonly ok: false;
      readonly status: number | null;
      readonly message: string;
      readonly durationMs: number;
      /** False when the same request cannot succeed later (a 4xx other than 408/429, a rejected recipient). */
      readonly retryable: boolean;
      /** The receiver's Retry-After, in ms. */
      readonly retryAfterMs: number | null;
    };

export interface SendOptions {
  /** Sent as X-Heimdall-Idempotency-Key so that a receiver can drop a message it already has. */
  readonly idempotencyKey: string;
  readonly timeoutMs: number;
  readonly now?: () => number;
}

export const IDEMPOTENCY_HEADER = 'X-Heimdall-Idempotency-Key';
const USER_AGENT = 'Heimdall-Alerts/0.1';

/** Retry-After as seconds or an HTTP date, in ms from `now`. */
export function retryAfterMs(value: string | null, now: number): number | null {
  if (value === null || value.trim() === '') return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

const describe = (error: unknown) =>
  error instanceof Error
    ? error.cause instanceof Error
      ? `${error.message}: ${error.cause.message}`
      : error.message
    : String(error);

async function post(
  url: string,
  init: { method: string; headers: Record<string, string>; body: string },
  options: SendOptions,
  started: number,
): Promise<DeliveryOutcome> {
  const now = options.now ?? Date.now;
  try {
    const response = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(options.timeoutMs) });
    const text = (await response.text()).slice(0, 200);
    const durationMs = now() - started;
    if (response.ok) return { ok: true, status: response.status, message: `HTTP ${response.status}`, durationMs };
    const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
    return {
      ok: false,
      status: response.status,
      message: `HTTP ${response.status}${text === '' ? '' : `: ${text}`}`,
      durationMs,
      retryable,
      retryAfterMs: retryAfterMs(response.headers.get('retry-after'), now()),
    };
  } catch (error) {
    return {
      ok: false,
      status: null,
      message: describe(error),
      durationMs: now() - started,
      retryable: true,
      retryAfterMs: null,
    };
  }
}

function headerRecord(headers: readonly { name: string; value: string }[]): Record<string, string> {
  return Object.fromEntries(headers.map((h) => [h.name, h.value]));
}

/** The webhook's JSON: the message plus its rendered title and text. */
export function webhookBody(message: NotificationMessage, rendered: RenderedMessage, idempotencyKey: string): string {
  return JSON.stringify({ ...message, idempotencyKey, title: rendered.title, text: rendered.body });
}

function sendWebhook(
  settings: WebhookSettings,
  message: NotificationMessage,
  rendered: RenderedMessage,
  options: SendOptions,
  started: number,
) {
  const body = webhookBody(message, rendered, options.idempotencyKey);
  const headers: Record<string, string> = {
    ...headerRecord(settings.headers),
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    [IDEMPOTENCY_HEADER]: options.idempotencyKey,
  };
  if (settings.secret !== null)
    headers[SIGNATURE_HEADER] = signatureHeader(settings.secret, body, Math.floor((options.now ?? Date.now)() / 1000));
  return post(settings.url, { method: 'POST', headers, body }, options, started);
}

const SLACK_COLOURS = { firing: '#d63232', resolved: '#2eb886' } as const;

/** Slack's incoming-webhook payload: one attachment per alert (at most 20), coloured by state. */
export function slackPayload(
  settings: Pick<SlackSettings, 'channel' | 'username'>,
  message: NotificationMessage,
  rendered: RenderedMessage,
): Record<string, unknown> {
  const attachments = message.alerts.slice(0, 20).map((alert) => ({
    color: SLACK_COLOURS[alert.status],
    title: `[${alert.status.toUpperCase()}] ${alert.labels.alertname ?? ''}`,
    title_link: alert.link,
    fields: [
      { title: 'Alert', value: alert.labels.alertname ?? '', short: true },
      { title: 'Severity', value: alert.severity.toLowerCase(), short: true },
      { title: 'Service', value: alert.labels.service ?? '-', short: true },
      { title: 'Description', value: alert.annotations.description ?? alert.annotations.summary ?? '', short: false },
    ],
  }));
  return {
    ...(settings.channel === null ? {} : { channel: settings.channel }),
    ...(settings.username === null ? {} : { username: settings.username }),
    text: `*${rendered.title}*\n${rendered.body}`,
    attachments: [
      {
        color: SLACK_COLOURS[message.status],
        title: rendered.title,
        title_link: message.link,
        fallback: rendered.title,
      },
      ...attachments,
    ],
  };
}

function sendSlack(
  settings: SlackSettings,
  message: NotificationMessage,
  rendered: RenderedMessage,
  options: SendOptions,
  started: number,
) {
  const body = JSON.stringify(slackPayload(settings, message, rendered));
  return post(
    settings.webhookUrl,
    { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT }, body },
    options,
    started,
  );
}

function sendHttp(settings: HttpSettings, message: NotificationMessage, options: SendOptions, started: number) {
  const body = renderTemplate(settings.body, message, 65_536);
  const headers = {
    ...headerRecord(settings.headers),
    'content-type': settings.contentType,
    'user-agent': USER_AGENT,
    [IDEMPOTENCY_HEADER]: options.idempotencyKey,
  };
  return post(settings.url, { method: settings.method, headers, body }, options, started);
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

export function emailHtml(message: NotificationMessage, rendered: RenderedMessage): string {
  const rows = message.alerts
    .map(
      (a) =>
        `<tr><td style="color:${SLACK_COLOURS[a.status]}">${a.status.toUpperCase()}</td><td>${escapeHtml(a.labels.alertname ?? '')}</td><td>${escapeHtml(a.labels.service ?? '')}</td><td>${escapeHtml(a.severity.toLowerCase())}</td><td>${escapeHtml(a.annotations.summary ?? '')}</td><td><a href="${escapeHtml(a.link)}">open</a></td></tr>`,
    )
    .join('');
  return `<h2>${escapeHtml(rendered.title)}</h2><pre>${escapeHtml(rendered.body)}</pre><table><tr><th>State</th><th>Alert</th><th>Service</th><th>Severity</th><th>Summary</th><th></th></tr>${rows}</table>`;
}

async function sendEmail(
  settings: EmailSettings,
  message: NotificationMessage,
  rendered: RenderedMessage,
  options: SendOptions,
  started: number,
): Promise<DeliveryOutcome> {
  const now = options.now ?? Date.now;
  const transport = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    requireTLS: settings.requireTls,
    tls: { rejectUnauthorized: settings.rejectUnauthorized },
    ...(settings.username === null ? {} : { auth: { user: settings.username, pass: settings.password ?? '' } }),
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
  try {
    const info = await transport.sendMail({
      from: settings.from,
      to: [...settings.to],
      subject: rendered.title,
      text: rendered.body,
      html: emailHtml(message, rendered),
      headers: { [IDEMPOTENCY_HEADER]: options.idempotencyKey },
    });
    return {
      ok: true,
      status: null,
      message: `accepted by ${settings.host}: ${info.response}`,
      durationMs: now() - started,
    };
  } catch (error) {
    const code = (error as { responseCode?: unknown }).responseCode;
    // SMTP 5xx is permanent (a rejected recipient or sender), 4xx and connection failures are worth a retry.
    const retryable = !(typeof code === 'number' && code >= 500);
    return {
      ok: false,
      status: null,
      message: describe(error),
      durationMs: now() - started,
      retryable,
      retryAfterMs: null,
    };
  } finally {
    transport.close();
  }
}

/** The secret values of a channel's settings. */
function secretsOf(settings: ChannelSettings): string[] {
  const values: (string | null)[] = [];
  if (isSlack(settings)) values.push(settings.webhookUrl);
  if (isEmail(settings)) values.push(settings.password);
  if (isWebhook(settings)) values.push(settings.secret);
  if (isWebhook(settings) || isHttp(settings)) values.push(...settings.headers.map((h) => h.value));
  return values.filter((v): v is string => v !== null && v.length >= 4);
}

/** An outcome's message without the channel's secrets: it is shown in notificationLog and logged. */
export function redacted(outcome: DeliveryOutcome, settings: ChannelSettings): DeliveryOutcome {
  const message = secretsOf(settings).reduce((text, secret) => text.replaceAll(secret, '[secret]'), outcome.message);
  return message === outcome.message ? outcome : { ...outcome, message };
}

function send(
  channel: Channel,
  message: NotificationMessage,
  options: SendOptions,
  started: number,
): Promise<DeliveryOutcome> {
  const { settings } = channel;
  if (isHttp(settings)) return sendHttp(settings, message, options, started);
  const rendered = renderMessage(channel.templates, message);
  if (isSlack(settings)) return sendSlack(settings, message, rendered, options, started);
  if (isEmail(settings)) return sendEmail(settings, message, rendered, options, started);
  return sendWebhook(settings, message, rendered, options, started);
}

/** One attempt to deliver `message` over `channel`. Never throws for the receiver's failures. */
export async function deliver(
  channel: Channel,
  message: NotificationMessage,
  options: SendOptions,
): Promise<DeliveryOutcome> {
  return redacted(await send(channel, message, options, (options.now ?? Date.now)()), channel.settings);
}
