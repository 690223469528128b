import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { compileMatchers, parseMatcherText } from './matchers.js';
import { type InhibitRule, MuteContext, type SilenceRule, matchLabels, sourceSeverities } from './mute.js';

const HOUR = 3_600_000;
const DEFAULT_INHIBITION: InhibitRule = {
  source: ['severity=critical'],
  target: ['severity=~high|medium|low'],
  equal: ['alertname', 'service'],
};

const makeSilence = (overrides: Partial<SilenceRule> = {}): SilenceRule => ({
  matchers: [{ key: 'service', op: 'EQ', value: 'checkout' }],
  startsAt: Date.now(),
  endsAt: Date.now() + HOUR,
  ...overrides,
});

const makeContext = (parts: Partial<ConstructorParameters<typeof MuteContext>[0]> = {}) =>
  new MuteContext({ silences: [], windows: [], inhibitRules: [], sources: [], ...parts });

const alert = (labels: Record<string, string>, id = 'x') => ({ id, labels });

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(Date.parse('2026-11-25T01:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

describe('matchers', () => {
  it('compares values with = and !=, a missing label being empty', () => {
    expect(compileMatchers([{ key: 'env', op: 'EQ', value: 'prod' }])({ env: 'prod' })).toBe(true);
    expect(compileMatchers([{ key: 'env', op: 'NEQ', value: 'prod' }])({})).toBe(true);
    expect(compileMatchers([{ key: 'env', op: 'EQ', value: '' }])({})).toBe(true);
  });

  it('matches regular expressions against the whole value', () => {
    const re = compileMatchers([{ key: 'service', op: 'RE', value: 'check.*' }]);
    expect(re({ service: 'checkout' })).toBe(true);
    expect(re({ service: 'precheckout' })).toBe(false);
    expect(compileMatchers([{ key: 'service', op: 'NRE', value: 'batch-.*' }])({ service: 'batch-1' })).toBe(false);
  });

  it('reads the text form of config and refuses a regular expression RE2 does not accept', () => {
    expect(parseMatcherText('severity=~high|low')).toEqual({ key: 'severity', op: 'RE', value: 'high|low' });
    expect(parseMatcherText('service != api')).toEqual({ key: 'service', op: 'NEQ', value: 'api' });
    expect(parseMatcherText('a=~(?=x)')).toBeUndefined();
    expect(parseMatcherText('no operator')).toBeUndefined();
  });
});

describe('silences', () => {
  it('mute matching alerts between their start and end only', () => {
    const context = makeContext({
      silences: [makeSilence({ startsAt: Date.now() + HOUR, endsAt: Date.now() + 2 * HOUR })],
    });
    expect(context.reason(alert({ service: 'checkout' }), Date.now())).toBeNull();
    vi.advanceTimersByTime(HOUR);
    expect(context.reason(alert({ service: 'checkout' }), Date.now())).toBe('silenced');
    expect(context.reason(alert({ service: 'billing' }), Date.now())).toBeNull();
    vi.advanceTimersByTime(HOUR);
    expect(context.reason(alert({ service: 'checkout' }), Date.now())).toBeNull();
  });
});

describe('maintenance windows', () => {
  it('mute matching alerts while the window is open in its time zone', () => {
    // Wednesday 10:00 in Seoul.
    const context = makeContext({
      windows: [
        {
          window: { days: [3], startMinute: 600, endMinute: 660, timeZone: 'Asia/Seoul' },
          matchers: [{ key: 'env', op: 'EQ', value: 'staging' }],
        },
      ],
    });
    expect(context.reason(alert({ env: 'staging' }), Date.now())).toBe('maintenance');
    expect(context.reason(alert({ env: 'prod' }), Date.now())).toBeNull();
    expect(context.reason(alert({ env: 'staging' }), Date.now() + HOUR)).toBeNull();
  });
});

describe('inhibition', () => {
  const critical = alert(matchLabels({ alertname: 'Latency', service: 'api' }, 'CRITICAL'), 'crit');

  it('mutes a lower severity with the same alertname and service while a critical fires', () => {
    const context = makeContext({ inhibitRules: [DEFAULT_INHIBITION], sources: [critical] });
    expect(context.reason(alert(matchLabels({ alertname: 'Latency', service: 'api' }, 'HIGH')), Date.now())).toBe(
      'inhibited',
    );
    expect(context.reason(alert(matchLabels({ alertname: 'Latency', service: 'web' }, 'HIGH')), Date.now())).toBeNull();
    expect(context.reason(alert(matchLabels({ alertname: 'Errors', service: 'api' }, 'LOW')), Date.now())).toBeNull();
  });

  it('never lets an alert that matches both sides inhibit itself', () => {
    const rule: InhibitRule = { source: ['alertname=Latency'], target: ['alertname=Latency'], equal: ['service'] };
    const only = alert({ alertname: 'Latency', service: 'api' }, 'a');
    expect(makeContext({ inhibitRules: [rule], sources: [only] }).reason(only, Date.now())).toBeNull();
    expect(
      makeContext({
        inhibitRules: [rule],
        sources: [only, alert({ alertname: 'Latency', service: 'api' }, 'b')],
      }).reason(only, Date.now()),
    ).toBe('inhibited');
  });

  it('reads only the severities the rules name as sources', () => {
    expect(sourceSeverities([DEFAULT_INHIBITION])).toEqual(['CRITICAL']);
    expect(sourceSeverities([{ source: ['team=db'], target: ['x=y'], equal: [] }])).toBeNull();
  });

  it('lets a rule’s own severity label win over the rule severity', () => {
    expect(matchLabels({ severity: 'page' }, 'LOW')).toEqual({ severity: 'page' });
    expect(matchLabels({}, 'LOW')).toEqual({ severity: 'low' });
  });
});
