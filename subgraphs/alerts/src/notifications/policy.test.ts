import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type Escalation,
  type FlushAlert,
  type FlushInput,
  type NotificationPolicy,
  decideFlush,
  effectivePolicy,
  escalationGate,
  groupKeyOf,
  groupLabelsOf,
  idempotencyKey,
  nextFlushAfterChange,
} from './policy.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

const makePolicy = (overrides: Partial<NotificationPolicy> = {}): NotificationPolicy => ({
  groupBy: [],
  groupWaitMs: 30 * SECOND,
  groupIntervalMs: 5 * MINUTE,
  repeatIntervalMs: 4 * HOUR,
  sendResolved: true,
  ...overrides,
});

/** Monday to Friday 09:00–18:00 in Seoul; the digest at 09:00 for 5 minutes. */
const makeEscalation = (overrides: Partial<Escalation> = {}): Escalation => ({
  businessHours: { days: [1, 2, 3, 4, 5], startMinute: 9 * 60, endMinute: 18 * 60, timeZone: 'Asia/Seoul' },
  digest: { days: [1, 2, 3, 4, 5, 6, 7], startMinute: 9 * 60, endMinute: 9 * 60 + 5, timeZone: 'Asia/Seoul' },
  criticalRepeatMs: 5 * MINUTE,
  ...overrides,
});

const firing = (id: string, overrides: Partial<FlushAlert> = {}): FlushAlert => ({
  id,
  state: 'firing',
  muted: null,
  acknowledged: false,
  ...overrides,
});
const resolved = (id: string): FlushAlert => ({ id, state: 'resolved', muted: null, acknowledged: false });

const makeInput = (overrides: Partial<FlushInput> = {}): FlushInput => ({
  now: Date.now(),
  policy: makePolicy(),
  severity: 'CRITICAL',
  escalation: makeEscalation(),
  alerts: [],
  lastSentFiring: [],
  lastSentAt: null,
  ...overrides,
});

// A Wednesday, 10:00 in Seoul (01:00 UTC).
const WEDNESDAY_10_SEOUL = Date.parse('2026-11-25T01:00:00Z');

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(WEDNESDAY_10_SEOUL);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('groups', () => {
  it('groups by alertname and the groupBy labels an alert has', () => {
    expect(groupLabelsOf({ alertname: 'CPU', service: 'api', host: 'a' }, ['service', 'region'])).toEqual({
      alertname: 'CPU',
      service: 'api',
    });
  });

  it('keys a group by channel, rule and label values, whatever their order', () => {
    expect(groupKeyOf('c', 'r', { a: '1', b: '2' })).toBe(groupKeyOf('c', 'r', { b: '2', a: '1' }));
    expect(groupKeyOf('c', 'r', { a: '1' })).not.toBe(groupKeyOf('c2', 'r', { a: '1' }));
    expect(groupKeyOf('c', 'r', { a: '1' })).not.toBe(groupKeyOf('c', 'r', { a: '2' }));
  });

  it('takes a rule’s overrides over the defaults, field by field', () => {
    const policy = effectivePolicy(makePolicy(), {
      groupBy: ['service'],
      groupWaitMs: 0,
      groupIntervalMs: null,
      repeatIntervalMs: null,
      sendResolved: false,
    });
    expect(policy).toEqual({ ...makePolicy(), groupBy: ['service'], groupWaitMs: 0, sendResolved: false });
  });
});

describe('timing', () => {
  it('waits the group wait before a new group’s first message, however many alerts join meanwhile', () => {
    const first = nextFlushAfterChange({ nextFlushAt: null, lastFlushAt: null }, makePolicy(), Date.now());
    vi.advanceTimersByTime(10 * SECOND);
    const second = nextFlushAfterChange({ nextFlushAt: first, lastFlushAt: null }, makePolicy(), Date.now());
    expect(first).toBe(WEDNESDAY_10_SEOUL + 30 * SECOND);
    expect(second).toBe(first);
  });

  it('holds a change back until the group interval has passed since the last message', () => {
    const lastFlushAt = Date.now();
    vi.advanceTimersByTime(MINUTE);
    expect(nextFlushAfterChange({ nextFlushAt: null, lastFlushAt }, makePolicy(), Date.now())).toBe(
      lastFlushAt + 5 * MINUTE,
    );
    vi.advanceTimersByTime(10 * MINUTE);
    expect(nextFlushAfterChange({ nextFlushAt: null, lastFlushAt }, makePolicy(), Date.now())).toBe(Date.now());
  });

  it('brings a far repeat forward to the group interval when something changes', () => {
    const lastFlushAt = Date.now();
    vi.advanceTimersByTime(MINUTE);
    expect(nextFlushAfterChange({ nextFlushAt: lastFlushAt + 4 * HOUR, lastFlushAt }, makePolicy(), Date.now())).toBe(
      lastFlushAt + 5 * MINUTE,
    );
  });
});

