import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCaller } from '@heimdall/testkit';
import { localStack } from '@heimdall/stack';
import {
  type AlertsInstance,
  type AlertsSystem,
  alertsSystem,
  removeQueues,
  startAlerts,
} from '../alerts-server.fixtures.js';
import type { NotificationOverrides, Severity } from '../rules/alert-rule.js';
import type { AlertStateChange } from '../state-changes/alert-state-change.js';
import { STATE_CHANGES_QUEUE } from '../state-changes/state-change-publisher.js';
import { alertId } from '../store/index.js';
import { type TestDatabase, createTestDatabase } from '../store/test-database.fixtures.js';
import {
  type HttpReceiver,
  type ReceivedRequest,
  type SmtpReceiver,
  eventually,
  pause,
  startHttpReceiver,
  startSmtpReceiver,
} from './receivers.fixtures.js';

const local = localStack(process.env);

const GROUP_WAIT_MS = 300;
const ENV = {
  NOTIFICATION_SECRET_KEY: randomBytes(32).toString('base64'),
  NOTIFICATION_GROUP_WAIT: `${GROUP_WAIT_MS}ms`,
  NOTIFICATION_GROUP_INTERVAL: '1s',
  NOTIFICATION_REPEAT_INTERVAL: '1h',
  NOTIFICATION_FLUSH_INTERVAL_MS: '50',
  NOTIFICATION_RETRY_BASE_MS: '200',
  NOTIFICATION_BUSINESS_HOURS: 'always',
  NOTIFICATION_DIGEST_AT: 'always',
  NOTIFICATION_CRITICAL_REPEAT_INTERVAL: '1s',
};
/** Long enough for a group wait, a flush and a delivery on a busy machine; a message not sent by then is not coming. */
const QUIET_MS = GROUP_WAIT_MS + 1500;

const CHANNEL_FIELDS = `id name type templates { title body }
  webhook { url hasSecret headerNames } slack { channel username hasWebhookUrl }
  email { host port secure requireTls rejectUnauthorized username hasPassword from to } http { url method headerNames body contentType }`;
const DELIVERY_FIELDS =
  'id channelId channelName state title alertCount status attempts idempotencyKey lastError responseStatus sentAt groupLabels { key value }';

interface Delivery {
  id: string;
  channelId: string;
  state: string;
  status: string;
  attempts: number;
  alertCount: number;
  lastError: string | null;
  idempotencyKey: string;
}

/** What the webhook receiver of a user does: recompute the HMAC over "<t>.<raw body>" and compare. */
function verifiedAsAUserWould(request: ReceivedRequest, secret: string): boolean {
  const header = String(request.headers['x-heimdall-signature'] ?? '');
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (match === null) return false;
  const expected = createHmac('sha256', secret).update(`${match[1]}.${request.body}`).digest();
  return (
    Math.abs(Date.now() / 1000 - Number(match[1])) < 300 && timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'))
  );
}

interface WebhookMessage {
  status: string;
  title: string;
  text: string;
  alerts: { id: string; status: string; labels: Record<string, string> }[];
  groupLabels: Record<string, string>;
  idempotencyKey: string;
}

const bodyOf = (request: ReceivedRequest) => JSON.parse(request.body) as WebhookMessage;

