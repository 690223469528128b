import { describe, expect, it } from 'vitest';
import type { Channel, WebhookSettings } from './channel.js';
import { type NotificationChannelInput, validateChannelInput } from './channel-input.js';

const makeWebhookInput = (overrides: Partial<NotificationChannelInput> = {}): NotificationChannelInput => ({
  name: ' On-call hook ',
  type: 'WEBHOOK',
  webhook: {
    url: 'https://hooks.example.com/h',
    secret: 's3cret',
    headers: [{ name: 'Authorization', value: 'Bearer t' }],
  },
  ...overrides,
});

const makeChannel = (settings: WebhookSettings): Channel => ({
  id: 'c',
  name: 'old',
  settings,
  templates: { title: null, body: null },
  createdAt: new Date(0),
  updatedAt: new Date(0),
});

const errorsOf = (input: NotificationChannelInput) => {
  const result = validateChannelInput(input);
  return result.ok ? [] : result.errors;
};

describe('channel input', () => {
  it('makes a webhook channel with its secret and headers', () => {
    expect(validateChannelInput(makeWebhookInput())).toEqual({
      ok: true,
      spec: {
        name: 'On-call hook',
        settings: {
          type: 'WEBHOOK',
          url: 'https://hooks.example.com/h',
          secret: 's3cret',
          headers: [{ name: 'Authorization', value: 'Bearer t' }],
        },
        templates: { title: null, body: null },
      },
    });
  });

  it('keeps the stored secret and headers when an update leaves them out', () => {
    const previous = makeChannel({
      type: 'WEBHOOK',
      url: 'https://a',
      secret: 'old',
      headers: [{ name: 'X-Key', value: 'k' }],
    });
    const result = validateChannelInput(makeWebhookInput({ webhook: { url: 'https://b' } }), previous);
    expect(result.ok && result.spec.settings).toEqual({
      type: 'WEBHOOK',
      url: 'https://b',
      secret: 'old',
      headers: [{ name: 'X-Key', value: 'k' }],
    });
  });

  it('names the line and column of a template that does not parse', () => {
    expect(
      errorsOf(makeWebhookInput({ templates: { title: '{{ $status }}', body: 'line one\n  {{ if $firing }}open' } })),
    ).toEqual([{ field: 'templates.body', message: expect.stringMatching(/^line 2, column 3: /) as string }]);
  });

  it('refuses a variable a message does not have', () => {
    expect(errorsOf(makeWebhookInput({ templates: { title: '{{ $labels.service }}' } }))[0]?.field).toBe(
      'templates.title',
    );
  });

  it('wants exactly the settings of its type', () => {
    expect(errorsOf(makeWebhookInput({ type: 'SLACK' })).map((e) => e.field)).toEqual(['webhook', 'slack']);
  });

  it('refuses URLs that are not http or https, headers Heimdall sets, and bad email addresses', () => {
    expect(errorsOf(makeWebhookInput({ webhook: { url: 'file:///etc/passwd' } })).map((e) => e.field)).toEqual([
      'webhook.url',
    ]);
    expect(
      errorsOf(
        makeWebhookInput({ webhook: { url: 'https://a', headers: [{ name: 'X-Heimdall-Signature', value: 'x' }] } }),
      ).map((e) => e.field),
    ).toEqual(['webhook.headers[0].name']);
    const email = errorsOf({
      name: 'm',
      type: 'EMAIL',
      email: { host: 'smtp', from: 'alerts@example.com', to: ['ok@example.com', 'not an address'] },
    });
    expect(email.map((e) => e.field)).toEqual(['email.to[1]']);
  });

  it('defaults the SMTP port by TLS mode', () => {
    const plain = validateChannelInput({
      name: 'm',
      type: 'EMAIL',
      email: { host: 'smtp', from: 'a@example.com', to: ['b@example.com'] },
    });
    const tls = validateChannelInput({
      name: 'm',
      type: 'EMAIL',
      email: { host: 'smtp', secure: true, from: 'a@example.com', to: ['b@example.com'] },
    });
    expect(plain.ok && plain.spec.settings).toMatchObject({ port: 587, secure: false, rejectUnauthorized: true });
    expect(tls.ok && tls.spec.settings).toMatchObject({ port: 465, secure: true });
  });

  it('checks the HTTP provider’s body template and method', () => {
    const errors = errorsOf({
      name: 'sms',
      type: 'HTTP',
      http: { url: 'https://sms', method: 'GET', body: '{{ $alertname' },
    });
    expect(errors.map((e) => e.field)).toEqual(['http.method', 'http.body']);
  });
});