describe('what a flush sends', () => {
  it('sends new firing alerts and looks again after the repeat interval', () => {
    const decision = decideFlush(makeInput({ alerts: [firing('a'), firing('b')] }));
    expect(decision).toEqual({
      kind: 'flush',
      send: { firing: ['a', 'b'], resolved: [] },
      lastSentFiring: ['a', 'b'],
      lastSentAt: Date.now(),
      next: Date.now() + 5 * MINUTE,
    });
  });

  it('sends nothing when the notified alerts are unchanged and the repeat is not due', () => {
    const lastSentAt = Date.now();
    vi.advanceTimersByTime(HOUR);
    const decision = decideFlush(
      makeInput({ severity: 'HIGH', alerts: [firing('a')], lastSentFiring: ['a'], lastSentAt }),
    );
    expect(decision).toMatchObject({ kind: 'flush', send: null, next: lastSentAt + 4 * HOUR });
  });

  it('sends the same alerts again once the repeat interval has passed', () => {
    const lastSentAt = Date.now();
    vi.advanceTimersByTime(4 * HOUR);
    const decision = decideFlush(
      makeInput({
        severity: 'MEDIUM',
        escalation: makeEscalation({ businessHours: null }),
        alerts: [firing('a')],
        lastSentFiring: ['a'],
        lastSentAt,
      }),
    );
    expect(decision).toMatchObject({ send: { firing: ['a'], resolved: [] }, lastSentAt: Date.now() });
  });

  it('sends a resolved alert that was notified firing, and not one that never was', () => {
    const decision = decideFlush(
      makeInput({ alerts: [resolved('a'), resolved('b')], lastSentFiring: ['a'], lastSentAt: Date.now() - MINUTE }),
    );
    expect(decision).toMatchObject({ send: { firing: [], resolved: ['a'] }, next: null });
  });

  it('sends no resolved message when sendResolved is false', () => {
    const decision = decideFlush(
      makeInput({
        policy: makePolicy({ sendResolved: false }),
        alerts: [resolved('a')],
        lastSentFiring: ['a'],
        lastSentAt: Date.now() - MINUTE,
      }),
    );
    expect(decision).toMatchObject({ send: null, lastSentFiring: [] });
  });

  it('leaves a muted alert out and looks again a group interval later', () => {
    const decision = decideFlush(makeInput({ alerts: [firing('a', { muted: 'silenced' })] }));
    expect(decision).toEqual({
      kind: 'flush',
      send: null,
      lastSentFiring: [],
      lastSentAt: null,
      next: Date.now() + 5 * MINUTE,
    });
  });

  it('notifies an alert once its silence is over', () => {
    const muted = decideFlush(makeInput({ alerts: [firing('a', { muted: 'silenced' })] }));
    vi.advanceTimersByTime(5 * MINUTE);
    const after = decideFlush(
      makeInput({ alerts: [firing('a')], lastSentFiring: muted.kind === 'flush' ? muted.lastSentFiring : [] }),
    );
    expect(after).toMatchObject({ send: { firing: ['a'] } });
  });

  it('derives the idempotency key from group, time and content', () => {
    const send = { firing: ['a'], resolved: [] };
    expect(idempotencyKey('g', 1, send)).toBe(idempotencyKey('g', 1, send));
    expect(idempotencyKey('g', 2, send)).not.toBe(idempotencyKey('g', 1, send));
    expect(idempotencyKey('g', 1, { firing: [], resolved: ['a'] })).not.toBe(idempotencyKey('g', 1, send));
  });
});

describe('escalation by severity', () => {
  it('repeats a critical alert every critical repeat interval until it is acknowledged', () => {
    const lastSentAt = Date.now();
    vi.advanceTimersByTime(5 * MINUTE);
    const unacknowledged = decideFlush(makeInput({ alerts: [firing('a')], lastSentFiring: ['a'], lastSentAt }));
    const acknowledged = decideFlush(
      makeInput({ alerts: [firing('a', { acknowledged: true })], lastSentFiring: ['a'], lastSentAt }),
    );
    expect(unacknowledged).toMatchObject({ send: { firing: ['a'] }, next: Date.now() + 5 * MINUTE });
    expect(acknowledged).toMatchObject({ send: null, next: null });
  });

  it('pages a critical alert at night', () => {
    vi.setSystemTime(Date.parse('2026-11-25T17:00:00Z')); // 02:00 Thursday in Seoul
    expect(escalationGate('CRITICAL', makeEscalation(), Date.now())).toBeNull();
  });

  it('holds high and medium alerts until business hours', () => {
    vi.setSystemTime(Date.parse('2026-11-27T12:00:00Z')); // Friday 21:00 in Seoul
    const monday9 = Date.parse('2026-11-30T00:00:00Z');
    expect(escalationGate('HIGH', makeEscalation(), Date.now())).toBe(monday9);
    expect(decideFlush(makeInput({ severity: 'MEDIUM', alerts: [firing('a')] }))).toEqual({
      kind: 'defer',
      until: monday9,
    });
    vi.setSystemTime(monday9);
    expect(decideFlush(makeInput({ severity: 'MEDIUM', alerts: [firing('a')] }))).toMatchObject({
      send: { firing: ['a'] },
    });
  });

  it('holds low alerts for the daily digest', () => {
    const tomorrow9 = Date.parse('2026-11-26T00:00:00Z');
    expect(escalationGate('LOW', makeEscalation(), Date.now())).toBe(tomorrow9);
    vi.setSystemTime(tomorrow9 + 2 * MINUTE);
    expect(escalationGate('LOW', makeEscalation(), Date.now())).toBeNull();
  });

  it('sends every severity at any time when neither business hours nor a digest are set', () => {
    vi.setSystemTime(Date.parse('2026-11-28T18:00:00Z')); // Sunday 03:00 in Seoul
    const anytime = makeEscalation({ businessHours: null, digest: null });
    expect(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'].map((s) => escalationGate(s as 'LOW', anytime, Date.now()))).toEqual([
      null,
      null,
      null,
      null,
    ]);
  });
});