describe('notifications', () => {
  let database: TestDatabase;
  let system: AlertsSystem;
  let alerts: AlertsInstance;
  let receiver: HttpReceiver;
  let smtp: SmtpReceiver;
  let changes: Queue;
  // Far above the history ids the service's own evaluations publish under (state-change-<id> job ids must not meet).
  let nextChangeId = 1_000_000_000;

  beforeAll(async () => {
    await local.require('postgres', 'redis', 'consul');
    database = await createTestDatabase(local.endpoints.postgresUrl);
    system = alertsSystem(database.url);
    alerts = await startAlerts(local, system, ENV);
    receiver = await startHttpReceiver();
    smtp = await startSmtpReceiver();
    changes = new Queue(STATE_CHANGES_QUEUE, { connection: { url: local.endpoints.redisUrl }, prefix: system.prefix });
  });
  afterAll(async () => {
    await alerts?.stop();
    await changes?.close();
    await receiver?.close();
    await smtp?.close();
    if (system !== undefined) await removeQueues(local.endpoints.redisUrl, system);
    await database?.drop();
  });

  const graphql = async <T>(
    query: string,
    variables: Record<string, unknown> = {},
    instance: AlertsInstance = alerts,
  ) => {
    const answer = await instance.graphql<T>(query, variables);
    expect(answer.errors).toBeUndefined();
    return answer.data!;
  };

  const createWebhook = async (path: string, options: { secret?: string; templates?: Record<string, string> } = {}) => {
    const data = await graphql<{ createNotificationChannel: { id: string } }>(
      `
        mutation ($input: NotificationChannelInput!) {
          createNotificationChannel(input: $input) {
            id
          }
        }
      `,
      {
        input: {
          name: `hook ${path}`,
          type: 'WEBHOOK',
          webhook: {
            url: `${receiver.url}${path}`,
            secret: options.secret ?? 'whsec-test',
            headers: [{ name: 'Authorization', value: 'Bearer receiver-token' }],
          },
          ...(options.templates === undefined ? {} : { templates: options.templates }),
        },
      },
    );
    return data.createNotificationChannel.id;
  };

  interface Rule {
    readonly id: string;
    readonly name: string;
    readonly severity: Severity;
    readonly channels: readonly string[];
    readonly service: string;
    readonly notification?: Partial<NotificationOverrides>;
  }

  const makeRule = (channels: readonly string[], overrides: Partial<Rule> = {}): Rule => ({
    id: randomUUID(),
    name: `Rule ${randomUUID().slice(0, 8)}`,
    severity: 'MEDIUM',
    channels,
    service: `svc-${randomUUID().slice(0, 8)}`,
    ...overrides,
  });

  /** Publishes a state change on alert-state-changes, as the evaluator does. */
  const publish = async (rule: Rule, instance: string, to: 'FIRING' | 'RESOLVED', queue: Queue = changes) => {
    const id = String(nextChangeId++);
    const now = new Date().toISOString();
    const change: AlertStateChange = {
      id,
      ruleId: rule.id,
      ruleVersion: 1,
      ruleName: rule.name,
      severity: rule.severity,
      channels: rule.channels,
      notification: {
        groupBy: null,
        groupWaitMs: null,
        groupIntervalMs: null,
        repeatIntervalMs: null,
        sendResolved: null,
        ...rule.notification,
      },
      instanceKey: instance,
      labels: { alertname: rule.name, instance, service: rule.service },
      annotations: { summary: `${instance} is slow` },
      from: to === 'FIRING' ? 'PENDING' : 'FIRING',
      to,
      at: now,
      value: to === 'FIRING' ? 97 : 12,
      activeAt: now,
      firedAt: now,
      resolvedAt: to === 'RESOLVED' ? now : null,
      flapping: 1,
      error: null,
      reason: 'evaluation',
    };
    await queue.add('state-change', change, { jobId: `state-change-${id}` });
    return alertId(rule.id, instance);
  };

  const log = async (channelId: string) =>
    (
      await graphql<{ notificationLog: Delivery[] }>(
        `query($f: NotificationLogFilter) { notificationLog(filter: $f) { ${DELIVERY_FIELDS} } }`,
        { f: { channelId } },
      )
    ).notificationLog;

  describe('channels', () => {
    it('stores a webhook channel whose secret and header values are written but never shown or stored in clear', async () => {
      const id = await createWebhook('/stored', { secret: 'whsec-never-shown' });
      const read = await graphql<{ notificationChannels: { id: string; webhook: unknown }[] }>(
        `{ notificationChannels { ${CHANNEL_FIELDS} } }`,
      );
      const channel = read.notificationChannels.find((c) => c.id === id);
      expect(channel?.webhook).toEqual({
        url: `${receiver.url}/stored`,
        hasSecret: true,
        headerNames: ['Authorization'],
      });
      const rows = await alerts.pool.query<{ row: string }>(
        'SELECT row_to_json(c)::text AS row FROM notification_channels c WHERE id = $1',
        [id],
      );
      expect(rows.rows[0]?.row).not.toContain('whsec-never-shown');
      expect(rows.rows[0]?.row).not.toContain('receiver-token');
    });

    it('keeps the stored secret when an update leaves it out', async () => {
      const id = await createWebhook('/kept', { secret: 'whsec-kept' });
      await graphql(
        `
          mutation ($id: ID!, $input: NotificationChannelInput!) {
            updateNotificationChannel(id: $id, input: $input) {
              id
            }
          }
        `,
        {
          id,
          input: { name: 'renamed', type: 'WEBHOOK', webhook: { url: `${receiver.url}/kept` } },
        },
      );
      const result = await graphql<{ testChannel: { ok: boolean } }>(
        'mutation($id: ID!) { testChannel(id: $id) { ok status message durationMs } }',
        { id },
      );
      expect(result.testChannel.ok).toBe(true);
      expect(verifiedAsAUserWould(receiver.at('/kept').at(-1)!, 'whsec-kept')).toBe(true);
    });

    it('sends a signed test message with the custom headers and reports the receiver status', async () => {
      const id = await createWebhook('/test-channel', { secret: 'whsec-test-channel' });
      receiver.reply = (request, i) =>
        request.path === '/test-channel' && i === 1 ? { status: 503 } : { status: 200 };

      const ok = await graphql<{ testChannel: { ok: boolean; status: number } }>(
        'mutation($id: ID!) { testChannel(id: $id) { ok status message } }',
        { id },
      );
      const failed = await graphql<{ testChannel: { ok: boolean; status: number; message: string } }>(
        'mutation($id: ID!) { testChannel(id: $id) { ok status message } }',
        { id },
      );

      expect(ok.testChannel).toMatchObject({ ok: true, status: 200 });
      expect(failed.testChannel).toMatchObject({ ok: false, status: 503 });
      const [first] = receiver.at('/test-channel');
      expect(verifiedAsAUserWould(first!, 'whsec-test-channel')).toBe(true);
      expect(verifiedAsAUserWould(first!, 'another-secret')).toBe(false);
      expect(first!.headers.authorization).toBe('Bearer receiver-token');
      expect(bodyOf(first!).title).toBe('[FIRING:1] HeimdallTestNotification');
      receiver.reply = () => ({ status: 200 });
    });

    it('names the line and column of a template that does not parse', async () => {
      const answer = await alerts.graphql(
        `mutation($input: NotificationChannelInput!) { createNotificationChannel(input: $input) { id } }`,
        {
          input: {
            name: 'bad',
            type: 'WEBHOOK',
            webhook: { url: `${receiver.url}/x` },
            templates: { body: 'ok\n{{ $alerts | nope }}' },
          },
        },
      );
      expect(answer.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(answer.errors?.[0]?.message).toMatch(/^templates\.body: line 2, column \d+: unknown function "nope"/);
    });

    it('lets a viewer read channels but not create them', async () => {
      const viewer = makeCaller(['viewer'], 'vera');
      const read = await alerts.graphql('{ notificationChannels { id } }', {}, viewer);
      const write = await alerts.graphql(
        `mutation($input: NotificationChannelInput!) { createNotificationChannel(input: $input) { id } }`,
        { input: { name: 'x', type: 'WEBHOOK', webhook: { url: `${receiver.url}/x` } } },
        viewer,
      );
      expect(read.errors).toBeUndefined();
      expect(write.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    });
  });

  describe('a rule’s notification policy', () => {
    it('is stored as written and read back, absent fields null (the defaults)', async () => {
      const data = await graphql<{ createAlertRule: { notification: Record<string, unknown> } }>(
        `
          mutation ($input: AlertRuleInput!) {
            createAlertRule(input: $input) {
              notification {
                groupBy
                groupWait
                groupInterval
                repeatInterval
                sendResolved
              }
            }
          }
        `,
        {
          input: {
            name: 'With a policy',
            enabled: false,
            conditions: [{ metric: { name: 'cpu', aggregation: 'AVG', window: '5m', operator: 'GT', threshold: 90 } }],
            notification: { groupBy: ['service'], groupWait: '10s', repeatInterval: '1h' },
          },
        },
      );
      expect(data.createAlertRule.notification).toEqual({
        groupBy: ['service'],
        groupWait: '10s',
        groupInterval: null,
        repeatInterval: '1h',
        sendResolved: null,
      });
    });

    it('brings a rule evaluated by the service to its channel, from evaluation to webhook', async () => {
      const channel = await createWebhook('/evaluated');
      // No metrics subgraph runs under this system's tag: the read fails and errorState ALERTING makes the alert fire.
      const rule = await graphql<{ createAlertRule: { id: string } }>(
        `
          mutation ($input: AlertRuleInput!) {
            createAlertRule(input: $input) {
              id
            }
          }
        `,
        {
          input: {
            name: 'Evaluated',
            labels: [{ key: 'service', value: 'evaluated-svc' }],
            annotations: [{ key: 'summary', value: 'cpu of {{ $labels.service }}' }],
            conditions: [{ metric: { name: 'cpu', aggregation: 'AVG', window: '1m', operator: 'GT', threshold: 90 } }],
            evaluationInterval: '10s',
            errorState: 'ALERTING',
            channels: [channel],
            notification: { groupWait: '0s' },
          },
        },
      );
      const [request] = await eventually(
        () => (receiver.at('/evaluated').length >= 1 ? receiver.at('/evaluated') : undefined),
        25_000,
        'the first evaluation’s message',
      );
      expect(bodyOf(request!)).toMatchObject({
        status: 'firing',
        title: '[FIRING:1] Evaluated',
        alerts: [{ labels: { alertname: 'Evaluated', service: 'evaluated-svc' } }],
      });
      expect(verifiedAsAUserWould(request!, 'whsec-test')).toBe(true);
      await graphql('mutation($id: ID!) { setAlertRuleEnabled(id: $id, enabled: false) { id } }', {
        id: rule.createAlertRule.id,
      });
    });
  });

  describe('grouping', () => {
    it('sends alerts of one rule firing within the group wait as one message, then one resolved message', async () => {
      const channel = await createWebhook('/grouping');
      // Waits with room for a busy machine: both changes must be applied before the group's first look.
      const rule = makeRule([channel], { notification: { groupWaitMs: 1500, groupIntervalMs: 2000 } });
      await publish(rule, 'a', 'FIRING');
      await publish(rule, 'b', 'FIRING');
      const [firing] = await eventually(() =>
        receiver.at('/grouping').length >= 1 ? receiver.at('/grouping') : undefined,
      );
      await publish(rule, 'a', 'RESOLVED');
      await publish(rule, 'b', 'RESOLVED');
      await eventually(() => (receiver.at('/grouping').length >= 2 ? true : undefined));
      await pause(QUIET_MS);

      const messages = receiver.at('/grouping').map(bodyOf);
      expect(messages).toHaveLength(2);
      expect(
        bodyOf(firing!)
          .alerts.map((a) => a.labels.instance)
          .sort(),
      ).toEqual(['a', 'b']);
      expect(messages[1]).toMatchObject({ status: 'resolved' });
      expect(messages[1]!.alerts.map((a) => a.status)).toEqual(['resolved', 'resolved']);
      expect(receiver.at('/grouping').every((r) => verifiedAsAUserWould(r, 'whsec-test'))).toBe(true);
      expect((await log(channel)).map((d) => [d.state, d.status, d.alertCount])).toEqual([
        ['RESOLVED', 'SENT', 2],
        ['FIRING', 'SENT', 2],
      ]);
    });

    it('splits groups by the rule’s groupBy labels and sends nothing resolved when sendResolved is false', async () => {
      const channel = await createWebhook('/group-by');
      const rule = makeRule([channel], { notification: { groupBy: ['instance'], sendResolved: false } });
      await publish(rule, 'a', 'FIRING');
      await publish(rule, 'b', 'FIRING');
      await eventually(() => (receiver.at('/group-by').length >= 2 ? true : undefined));
      await publish(rule, 'a', 'RESOLVED');
      await pause(QUIET_MS);

      const messages = receiver.at('/group-by').map(bodyOf);
      expect(messages).toHaveLength(2);
      expect(messages.map((m) => m.groupLabels.instance).sort()).toEqual(['a', 'b']);
    });

    it('sends a message still true again after the repeat interval', async () => {
      const channel = await createWebhook('/repeat');
      const rule = makeRule([channel], { notification: { repeatIntervalMs: 1000 } });
      await publish(rule, 'a', 'FIRING');
      await eventually(() => (receiver.at('/repeat').length >= 3 ? true : undefined), 10_000, 'two repeats');
      await publish(rule, 'a', 'RESOLVED');
      await eventually(() => (receiver.at('/repeat').some((r) => bodyOf(r).status === 'resolved') ? true : undefined));
      const count = receiver.at('/repeat').length;
      await pause(1500);
      expect(receiver.at('/repeat')).toHaveLength(count);
      const keys = receiver.at('/repeat').map((r) => bodyOf(r).idempotencyKey);
      expect(new Set(keys).size).toBe(keys.length);
    });
  });

  describe('silences, inhibition and maintenance windows', () => {
    it('sends nothing for a silenced alert, and sends it once the silence is expired early', async () => {
      const channel = await createWebhook('/silenced');
      const rule = makeRule([channel]);
      const silence = await graphql<{ createSilence: { id: string; state: string; createdBy: string } }>(
        `
          mutation ($input: SilenceInput!) {
            createSilence(input: $input) {
              id
              state
              createdBy
            }
          }
        `,
        {
          input: {
            matchers: [{ key: 'service', op: 'EQ', value: rule.service }],
            endsAt: new Date(Date.now() + 3_600_000).toISOString(),
            comment: 'deploying',
          },
        },
      );
      expect(silence.createSilence).toMatchObject({ state: 'ACTIVE', createdBy: 'test-user' });
      await publish(rule, 'a', 'FIRING');
      await pause(QUIET_MS);
      expect(receiver.at('/silenced')).toHaveLength(0);

      const expired = await graphql<{ expireSilence: { state: string } }>(
        'mutation($id: ID!) { expireSilence(id: $id) { state } }',
        { id: silence.createSilence.id },
      );
      expect(expired.expireSilence.state).toBe('EXPIRED');
      await eventually(() => (receiver.at('/silenced').length >= 1 ? true : undefined));
      await pause(QUIET_MS);
      expect(receiver.at('/silenced')).toHaveLength(1);
    });

    it('silences with a regular expression matcher and not with a negative one', async () => {
      const channel = await createWebhook('/silence-re');
      const rule = makeRule([channel]);
      await graphql(
        `
          mutation ($input: SilenceInput!) {
            createSilence(input: $input) {
              id
            }
          }
        `,
        {
          input: {
            matchers: [
              { key: 'service', op: 'RE', value: `${rule.service.slice(0, 6)}.*` },
              { key: 'instance', op: 'NRE', value: 'b|c' },
            ],
            endsAt: new Date(Date.now() + 3_600_000).toISOString(),
            comment: 're',
          },
        },
      );
      await publish(rule, 'a', 'FIRING');
      await publish(rule, 'b', 'FIRING');
      await eventually(() => (receiver.at('/silence-re').length >= 1 ? true : undefined));
      await pause(QUIET_MS);
      const messages = receiver.at('/silence-re').map(bodyOf);
      expect(messages).toHaveLength(1);
      expect(messages[0]!.alerts.map((a) => a.labels.instance)).toEqual(['b']);
    });

    it('does not notify a warning while a critical alert of the same alertname and service fires', async () => {
      const channel = await createWebhook('/inhibit');
      const critical = makeRule([channel], { severity: 'CRITICAL' });
      const high = { ...makeRule([channel], { severity: 'HIGH' }), name: critical.name, service: critical.service };
      await publish(critical, 'a', 'FIRING');
      await publish(high, 'a', 'FIRING');
      await eventually(() => (receiver.at('/inhibit').length >= 1 ? true : undefined));
      await pause(QUIET_MS);
      // The critical alert repeats (NOTIFICATION_CRITICAL_REPEAT_INTERVAL); the high one is never in a message.
      const messages = receiver.at('/inhibit').map(bodyOf);
      expect(messages.length).toBeGreaterThanOrEqual(1);
      expect(new Set(messages.flatMap((m) => m.alerts.map((a) => a.id)))).toEqual(new Set([alertId(critical.id, 'a')]));
      expect(messages.map((m) => m.groupLabels.alertname)).toEqual(messages.map(() => critical.name));
      const highGroups = await alerts.pool.query<{ last_sent_at: Date | null }>(
        'SELECT last_sent_at FROM notification_groups WHERE rule_id = $1',
        [high.id],
      );
      expect(highGroups.rows).toEqual([{ last_sent_at: null }]);
    });

    it('mutes alerts in a maintenance window and notifies them once it is deleted', async () => {
      const channel = await createWebhook('/maintenance');
      const rule = makeRule([channel]);
      const window = await graphql<{
        createMaintenanceWindow: { id: string; days: string[]; start: string; end: string };
      }>(
        `
          mutation ($input: MaintenanceWindowInput!) {
            createMaintenanceWindow(input: $input) {
              id
              days
              start
              end
              timeZone
            }
          }
        `,
        {
          input: {
            name: 'always',
            timeZone: 'Asia/Seoul',
            days: ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'],
            start: '00:00',
            end: '24:00',
            matchers: [{ key: 'service', value: rule.service }],
          },
        },
      );
      expect(window.createMaintenanceWindow).toMatchObject({ start: '00:00', end: '24:00' });
      await publish(rule, 'a', 'FIRING');
      await pause(QUIET_MS);
      expect(receiver.at('/maintenance')).toHaveLength(0);
      await graphql('mutation($id: ID!) { deleteMaintenanceWindow(id: $id) }', {
        id: window.createMaintenanceWindow.id,
      });
      await eventually(() => (receiver.at('/maintenance').length >= 1 ? true : undefined));
      await pause(QUIET_MS);
      expect(receiver.at('/maintenance')).toHaveLength(1);
    });
  });

  describe('escalation', () => {
    it('repeats a critical alert until it is acknowledged', async () => {
      const channel = await createWebhook('/critical');
      const rule = makeRule([channel], { severity: 'CRITICAL' });
      const id = await publish(rule, 'a', 'FIRING');
      await eventually(
        () => (receiver.at('/critical').length >= 3 ? true : undefined),
        10_000,
        'two repeats of the critical alert',
      );
      const acknowledged = await graphql<{ acknowledgeAlert: boolean }>(
        'mutation($id: ID!) { acknowledgeAlert(id: $id) }',
        { id },
      );
      expect(acknowledged.acknowledgeAlert).toBe(true);
      await pause(300);
      const count = receiver.at('/critical').length;
      await pause(2500);
      expect(receiver.at('/critical')).toHaveLength(count);
    });
  });

  describe('delivery', () => {
    it('delivers exactly once to a receiver that fails twice, then succeeds, honouring its Retry-After', async () => {
      const channel = await createWebhook('/flaky');
      receiver.reply = (request, i) =>
        request.path !== '/flaky'
          ? { status: 200 }
          : i === 0
            ? { status: 503 }
            : i === 1
              ? { status: 429, headers: { 'retry-after': '1' } }
              : { status: 200 };
      await publish(makeRule([channel]), 'a', 'FIRING');
      const [delivery] = await eventually(async () => {
        const entries = await log(channel);
        return entries[0]?.status === 'SENT' ? entries : undefined;
      });
      await pause(QUIET_MS);
      const requests = receiver.at('/flaky');
      expect(requests).toHaveLength(3);
      expect(requests[2]!.at - requests[1]!.at).toBeGreaterThanOrEqual(950);
      expect(new Set(requests.map((r) => r.headers['x-heimdall-idempotency-key'])).size).toBe(1);
      expect(delivery).toMatchObject({ status: 'SENT', attempts: 3 });
      receiver.reply = () => ({ status: 200 });
    });

    it('makes a dead letter after 3 failed attempts and delivers it when re-driven', async () => {
      const channel = await createWebhook('/down');
      let up = false;
      receiver.reply = (request) => (request.path === '/down' && !up ? { status: 500 } : { status: 200 });
      await publish(makeRule([channel]), 'a', 'FIRING');
      const failed = await eventually(async () => {
        const list = (
          await graphql<{ failedNotifications: Delivery[] }>(`{ failedNotifications { ${DELIVERY_FIELDS} } }`)
        ).failedNotifications;
        return list.find((d) => d.channelId === channel);
      });
      expect(failed).toMatchObject({ status: 'FAILED', attempts: 3, lastError: 'HTTP 500: no' });
      expect(receiver.at('/down')).toHaveLength(3);

      up = true;
      const retried = await graphql<{ retryNotification: Delivery }>(
        `mutation($id: ID!) { retryNotification(id: $id) { ${DELIVERY_FIELDS} } }`,
        { id: failed.id },
      );
      expect(retried.retryNotification.status).toBe('PENDING');
      await eventually(async () => ((await log(channel))[0]?.status === 'SENT' ? true : undefined));
      expect(receiver.at('/down')).toHaveLength(4);
      receiver.reply = () => ({ status: 200 });
    });

    it('sends exactly once when alerts restarts between the firing and the delivery', async () => {
      const channel = await createWebhook('/restart');
      const rule = makeRule([channel], { notification: { groupWaitMs: 2000 } });
      await publish(rule, 'a', 'FIRING');
      await eventually(async () =>
        (await alerts.pool.query('SELECT 1 FROM notification_groups WHERE channel_id = $1', [channel])).rowCount === 1
          ? true
          : undefined,
      );
      await alerts.stop();
      alerts = await startAlerts(local, system, ENV);
      await eventually(() => (receiver.at('/restart').length >= 1 ? true : undefined), 10_000);
      await pause(QUIET_MS);
      expect(receiver.at('/restart')).toHaveLength(1);
    });

    it('sends exactly once when alerts restarts while a message waits for its next attempt', async () => {
      const channel = await createWebhook('/restart-retry');
      receiver.reply = (request, i) =>
        request.path === '/restart-retry' && i === 0
          ? { status: 503, headers: { 'retry-after': '2' } }
          : { status: 200 };
      await publish(makeRule([channel]), 'a', 'FIRING');
      await eventually(() => (receiver.at('/restart-retry').length >= 1 ? true : undefined));
      await alerts.stop();
      alerts = await startAlerts(local, system, ENV);
      const [delivery] = await eventually(async () => {
        const entries = await log(channel);
        return entries[0]?.status === 'SENT' ? entries : undefined;
      });
      await pause(QUIET_MS);
      expect(receiver.at('/restart-retry').map((r) => r.headers['x-heimdall-idempotency-key'])).toEqual([
        delivery!.idempotencyKey,
        delivery!.idempotencyKey,
      ]);
      expect(delivery).toMatchObject({ status: 'SENT', attempts: 2 });
      receiver.reply = () => ({ status: 200 });
    });

    // The bound is a deadline, not a speed: on a loaded machine (the whole suite at once) ten groups took over 15 s.
    it('sends each message once with two alerts instances running', { timeout: 120_000 }, async () => {
      const second = await startAlerts(local, system, ENV);
      try {
        const channel = await createWebhook('/two-instances');
        for (let i = 0; i < 10; i++) await publish(makeRule([channel]), 'a', 'FIRING');
        await eventually(() => (receiver.at('/two-instances').length >= 10 ? true : undefined), 90_000);
        await pause(QUIET_MS);
        expect(receiver.at('/two-instances')).toHaveLength(10);
      } finally {
        await second.stop();
      }
    });
  });

  describe('other channel types', () => {
    it('emails every recipient a message with a text and an HTML body over SMTP', async () => {
      const data = await graphql<{
        createNotificationChannel: { id: string; email: { hasPassword: boolean; to: string[] } };
      }>(
        `
          mutation ($input: NotificationChannelInput!) {
            createNotificationChannel(input: $input) {
              id
              email {
                hasPassword
                to
              }
            }
          }
        `,
        {
          input: {
            name: 'mail',
            type: 'EMAIL',
            email: {
              host: '127.0.0.1',
              port: smtp.port,
              from: 'Heimdall <alerts@example.com>',
              to: ['oncall@example.com', 'lead@example.com'],
            },
          },
        },
      );
      expect(data.createNotificationChannel.email).toEqual({
        hasPassword: false,
        to: ['oncall@example.com', 'lead@example.com'],
      });
      const rule = makeRule([data.createNotificationChannel.id], { name: 'Disk full' });
      await publish(rule, 'db-1', 'FIRING');
      const [mail] = await eventually(() => (smtp.mails.length >= 1 ? smtp.mails : undefined));
      expect(mail!.envelopeTo.sort()).toEqual(['lead@example.com', 'oncall@example.com']);
      expect(mail!.mail.subject).toBe('[FIRING:1] Disk full');
      expect(mail!.mail.text).toContain(`[FIRING] Disk full on ${rule.service} (medium): db-1 is slow`);
      expect(mail!.mail.html).toContain('<td>Disk full</td>');
      expect(mail!.mail.headers.get('x-heimdall-idempotency-key')).toEqual(expect.any(String));
    });

    it('posts Slack’s incoming-webhook payload, coloured by state', async () => {
      const data = await graphql<{ createNotificationChannel: { id: string } }>(
        `
          mutation ($input: NotificationChannelInput!) {
            createNotificationChannel(input: $input) {
              id
            }
          }
        `,
        {
          input: { name: 'slack', type: 'SLACK', slack: { webhookUrl: `${receiver.url}/slack`, channel: '#alerts' } },
        },
      );
      const rule = makeRule([data.createNotificationChannel.id], { name: 'Error rate', severity: 'HIGH' });
      await publish(rule, 'a', 'FIRING');
      await eventually(() => (receiver.at('/slack').length >= 1 ? true : undefined));
      await publish(rule, 'a', 'RESOLVED');
      await eventually(() => (receiver.at('/slack').length >= 2 ? true : undefined));
      const [firing, resolved] = receiver.at('/slack').map(
        (r) =>
          JSON.parse(r.body) as {
            channel: string;
            attachments: { color: string; title: string; fields?: { title: string; value: string }[] }[];
          },
      );
      expect(firing!.channel).toBe('#alerts');
      expect(firing!.attachments[1]).toMatchObject({ color: '#d63232', title: '[FIRING] Error rate' });
      expect(firing!.attachments[1]!.fields).toEqual([
        { title: 'Alert', value: 'Error rate', short: true },
        { title: 'Severity', value: 'high', short: true },
        { title: 'Service', value: rule.service, short: true },
        { title: 'Description', value: 'a is slow', short: false },
      ]);
      expect(resolved!.attachments[1]).toMatchObject({ color: '#2eb886', title: '[RESOLVED] Error rate' });
    });

    it('sends the generic HTTP provider’s request template', async () => {
      const data = await graphql<{ createNotificationChannel: { id: string } }>(
        `
          mutation ($input: NotificationChannelInput!) {
            createNotificationChannel(input: $input) {
              id
            }
          }
        `,
        {
          input: {
            name: 'sms',
            type: 'HTTP',
            http: {
              url: `${receiver.url}/sms`,
              method: 'PUT',
              headers: [{ name: 'X-Api-Key', value: 'vendor-key' }],
              body: '{"to":"+821000000000","text":{{ len $firing | printf "%s: %d firing" $alertname | json }}}',
            },
          },
        },
      );
      const rule = makeRule([data.createNotificationChannel.id], { name: 'Pager' });
      await publish(rule, 'a', 'FIRING');
      const [request] = await eventually(() => (receiver.at('/sms').length >= 1 ? receiver.at('/sms') : undefined));
      expect(request!.method).toBe('PUT');
      expect(request!.headers['x-api-key']).toBe('vendor-key');
      expect(JSON.parse(request!.body)).toEqual({ to: '+821000000000', text: 'Pager: 1 firing' });
    });
  });

  describe('incidents', () => {
    it('makes each alert its own incident when the service map cannot be read', async () => {
      const channel = await createWebhook('/incidents');
      const rule = makeRule([channel]);
      await publish(rule, 'a', 'FIRING');
      await publish({ ...rule, service: `${rule.service}-db` }, 'b', 'FIRING');
      await eventually(() => (receiver.at('/incidents').length >= 1 ? true : undefined));
      const data = await graphql<{
        incidents: { services: string[]; rootCause: string; state: string; alerts: { alertId: string }[] }[];
      }>('query($s: String) { incidents(filter: { service: $s }) { services rootCause state alerts { alertId } } }', {
        s: rule.service,
      });
      expect(data.incidents).toEqual([
        {
          services: [rule.service],
          rootCause: rule.service,
          state: 'OPEN',
          alerts: [{ alertId: alertId(rule.id, 'a') }],
        },
      ]);
    });
  });
});
