import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@heimdall/shared/config';
import { testServiceAuthEnv } from '@heimdall/testkit';
import { alertsEnvSchema } from '../config.js';
import { RetryableDelivery, retryDelay } from './pipeline.js';
import { notificationSettings } from './settings.js';

const load = (env: Record<string, string> = {}) => loadConfig(alertsEnvSchema, { ...testServiceAuthEnv(), ...env });

const problemsOf = (env: Record<string, string>) => {
  try {
    load(env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems;
  }
};

describe('notification config', () => {
  it('defaults to SPEC §6: 30s, 5m, 4h, resolved sent, critical inhibits the rest', () => {
    const settings = notificationSettings(load());
    expect(settings.defaults).toEqual({
      groupBy: [],
      groupWaitMs: 30_000,
      groupIntervalMs: 300_000,
      repeatIntervalMs: 14_400_000,
      sendResolved: true,
    });
    expect(settings.inhibitRules).toEqual([
      { source: ['severity=critical'], target: ['severity=~high|medium|low'], equal: ['alertname', 'service'] },
    ]);
    expect(settings.escalation.businessHours).toMatchObject({
      days: [1, 2, 3, 4, 5],
      startMinute: 540,
      endMinute: 1080,
      timeZone: 'UTC',
    });
  });

  it('reads the key, durations, labels and windows it is given', () => {
    const key = randomBytes(32);
    const config = load({
      NOTIFICATION_SECRET_KEY: key.toString('base64'),
      NOTIFICATION_GROUP_BY: 'service, region',
      NOTIFICATION_GROUP_WAIT: '0',
      NOTIFICATION_TIME_ZONE: 'Asia/Seoul',
      NOTIFICATION_BUSINESS_HOURS: 'always',
      NOTIFICATION_DIGEST_AT: '08:30',
    });
    const settings = notificationSettings(config);
    expect(config.NOTIFICATION_SECRET_KEY).toEqual([key]);
    expect(settings.defaults).toMatchObject({ groupBy: ['service', 'region'], groupWaitMs: 0 });
    expect(settings.escalation).toMatchObject({
      businessHours: null,
      digest: { startMinute: 510, endMinute: 515, timeZone: 'Asia/Seoul' },
    });
  });

  it('names every bad variable, and never repeats the secret key', () => {
    const problems = problemsOf({
      NOTIFICATION_SECRET_KEY: 'too-short-to-be-a-key',
      NOTIFICATION_GROUP_WAIT: '30 seconds',
      NOTIFICATION_TIME_ZONE: 'Mars/Olympus',
      NOTIFICATION_INHIBIT_RULES: '[{"source": ["severity=~(?=x)"], "target": ["a=b"]}]',
      NOTIFICATION_BUSINESS_HOURS: '9 to 5',
    });
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'NOTIFICATION_SECRET_KEY',
      'NOTIFICATION_GROUP_WAIT',
      'NOTIFICATION_INHIBIT_RULES',
      'NOTIFICATION_TIME_ZONE',
      'NOTIFICATION_BUSINESS_HOURS',
    ]);
    expect(problems.join('\n')).not.toContain('too-short-to-be-a-key');
  });
});

describe('delivery backoff', () => {
  const settings = { retryBaseMs: 2000, maxRetryAfterMs: 60_000 };

  it('doubles from the base after each failed attempt', () => {
    expect([1, 2].map((attempts) => retryDelay(attempts, new RetryableDelivery('HTTP 503', null), settings))).toEqual([
      2000, 4000,
    ]);
  });

  it('waits what the receiver’s Retry-After asks, up to the cap', () => {
    expect(retryDelay(1, new RetryableDelivery('HTTP 429', 7000), settings)).toBe(7000);
    expect(retryDelay(1, new RetryableDelivery('HTTP 429', 3_600_000), settings)).toBe(60_000);
  });
});
