import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResilienceMetrics, createResiliencePolicy } from '@heimdall/shared/resilience';
import { ServiceMetrics } from '@heimdall/shared/telemetry';
import { localStack } from '@heimdall/stack';
import type { AlertStateChange } from '../state-changes/alert-state-change.js';
import { PostgresStore, alertId, migrate } from '../store/index.js';
import { type TestDatabase, createTestDatabase } from '../store/test-database.fixtures.js';
import type { DependencyEdge } from './incidents.js';
import { MuteContext } from './mute.js';
import type { Escalation } from './policy.js';
import { DeliveryOutbox } from './delivery-outbox.js';
import { type ApplyOptions, GroupStore } from './group-store.js';
import { IncidentStore } from './incident-store.js';
import type { NotificationMessage } from './message.js';

const local = localStack(process.env);

// frontend → checkout → payments
const EDGES: DependencyEdge[] = [
  { parent: 'frontend', child: 'checkout' },
  { parent: 'checkout', child: 'payments' },
];

describe('incidents in the notification groups', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let store: GroupStore;
  let outbox: DeliveryOutbox;
  let incidents: IncidentStore;
  let nextId = 1;
  const t0 = Date.parse('2026-11-25T01:00:00Z');

  beforeAll(async () => {
    await local.require('postgres');
    database = await createTestDatabase(local.endpoints.postgresUrl);
    pool = new pg.Pool({ connectionString: database.url, max: 4 });
    // Dropping the test database at the end ends connections the pool may still be closing.
    pool.on('error', () => undefined);
    await migrate(pool);
    const postgres = new PostgresStore(
      pool,
      createResiliencePolicy(
        'postgres_test',
        undefined,
        new ResilienceMetrics(new ServiceMetrics({ service: 't', instance: 't' }).registry),
      ),
    );
    store = new GroupStore(postgres);
    outbox = new DeliveryOutbox(postgres);
    incidents = new IncidentStore(postgres);
  });

  /** A channel of the test's own: every test reads only its messages. */
  const makeChannel = async () => {
    const id = randomUUID();
    await pool.query(
      `INSERT INTO notification_channels (id, name, type, settings) VALUES ($1, 'hook', 'webhook', '{}')`,
      [id],
    );
    return id;
  };
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  const makeChange = (
    channel: string,
    service: string,
    overrides: Partial<AlertStateChange> = {},
  ): AlertStateChange => ({
    id: String(nextId++),
    ruleId: randomUUID(),
    ruleVersion: 1,
    ruleName: `Errors ${service}`,
    severity: 'HIGH',
    channels: [channel],
    instanceKey: 'k',
    labels: { alertname: `Errors ${service}`, service },
    annotations: {},
    from: 'PENDING',
    to: 'FIRING',
    at: new Date(t0).toISOString(),
    value: 1,
    activeAt: null,
    firedAt: new Date(t0).toISOString(),
    resolvedAt: null,
    flapping: 1,
    error: null,
    reason: 'evaluation',
    ...overrides,
  });

  const applyOptions = (now: number, edges: readonly DependencyEdge[] | null): ApplyOptions => ({
    defaults: { groupBy: [], groupWaitMs: 0, groupIntervalMs: 60_000, repeatIntervalMs: 3_600_000, sendResolved: true },
    now,
    edges,
    incidentWindowMs: 300_000,
  });

  const flush = async (
    channel: string,
    now: number,
    escalation: Escalation = { businessHours: null, digest: null, criticalRepeatMs: 300_000 },
  ) => {
    const { deliveries } = await store.flushDue({
      now,
      limit: 100,
      escalation,
      linkUrl: 'http://heimdall',
      muteContext: () => Promise.resolve(new MuteContext({ silences: [], windows: [], inhibitRules: [], sources: [] })),
    });
    const mine = (await Promise.all(deliveries.map((id) => outbox.delivery(id)))).filter(
      (d) => d?.channelId === channel,
    );
    return mine.map((d) => d!.message);
  };

  it('notifies alerts of linked services firing within the window once, naming the most downstream service', async () => {
    // The failure spreads upstream: payments first, then its callers.
    const channel = await makeChannel();
    const payments = makeChange(channel, 'payments');
    const checkout = makeChange(channel, 'checkout');
    const frontend = makeChange(channel, 'frontend');
    for (const change of [payments, checkout, frontend]) await store.applyChange(change, applyOptions(t0, EDGES));

    const messages: NotificationMessage[] = await flush(channel, t0 + 1000);

    expect(messages).toHaveLength(1);
    expect(messages[0]!.alerts.map((a) => a.id)).toEqual([alertId(payments.ruleId, 'k')]);
    expect(messages[0]!.incident).toMatchObject({
      services: ['payments', 'checkout', 'frontend'],
      rootCause: 'payments',
    });
    const [incident] = await incidents.incidents({ service: 'frontend' }, 10);
    expect(incident).toMatchObject({
      state: 'open',
      services: ['payments', 'checkout', 'frontend'],
      rootCause: 'payments',
    });
    expect(incident!.alerts.map((a) => a.service)).toEqual(['payments', 'checkout', 'frontend']);
  });

  it('makes each alert its own incident, each notified, without a service map', async () => {
    const at = t0 + 3_600_000;
    const channel = await makeChannel();
    const a = makeChange(channel, 'frontend');
    const b = makeChange(channel, 'checkout');
    for (const change of [a, b]) await store.applyChange(change, applyOptions(at, null));

    const messages = await flush(channel, at + 1000);

    expect(messages.map((m) => m.alerts.length)).toEqual([1, 1]);
    const opened = await incidents.incidents({ from: new Date(at - 1), to: new Date(at + 1) }, 10);
    expect(opened.map((i) => i.services).sort()).toEqual([['checkout'], ['frontend']]);
  });

  it('closes an incident when its last alert resolves', async () => {
    const at = t0 + 7_200_000;
    const firing = makeChange(await makeChannel(), 'inventory');
    await store.applyChange(firing, applyOptions(at, EDGES));
    await store.applyChange(
      {
        ...firing,
        id: String(nextId++),
        from: 'FIRING',
        to: 'RESOLVED',
        resolvedAt: new Date(at + 5000).toISOString(),
      },
      applyOptions(at + 5000, EDGES),
    );
    const [incident] = await incidents.incidents({ service: 'inventory' }, 10);
    expect(incident).toMatchObject({ state: 'closed', closedAt: new Date(at + 5000) });
  });

  it('holds LOW alerts for the digest, then sends each channel one message with all of them', async () => {
    const at = Date.parse('2026-11-26T05:00:00Z'); // 14:00 in Seoul
    const nextDigest = Date.parse('2026-11-27T00:00:00Z'); // 09:00 in Seoul
    const escalation: Escalation = {
      businessHours: null,
      digest: { days: [1, 2, 3, 4, 5, 6, 7], startMinute: 540, endMinute: 545, timeZone: 'Asia/Seoul' },
      criticalRepeatMs: 300_000,
    };
    const channel = await makeChannel();
    const disk = makeChange(channel, 'backup', {
      severity: 'LOW',
      ruleName: 'Disk 80%',
      labels: { alertname: 'Disk 80%', service: 'backup' },
    });
    const certs = makeChange(channel, 'edge', {
      severity: 'LOW',
      ruleName: 'Certificate expires in 20 days',
      labels: { alertname: 'Certificate expires in 20 days', service: 'edge' },
    });
    for (const change of [disk, certs]) await store.applyChange(change, applyOptions(at, null));

    expect(await flush(channel, at + 1000, escalation)).toEqual([]);
    expect(await flush(channel, nextDigest - 1000, escalation)).toEqual([]);
    const [digest, ...others] = await flush(channel, nextDigest, escalation);

    expect(others).toEqual([]);
    expect(digest!.groupLabels).toEqual({ alertname: 'Daily digest' });
    expect(digest!.alerts.map((a) => a.labels.alertname).sort()).toEqual([
      'Certificate expires in 20 days',
      'Disk 80%',
    ]);
  });

  it('skips a state change it has already applied', async () => {
    const at = t0 + 10_800_000;
    const channel = await makeChannel();
    const change = makeChange(channel, 'search');
    await store.applyChange(change, applyOptions(at, null));
    expect(await flush(channel, at + 1000)).toHaveLength(1);
    await store.applyChange(change, applyOptions(at + 2000, null));
    expect(await flush(channel, at + 3000)).toEqual([]);
  });
});
