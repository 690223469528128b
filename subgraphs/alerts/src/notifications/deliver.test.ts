import { describe, expect, it } from 'vitest';
import { emailHtml, redacted, retryAfterMs, slackPayload, webhookBody } from './deliver.js';
import { type MessageAlert, type NotificationMessage, buildMessage, renderMessage } from './message.js';
import { signatureHeader, verifySignature } from './signature.js';

const makeAlert = (overrides: Partial<MessageAlert> = {}): MessageAlert => ({
  id: 'a1',
  status: 'firing',
  severity: 'HIGH',
  labels: { alertname: 'High latency', service: 'checkout', instance: 'a' },
  annotations: { summary: 'p99 above 1s', description: 'checkout is slow' },
  value: 1234.5,
  logLines: [],
  startsAt: '2026-11-25T01:00:00.000Z',
  endsAt: null,
  link: 'https://heimdall.example.com/alerts/a1',
  ...overrides,
});

const makeMessage = (alerts: readonly MessageAlert[] = [makeAlert()]): NotificationMessage =>
  buildMessage({
    groupKey: 'g',
    groupLabels: { alertname: 'High latency' },
    alerts,
    link: 'https://heimdall.example.com/alerts?rule=r',
    incident: null,
  });

describe('messages', () => {
  it('is firing while any alert fires, and carries what every alert shares', () => {
    const message = makeMessage([
      makeAlert(),
      makeAlert({
        id: 'a2',
        status: 'resolved',
        labels: { alertname: 'High latency', service: 'checkout', instance: 'b' },
      }),
    ]);
    expect(message.status).toBe('firing');
    expect(message.commonLabels).toEqual({ alertname: 'High latency', service: 'checkout' });
  });

  it('renders the built-in title and body', () => {
    const rendered = renderMessage({ title: null, body: null }, makeMessage());
    expect(rendered.title).toBe('[FIRING:1] High latency');
    expect(rendered.body).toBe(
      '[FIRING] High latency on checkout (high): p99 above 1s (value 1.234k)\nhttps://heimdall.example.com/alerts?rule=r',
    );
  });

  it('shows the sample log lines of an alert of a log condition under it', () => {
    const lines = [
      '2026-11-25T00:59:58.000Z ERROR checkout: timeout calling payments',
      '2026-11-25T00:59:57.000Z ERROR checkout: timeout calling payments',
    ];
    const rendered = renderMessage(
      { title: null, body: null },
      makeMessage([makeAlert({ logLines: lines, value: null })]),
    );
    expect(rendered.body).toBe(
      `[FIRING] High latency on checkout (high): p99 above 1s\n    ${lines[0]}\n    ${lines[1]}\nhttps://heimdall.example.com/alerts?rule=r`,
    );
  });

  it('renders a channel’s own templates over the alerts', () => {
    const rendered = renderMessage(
      {
        title: '{{ $alertname }} ({{ len $alerts }})',
        body: '{{ range $a := $alerts }}{{ $a.labels.instance }};{{ end }}',
      },
      makeMessage([makeAlert(), makeAlert({ labels: { alertname: 'High latency', instance: 'b' } })]),
    );
    expect(rendered).toEqual({ title: 'High latency (2)', body: 'a;b;' });
  });
});

describe('the webhook', () => {
  it('signs "<t>.<raw body>" so that a receiver can verify it, and not another body', () => {
    const message = makeMessage();
    const body = webhookBody(message, renderMessage({ title: null, body: null }, message), 'key-1');
    const header = signatureHeader('whsec', body, 1_764_000_000);
    expect(header).toMatch(/^t=1764000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature('whsec', body, header, 1_764_000_010)).toBe(true);
    expect(verifySignature('whsec', `${body} `, header, 1_764_000_010)).toBe(false);
    expect(verifySignature('other', body, header, 1_764_000_010)).toBe(false);
    expect(verifySignature('whsec', body, header, 1_764_000_000 + 3600)).toBe(false);
  });

  it('sends the message with its idempotency key, title and text', () => {
    const message = makeMessage();
    const body = JSON.parse(webhookBody(message, { title: 'T', body: 'B' }, 'key-1')) as Record<string, unknown>;
    expect(body).toMatchObject({
      idempotencyKey: 'key-1',
      title: 'T',
      text: 'B',
      status: 'firing',
      alerts: [{ id: 'a1', value: 1234.5 }],
    });
  });
});

describe('Slack', () => {
  it('colours by state and lists alert, severity, service and description', () => {
    const message = makeMessage([makeAlert({ status: 'resolved' })]);
    const payload = slackPayload(
      { channel: null, username: 'heimdall' },
      message,
      renderMessage({ title: null, body: null }, message),
    );
    expect(payload).toMatchObject({
      username: 'heimdall',
      attachments: [
        { color: '#2eb886', title: '[RESOLVED] High latency' },
        {
          color: '#2eb886',
          title: '[RESOLVED] High latency',
          fields: [
            { title: 'Alert', value: 'High latency', short: true },
            { title: 'Severity', value: 'high', short: true },
            { title: 'Service', value: 'checkout', short: true },
            { title: 'Description', value: 'checkout is slow', short: false },
          ],
        },
      ],
    });
    expect(payload).not.toHaveProperty('channel');
  });
});

describe('email', () => {
  it('escapes label values in the HTML body', () => {
    const message = makeMessage([makeAlert({ labels: { alertname: '<script>x</script>' } })]);
    const html = emailHtml(message, renderMessage({ title: null, body: null }, message));
    expect(html).not.toContain('<script>');
    expect(html).toContain('&#60;script&#62;');
  });
});

describe('Retry-After', () => {
  it('reads seconds and HTTP dates, and ignores nonsense', () => {
    const now = Date.parse('2026-11-25T01:00:00Z');
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs('Wed, 25 Nov 2026 01:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs(null, now)).toBeNull();
  });
});

describe('outcomes', () => {
  it('never carry a channel’s secrets, such as a Slack URL in a connection error', () => {
    const webhookUrl = 'https://hooks.slack.com/services/T000/B000/XXXXSECRET';
    const outcome = redacted(
      {
        ok: false,
        status: null,
        message: `fetch failed: request to ${webhookUrl} timed out`,
        durationMs: 1,
        retryable: true,
        retryAfterMs: null,
      },
      { type: 'SLACK', webhookUrl, channel: null, username: null },
    );
    expect(outcome.message).toBe('fetch failed: request to [secret] timed out');
  });
});
