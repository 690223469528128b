/**
 * NotificationChannelInput checked and normalised into a ChannelSpec, every problem reported on the field path the
 * client wrote (`email.to[1]`, `templates.body`), a template that does not parse with its line and column. On
 * update, secrets left out keep the stored channel's (when its type is unchanged): they are write-only, so a
 * client that read the channel cannot send them back.
 */
import type { FieldError } from '@heimdall/shared/user-input';
import { parseTemplate } from '../rules/annotation-templates.js';
import {
  type Channel,
  type ChannelSettings,
  type ChannelSpec,
  CHANNEL_TYPES,
  type Header,
  isEmail,
  isHttp,
  isSlack,
  isWebhook,
} from './channel.js';
import { MESSAGE_VARIABLES } from './message.js';

type Maybe<T> = T | null | undefined;

export interface HeaderInput {
  readonly name: string;
  readonly value: string;
}

export interface NotificationChannelInput {
  readonly name: string;
  readonly type: string;
  readonly webhook?: Maybe<{
    readonly url: string;
    readonly secret?: Maybe<string>;
    readonly headers?: Maybe<readonly HeaderInput[]>;
  }>;
  readonly slack?: Maybe<{
    readonly webhookUrl?: Maybe<string>;
    readonly channel?: Maybe<string>;
    readonly username?: Maybe<string>;
  }>;
  readonly email?: Maybe<{
    readonly host: string;
    readonly port?: Maybe<number>;
    readonly secure?: Maybe<boolean>;
    readonly requireTls?: Maybe<boolean>;
    readonly rejectUnauthorized?: Maybe<boolean>;
    readonly username?: Maybe<string>;
    readonly password?: Maybe<string>;
    readonly from: string;
    readonly to: readonly string[];
  }>;
  readonly http?: Maybe<{
    readonly url: string;
    readonly method?: Maybe<string>;
    readonly headers?: Maybe<readonly HeaderInput[]>;
    readonly body: string;
    readonly contentType?: Maybe<string>;
  }>;
  readonly templates?: Maybe<{ readonly title?: Maybe<string>; readonly body?: Maybe<string> }>;
}

export type ChannelValidation =
  { readonly ok: true; readonly spec: ChannelSpec } | { readonly ok: false; readonly errors: readonly FieldError[] };

export const CHANNEL_LIMITS = {
  name: 200,
  url: 2048,
  headers: 20,
  headerValue: 4096,
  recipients: 50,
  template: 16_384,
  text: 256,
} as const;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the channel sets itself. */
const RESERVED_HEADERS = new Set([
  'content-type',
  'content-length',
  'host',
  'x-heimdall-signature',
  'x-heimdall-idempotency-key',
]);
const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;
const METHODS = ['POST', 'PUT', 'PATCH'] as const;

class Checker {
  readonly errors: FieldError[] = [];

  fail(field: string, message: string) {
    this.errors.push({ field, message });
  }

  text(field: string, value: Maybe<string>, max: number, options: { required?: boolean } = {}): string | null {
    if (value === null || value === undefined || value.trim() === '') {
      if (options.required === true) this.fail(field, 'is required');
      return null;
    }
    if (value.length > max) this.fail(field, `is longer than ${max} characters`);
    return value.trim();
  }

