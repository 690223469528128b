/** The notification fields of the alerts subgraph's schema (issue 13); schema.ts merges them in. */
import { badUserInput, formatDuration, rangeArgument, sizeArgument } from '@heimdall/shared/user-input';
import type {
  MutationResolvers,
  NotificationChannelResolvers,
  QueryResolvers,
  Resolvers,
} from '../generated/resolvers.js';
import { actorOf } from '../request-actor.js';
import { isEmail, isHttp, isSlack, isWebhook } from './channel.js';
import { channelId } from './channel-store.js';
import { silenceState } from './silences.js';
import { WEEKDAYS, formatClock } from './weekly-window.js';

const MAX_LOG = 1000;
const MAX_INCIDENTS = 1000;

const iso = (date: Date | null) => (date === null ? null : date.toISOString());
const labelList = (labels: Readonly<Record<string, string>>) =>
  Object.entries(labels).map(([key, value]) => ({ key, value }));
const lower = <T extends string>(values: readonly T[] | null | undefined) =>
  values === null || values === undefined ? null : values.map((v) => v.toLowerCase() as Lowercase<T>);

function range(value: { from: string; to: string } | null | undefined): { from: Date | null; to: Date | null } {
  if (value === null || value === undefined) return { from: null, to: null };
  const { from, to } = rangeArgument('filter.range', value);
  return { from: new Date(from), to: new Date(to) };
}

/** The Alert id as Alert.id gives it (base64url of the rule id and instance key). */
function alertIdArgument(id: string): string {
  if (!/^[A-Za-z0-9_-]{8,2048}$/.test(id)) throw badUserInput('id', `"${id}" is not an Alert id`);
  return id;
}

const Query: QueryResolvers = {
  notificationChannels: (_, __, ctx) => ctx.notifications.listChannels(),
  silences: (_, { states }, ctx) => ctx.notifications.silences.list(states ?? null, ctx.notifications.now()),
  maintenanceWindows: (_, __, ctx) => ctx.notifications.silences.windows(),
  incidents: (_, { filter, first }, ctx) =>
    ctx.notifications.incidents.incidents(
      { states: lower(filter?.states), service: filter?.service ?? null, ...range(filter?.range) },
      sizeArgument('first', first, MAX_INCIDENTS),
    ),
  failedNotifications: (_, { first }, ctx) =>
    ctx.notifications.outbox.deliveries({ statuses: ['failed'] }, sizeArgument('first', first, MAX_LOG)),
  notificationLog: (_, { filter, first }, ctx) =>
    ctx.notifications.outbox.deliveries(
      {
        channelId: filter?.channelId ? channelId(filter.channelId, 'filter.channelId') : null,
        statuses: lower(filter?.statuses),
        ...range(filter?.range),
      },
      sizeArgument('first', first, MAX_LOG),
    ),
};

const Mutation: MutationResolvers = {
  createNotificationChannel: (_, { input }, ctx) => ctx.notifications.createChannel(input),
  updateNotificationChannel: (_, { id, input }, ctx) => ctx.notifications.updateChannel(id, input),
  deleteNotificationChannel: (_, { id }, ctx) => ctx.notifications.deleteChannel(id),
  testChannel: (_, { id }, ctx) => ctx.notifications.testChannel(id),
  createSilence: (_, { input }, ctx) => ctx.notifications.silences.create(input, actorOf(ctx), ctx.notifications.now()),
  updateSilence: (_, { id, input }, ctx) => ctx.notifications.silences.update(id, input, ctx.notifications.now()),
  expireSilence: (_, { id }, ctx) => ctx.notifications.silences.expire(id, ctx.notifications.now()),
  createMaintenanceWindow: (_, { input }, ctx) => ctx.notifications.silences.createWindow(input, actorOf(ctx)),
  deleteMaintenanceWindow: (_, { id }, ctx) => ctx.notifications.silences.deleteWindow(id),
  acknowledgeAlert: (_, { id }, ctx) => ctx.notifications.groups.acknowledge(alertIdArgument(id), actorOf(ctx)),
  retryNotification: (_, { id }, ctx) => ctx.notifications.retry(id),
};

const NotificationChannel: NotificationChannelResolvers = {
  type: (c) => c.settings.type,
  webhook: (c) => (isWebhook(c.settings) ? c.settings : null),
  slack: (c) => (isSlack(c.settings) ? c.settings : null),
  email: (c) => (isEmail(c.settings) ? c.settings : null),
  http: (c) => (isHttp(c.settings) ? c.settings : null),
  createdAt: (c) => c.createdAt.toISOString(),
  updatedAt: (c) => c.updatedAt.toISOString(),
};

const optionalDuration = (ms: number | null) => (ms === null ? null : formatDuration(ms));

export const notificationResolvers: Resolvers = {
  Query,
  Mutation,
  NotificationChannel,
  NotificationPolicy: {
    groupWait: (p) => optionalDuration(p.groupWaitMs),
    groupInterval: (p) => optionalDuration(p.groupIntervalMs),
    repeatInterval: (p) => optionalDuration(p.repeatIntervalMs),
  },
  WebhookSettings: {
    hasSecret: (s) => s.secret !== null,
    headerNames: (s) => s.headers.map((h) => h.name),
  },
  SlackSettings: {
    hasWebhookUrl: (s) => s.webhookUrl !== '',
  },
  EmailSettings: {
    hasPassword: (s) => s.password !== null,
  },
  HttpSettings: {
    headerNames: (s) => s.headers.map((h) => h.name),
  },
  Silence: {
    startsAt: (s) => s.startsAt.toISOString(),
    endsAt: (s) => s.endsAt.toISOString(),
    createdAt: (s) => s.createdAt.toISOString(),
    updatedAt: (s) => s.updatedAt.toISOString(),
    state: (s, _, ctx) => silenceState(s, ctx.notifications.now()),
  },
  MaintenanceWindow: {
    timeZone: (w) => w.window.timeZone,
    days: (w) => w.window.days.map((day) => WEEKDAYS[day - 1] ?? 'MON'),
    start: (w) => formatClock(w.window.startMinute),
    end: (w) => formatClock(w.window.endMinute),
    createdAt: (w) => w.createdAt.toISOString(),
  },
  NotificationDelivery: {
    groupLabels: (d) => labelList(d.groupLabels),
    state: (d) => (d.state === 'firing' ? 'FIRING' : 'RESOLVED'),
    status: (d) => (d.status === 'sent' ? 'SENT' : d.status === 'failed' ? 'FAILED' : 'PENDING'),
    createdAt: (d) => d.createdAt.toISOString(),
    updatedAt: (d) => d.updatedAt.toISOString(),
    sentAt: (d) => iso(d.sentAt),
  },
  Incident: {
    state: (i) => (i.state === 'open' ? 'OPEN' : 'CLOSED'),
    openedAt: (i) => i.openedAt.toISOString(),
    closedAt: (i) => iso(i.closedAt),
  },
  IncidentAlert: {
    firedAt: (a) => a.firedAt.toISOString(),
  },
};
