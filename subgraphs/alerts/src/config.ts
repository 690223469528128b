import { z } from 'zod';
import { positiveInt, serviceEnvSchema } from '@heimdall/shared/config';
import { parseDuration } from '@heimdall/shared/user-input';
import { parseMatcherText } from './notifications/matchers.js';
import { parseSecretKeys } from './notifications/secret-box.js';
import { isTimeZone, parseClock, parseWeeklyWindow } from './notifications/weekly-window.js';

/** A duration as rules write them ("30s", "5m", "4h", "1h30m"), in ms. */
const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const parsed = parseDuration(text);
      if (parsed.ok) return parsed.value;
      ctx.addIssue({ code: 'custom', message: parsed.message });
      return z.NEVER;
    });

const booleanText = (fallback: 'true' | 'false') =>
  z
    .enum(['true', 'false'])
    .default(fallback)
    .transform((text) => text === 'true');

const matcherText = z.string().refine((text) => parseMatcherText(text) !== undefined, {
  message: 'a matcher such as severity=critical, service!=x, a=~re or a!~re (RE2)',
});

/** Alertmanager's default inhibition, in Heimdall's severities: a firing critical alert mutes the lower ones of the same alertname and service. */
const DEFAULT_INHIBIT_RULES = JSON.stringify([
  { source: ['severity=critical'], target: ['severity=~high|medium|low'], equal: ['alertname', 'service'] },
]);

const inhibitRules = z
  .string()
  .default(DEFAULT_INHIBIT_RULES)
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not JSON' });
      return z.NEVER;
    }
  })
  .pipe(
    z.array(
      z.object({
        source: z.array(matcherText).min(1),
        target: z.array(matcherText).min(1),
        equal: z.array(z.string().min(1)).default([]),
      }),
    ),
  );

export const alertsEnvSchema = serviceEnvSchema(8004).extend({
  DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/heimdall'),
  REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
  /** Milliseconds PostgreSQL lets one statement of this service run before cancelling it. */
  PG_STATEMENT_TIMEOUT_MS: positiveInt().default(3000),
  /**
   * Prefix of the BullMQ keys in Redis (evaluation schedules, the `alert-state-changes` queue). Instances with the
   * same prefix share the work; the notification pipeline reads the state changes under it.
   */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[\w.-]+$/, 'letters, digits, ".", "-" or "_"')
    .default('heimdall'),
  /** Rule evaluations one instance runs at a time. */
  EVALUATION_CONCURRENCY: positiveInt().default(16),
  /**
   * How often each instance compares the evaluation schedules in Redis with the enabled rules in PostgreSQL (the
   * source of truth) and repairs the difference, in ms; also done at start.
   */
  SCHEDULE_RECONCILE_INTERVAL_MS: positiveInt().default(300_000),
  /** How often state changes not yet on the queue (a publish that failed) are published again, in ms. */
  STATE_CHANGE_RETRY_INTERVAL_MS: positiveInt().default(5_000),

  /**
   * Keys sealing channel secrets at rest: 32 bytes as 64 hex digits or base64 (`openssl rand -base64 32`), several
   * separated by commas to rotate (the first seals, all open). Unset: channels with secrets cannot be created.
   */
  NOTIFICATION_SECRET_KEY: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined || text.trim() === '') return undefined;
      const parsed = parseSecretKeys(text);
      if (parsed.ok) return parsed.keys;
      ctx.addIssue({ code: 'custom', message: parsed.message });
      return z.NEVER;
    }),
  /** Labels every group is split by besides alertname (comma separated); a rule's notification.groupBy replaces them. */
  NOTIFICATION_GROUP_BY: z
    .string()
    .default('')
    .transform((text) => [
      ...new Set(
        text
          .split(',')
          .map((name) => name.trim())
          .filter((name) => name !== ''),
      ),
    ]),
  /** How long a new group waits for more alerts before its first message (SPEC §6: 30s). */
  NOTIFICATION_GROUP_WAIT: duration('30s'),
  /** How long a group waits after a message before it sends its changes (5m). */
  NOTIFICATION_GROUP_INTERVAL: duration('5m'),
  /** After how long a message that is still true is sent again (4h). */
  NOTIFICATION_REPEAT_INTERVAL: duration('4h'),
  NOTIFICATION_SEND_RESOLVED: booleanText('true'),
  /** Inhibition rules as JSON: [{"source": [matchers], "target": [matchers], "equal": [labels]}]. */
  NOTIFICATION_INHIBIT_RULES: inhibitRules,
  /** The zone of business hours and the digest time (IANA, e.g. Asia/Seoul). */
  NOTIFICATION_TIME_ZONE: z
    .string()
    .default('UTC')
    .refine(isTimeZone, { message: 'not an IANA time zone such as Asia/Seoul' }),
  /** When HIGH and MEDIUM alerts are notified ("Mon-Fri 09:00-18:00"); "always" for any time. */
  NOTIFICATION_BUSINESS_HOURS: z
    .string()
    .default('Mon-Fri 09:00-18:00')
    .transform((text, ctx) => {
      if (text === 'always') return null;
      // Parsed once here, in UTC: the zone (NOTIFICATION_TIME_ZONE) is the settings' to add.
      const parsed = parseWeeklyWindow(text, 'UTC');
      if (parsed.ok)
        return { days: parsed.window.days, startMinute: parsed.window.startMinute, endMinute: parsed.window.endMinute };
      ctx.addIssue({ code: 'custom', message: `${parsed.message}, or "always"` });
      return z.NEVER;
    }),
  /** When the daily digest of LOW alerts goes out (HH:MM in NOTIFICATION_TIME_ZONE); "always" sends them as they come. */
  NOTIFICATION_DIGEST_AT: z
    .string()
    .default('09:00')
    .transform((text, ctx) => {
      if (text === 'always') return null;
      const minute = parseClock(text);
      if (minute !== undefined) return minute;
      ctx.addIssue({ code: 'custom', message: 'a time such as 09:00, or "always"' });
      return z.NEVER;
    }),
  /** How often a CRITICAL alert is sent again until someone acknowledges it (acknowledgeAlert). */
  NOTIFICATION_CRITICAL_REPEAT_INTERVAL: duration('5m'),
  /** Alerts on linked services firing within this time of each other make one incident. */
  NOTIFICATION_INCIDENT_WINDOW: duration('5m'),
  /** How often each instance looks for groups that are due (ms); a state change is looked at at once. */
  NOTIFICATION_FLUSH_INTERVAL_MS: positiveInt().default(1_000),
  /** The first retry's delay of a failed delivery (ms); it doubles per attempt (3 attempts), or is the receiver's Retry-After. */
  NOTIFICATION_RETRY_BASE_MS: positiveInt().default(2_000),
  /** The longest Retry-After honoured (ms); a longer one is cut to this. */
  NOTIFICATION_MAX_RETRY_AFTER_MS: positiveInt().default(300_000),
  /** How long one delivery may take (ms). */
  NOTIFICATION_DELIVERY_TIMEOUT_MS: positiveInt().default(10_000),
  /** Deliveries one instance runs at a time. */
  NOTIFICATION_DELIVERY_CONCURRENCY: positiveInt().default(8),
  /** The start of links in messages (a dashboard or the gateway), e.g. https://heimdall.example.com. */
  NOTIFICATION_LINK_URL: z.url().default('http://127.0.0.1:4000'),
});

export type AlertsConfig = z.output<typeof alertsEnvSchema>;