  url(field: string, value: Maybe<string>): string {
    const text = this.text(field, value, CHANNEL_LIMITS.url, { required: true }) ?? '';
    if (text === '') return '';
    let parsed: URL | undefined;
    try {
      parsed = new URL(text);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
      this.fail(field, 'is not an http or https URL');
    return text;
  }

  template(field: string, value: Maybe<string>): string | null {
    if (value === null || value === undefined) return null;
    if (value.length > CHANNEL_LIMITS.template)
      this.fail(field, `is longer than ${CHANNEL_LIMITS.template} characters`);
    const parsed = parseTemplate(value, { variables: MESSAGE_VARIABLES });
    if (!parsed.ok) this.fail(field, `line ${parsed.line}, column ${parsed.column}: ${parsed.message}`);
    return value;
  }

  headers(field: string, value: Maybe<readonly HeaderInput[]>, kept: readonly Header[]): readonly Header[] {
    if (value === null || value === undefined) return kept;
    if (value.length > CHANNEL_LIMITS.headers)
      this.fail(field, `has ${value.length} entries; at most ${CHANNEL_LIMITS.headers}`);
    const seen = new Set<string>();
    return value.map((header, i) => {
      const name = header.name.trim();
      if (!HEADER_NAME.test(name))
        this.fail(`${field}[${i}].name`, `${JSON.stringify(name)} is not an HTTP header name`);
      else if (RESERVED_HEADERS.has(name.toLowerCase())) this.fail(`${field}[${i}].name`, `${name} is set by Heimdall`);
      else if (seen.has(name.toLowerCase())) this.fail(`${field}[${i}].name`, `${name} is given twice`);
      seen.add(name.toLowerCase());
      if (header.value.length > CHANNEL_LIMITS.headerValue || /[\r\n]/.test(header.value))
        this.fail(`${field}[${i}].value`, `is longer than ${CHANNEL_LIMITS.headerValue} characters or spans lines`);
      return { name, value: header.value };
    });
  }
}

function settingsOf(
  c: Checker,
  input: NotificationChannelInput,
  previous: ChannelSettings | undefined,
): ChannelSettings | undefined {
  const type = input.type;
  if (!(CHANNEL_TYPES as readonly string[]).includes(type)) {
    c.fail('type', `unknown type ${JSON.stringify(type)}; one of ${CHANNEL_TYPES.join(', ')}`);
    return undefined;
  }
  const given = (['webhook', 'slack', 'email', 'http'] as const).filter(
    (key) => input[key] !== null && input[key] !== undefined,
  );
  const wanted = type.toLowerCase() as 'webhook' | 'slack' | 'email' | 'http';
  for (const other of given.filter((key) => key !== wanted))
    c.fail(other, `does not belong to a ${type} channel; give ${wanted}`);
  if (!given.includes(wanted)) {
    c.fail(wanted, `is required for a ${type} channel`);
    return undefined;
  }
  if (wanted === 'webhook' && input.webhook) {
    const kept = previous !== undefined && isWebhook(previous) ? previous : undefined;
    const secret =
      input.webhook.secret === null || input.webhook.secret === undefined
        ? (kept?.secret ?? null)
        : c.text('webhook.secret', input.webhook.secret, CHANNEL_LIMITS.headerValue);
    return {
      type: 'WEBHOOK',
      url: c.url('webhook.url', input.webhook.url),
      secret,
      headers: c.headers('webhook.headers', input.webhook.headers, kept?.headers ?? []),
    };
  }
  if (wanted === 'slack' && input.slack) {
    const kept = previous !== undefined && isSlack(previous) ? previous : undefined;
    const given = input.slack.webhookUrl;
    const webhookUrl =
      given === null || given === undefined
        ? (kept?.webhookUrl ?? c.url('slack.webhookUrl', given))
        : c.url('slack.webhookUrl', given);
    return {
      type: 'SLACK',
      webhookUrl,
      channel: c.text('slack.channel', input.slack.channel, CHANNEL_LIMITS.text),
      username: c.text('slack.username', input.slack.username, CHANNEL_LIMITS.text),
    };
  }
  if (wanted === 'email' && input.email) {
    const kept = previous !== undefined && isEmail(previous) ? previous : undefined;
    const email = input.email;
    const secure = email.secure ?? false;
    const port = email.port ?? (secure ? 465 : 587);
    if (!Number.isInteger(port) || port < 1 || port > 65535) c.fail('email.port', 'is not a TCP port');
    const to = email.to.map((address, i) => {
      if (!EMAIL.test(address.trim())) c.fail(`email.to[${i}]`, `${JSON.stringify(address)} is not an email address`);
      return address.trim();
    });
    if (to.length === 0) c.fail('email.to', 'needs at least one address');
    if (to.length > CHANNEL_LIMITS.recipients)
      c.fail('email.to', `has ${to.length} addresses; at most ${CHANNEL_LIMITS.recipients}`);
    const from = c.text('email.from', email.from, CHANNEL_LIMITS.text, { required: true }) ?? '';
    if (from !== '' && !EMAIL.test(from.replace(/^.*<(.*)>$/, '$1')))
      c.fail('email.from', `${JSON.stringify(from)} is not an email address`);
    const password =
      email.password === null || email.password === undefined ? (kept?.password ?? null) : email.password;
    return {
      type: 'EMAIL',
      host: c.text('email.host', email.host, CHANNEL_LIMITS.text, { required: true }) ?? '',
      port,
      secure,
      requireTls: email.requireTls ?? false,
      rejectUnauthorized: email.rejectUnauthorized ?? true,
      username: c.text('email.username', email.username, CHANNEL_LIMITS.text),
      password,
      from,
      to: [...new Set(to)],
    };
  }
  if (input.http) {
    const kept = previous !== undefined && isHttp(previous) ? previous : undefined;
    const method = (input.http.method ?? 'POST').toUpperCase();
    if (!(METHODS as readonly string[]).includes(method))
      c.fail('http.method', `${JSON.stringify(input.http.method)} is not one of ${METHODS.join(', ')}`);
    return {
      type: 'HTTP',
      url: c.url('http.url', input.http.url),
      method: (METHODS as readonly string[]).includes(method) ? (method as 'POST') : 'POST',
      headers: c.headers('http.headers', input.http.headers, kept?.headers ?? []),
      body: c.template('http.body', input.http.body) ?? '',
      contentType: c.text('http.contentType', input.http.contentType, CHANNEL_LIMITS.text) ?? 'application/json',
    };
  }
  return undefined;
}

export function validateChannelInput(input: NotificationChannelInput, previous?: Channel): ChannelValidation {
  const c = new Checker();
  const name = c.text('name', input.name, CHANNEL_LIMITS.name, { required: true }) ?? '';
  const settings = settingsOf(c, input, previous?.settings);
  const templates = {
    title: c.template('templates.title', input.templates?.title),
    body: c.template('templates.body', input.templates?.body),
  };
  if (c.errors.length > 0 || settings === undefined) return { ok: false, errors: c.errors };
  return { ok: true, spec: { name, settings, templates } };
}
