import type { AlertsConfig } from '../config.js';
import type { InhibitRule } from './mute.js';
import type { Escalation, NotificationPolicy } from './policy.js';
import type { WeeklyWindow } from './weekly-window.js';

/** How long the daily digest stays open once it starts: flushes due then send (an instance may be a little late). */
const DIGEST_OPEN_MINUTES = 5;

/** The notification pipeline's settings, from the validated config (NOTIFICATION_*), reshaped once. */
export interface NotificationSettings {
  readonly defaults: NotificationPolicy;
  readonly escalation: Escalation;
  readonly inhibitRules: readonly InhibitRule[];
  readonly incidentWindowMs: number;
  readonly flushIntervalMs: number;
  readonly retryBaseMs: number;
  readonly maxRetryAfterMs: number;
  readonly deliveryTimeoutMs: number;
  readonly deliveryConcurrency: number;
  readonly linkUrl: string;
}

export function notificationSettings(config: AlertsConfig): NotificationSettings {
  const timeZone = config.NOTIFICATION_TIME_ZONE;
  const hours = config.NOTIFICATION_BUSINESS_HOURS;
  const businessHours: WeeklyWindow | null = hours === null ? null : { ...hours, timeZone };
  const digestMinute = config.NOTIFICATION_DIGEST_AT;
  const digest: WeeklyWindow | null =
    digestMinute === null
      ? null
      : {
          days: [1, 2, 3, 4, 5, 6, 7],
          startMinute: digestMinute,
          endMinute: (digestMinute + DIGEST_OPEN_MINUTES) % 1440,
          timeZone,
        };
  return {
    defaults: {
      groupBy: config.NOTIFICATION_GROUP_BY,
      groupWaitMs: config.NOTIFICATION_GROUP_WAIT,
      groupIntervalMs: config.NOTIFICATION_GROUP_INTERVAL,
      repeatIntervalMs: config.NOTIFICATION_REPEAT_INTERVAL,
      sendResolved: config.NOTIFICATION_SEND_RESOLVED,
    },
    escalation: { businessHours, digest, criticalRepeatMs: config.NOTIFICATION_CRITICAL_REPEAT_INTERVAL },
    inhibitRules: config.NOTIFICATION_INHIBIT_RULES,
    incidentWindowMs: config.NOTIFICATION_INCIDENT_WINDOW,
    flushIntervalMs: config.NOTIFICATION_FLUSH_INTERVAL_MS,
    retryBaseMs: config.NOTIFICATION_RETRY_BASE_MS,
    maxRetryAfterMs: config.NOTIFICATION_MAX_RETRY_AFTER_MS,
    deliveryTimeoutMs: config.NOTIFICATION_DELIVERY_TIMEOUT_MS,
    deliveryConcurrency: config.NOTIFICATION_DELIVERY_CONCURRENCY,
    linkUrl: config.NOTIFICATION_LINK_URL.replace(/\/+$/, ''),
  };
}
