import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExportMetricsServiceRequest, decodeOtlpRequest } from '@heimdall/shared/otlp';
import { ResilienceMetrics, createResiliencePolicy } from '@heimdall/shared/resilience';
import { ServiceMetrics } from '@heimdall/shared/telemetry';
import { MetricsWriter } from '../ingest.js';
import { ClickHouseStore, type ReadLimits, createClickHouseClient } from './client.js';
import { MetricsStore } from './metrics-store.js';
import { migrate } from './migrations.js';

// With CLICKHOUSE_URL the same tests run against a ClickHouse server; otherwise against the embedded engine.
const serverUrl = process.env.CLICKHOUSE_URL;

/** An OTLP request of one gauge with `count` points a second apart, ending a minute ago. */
function gaugeRequest(
  metric: string,
  service: string,
  count: number,
  labels: Record<string, string> = {},
): ExportMetricsServiceRequest {
  const start = Date.now() - 60_000 - count * 1000;
  const body = {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeMetrics: [
          {
            metrics: [
              {
                name: metric,
                gauge: {
                  dataPoints: Array.from({ length: count }, (_, i) => ({
                    timeUnixNano: String(BigInt(start + i * 1000) * 1_000_000n),
                    asDouble: i,
                    attributes: Object.entries(labels).map(([key, v]) => ({ key, value: { stringValue: v } })),
                  })),
                },
              },
            ],
          },
        ],
      },
    ],
  };
  const decoded = decodeOtlpRequest('metrics', 'json', Buffer.from(JSON.stringify(body)));
  if (!decoded.ok) throw new Error(decoded.message);
  return decoded.request;
}

describe('the metrics store', () => {
  let dataDir: string;
  let client: ClickHouseClient;
  const service = `store-${process.pid}-${Date.now()}`;
  const clickhouseStore = (limits: ReadLimits = {}) =>
    new ClickHouseStore(
      client,
      createResiliencePolicy(
        'clickhouse',
        undefined,
        new ResilienceMetrics(new ServiceMetrics({ service: 't', instance: 't' }).registry),
      ),
      limits,
    );
  const storeWith = (limits: ReadLimits = {}, sampleReadMaxRows?: number) =>
    new MetricsStore({ ingest: clickhouseStore(), read: clickhouseStore(limits) }, sampleReadMaxRows);
  const count = async (query: string) =>
    Number((await (await client.query({ query, format: 'JSONEachRow' })).json<{ n: string | number }>())[0]?.n);

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'heimdall-store-'));
    client = createClickHouseClient({ url: serverUrl, dataDir });
    await migrate(client);
  });
  afterAll(async () => {
    await client.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  describe('retries', () => {
    it('stores a retried request once when two instances handle it at the same moment, in the raw table and the rollup', async () => {
      const metric = `dedup_two_instances_${Date.now()}`;
      const request = gaugeRequest(metric, service, 50);
      // The race as it happens across processes: each instance has looked for the samples (and found none)
      // before either inserts them.
      let checked = 0;
      let bothChecked: () => void = () => undefined;
      const barrier = new Promise<void>((resolve) => (bothChecked = resolve));
      class InstanceStore extends MetricsStore {
        override async storedSampleKeys(samples: Parameters<MetricsStore['storedSampleKeys']>[0]) {
          const stored = await super.storedSampleKeys(samples);
          if (++checked === 2) bothChecked();
          await barrier;
          return stored;
        }
      }
      const instance = () => new InstanceStore({ ingest: clickhouseStore(), read: clickhouseStore() });
      const [first, second] = [new MetricsWriter(instance()), new MetricsWriter(instance())];

      await Promise.all([first.ingest(request), second.ingest(request)]);

      expect(await count(`SELECT count() AS n FROM samples WHERE metric = '${metric}'`)).toBe(50);
      expect(await count(`SELECT countMerge(count_state) AS n FROM samples_1m WHERE metric = '${metric}'`)).toBe(50);
      await Promise.all([first.close(), second.close()]);
    });
  });

  describe('backpressure', () => {
    it('refuses with 429 once the points waiting would pass the budget, however few requests hold them', async () => {
      const writer = new MetricsWriter(storeWith(), { maxPendingSize: 150, maxDelayMs: 50 });
      const outcomes = await Promise.allSettled(
        [1, 2, 3].map((i) => writer.ingest(gaugeRequest(`backpressure_${i}_${Date.now()}`, service, 100))),
      );

      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
      expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({
        code: 'RATE_LIMITED',
        retryAfterSeconds: 1,
      });
      await writer.close();
    });
  });

  describe('limits the engine enforces', () => {
    it('looks a metric up by its name without reading every series', async () => {
      const others = 30_000;
      await client.command({
        query: `INSERT INTO series (fingerprint, metric, type, unit, description, service, labels, last_seen)
                SELECT cityHash64('${service}', number), concat('other_', toString(number % 300)), 'gauge', '', '', concat('svc_', toString(number % 40)),
                       map('n', toString(number)), now64(3) FROM numbers(${others})`,
      });
      const metric = `wanted_${Date.now()}`;
      await new MetricsWriter(storeWith()).ingest(gaugeRequest(metric, service, 3, { pod: 'a' }));

      const { series, rowsRead } = await storeWith().selectSeries(metric, [], [], 100);

      expect(series).toHaveLength(1);
      expect(rowsRead).toBeLessThan(others / 2);
    });

    it('stops a read that scans more rows than allowed with LIMIT_EXCEEDED', async () => {
      const metric = `limited_${Date.now()}`;
      const tight = storeWith({ maxRowsToRead: 10 });

      // 200 series of the metric in one part, which the lookup must read whatever ClickHouse merged meanwhile.
      await client.command({
        query: `INSERT INTO series (fingerprint, metric, type, unit, description, service, labels, last_seen)
                SELECT cityHash64('${metric}', number), '${metric}', 'gauge', '', '', '${service}', map('n', toString(number)), now64(3) FROM numbers(200)`,
      });
      await expect(tight.selectSeries(metric, [], [], 100)).rejects.toMatchObject({
        code: 'LIMIT_EXCEEDED',
        message: expect.stringMatching(/limit on rows read/) as string,
      });
    });

    it('bounds a raw-sample read without a metric name by its row budget', async () => {
      const now = Date.now();
      await expect(
        storeWith({}, 5).readSamples({
          labels: [],
          labelsArgument: 'filter.labels',
          fromMs: now - 86_400_000,
          toMs: now,
          limit: 10,
        }),
      ).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' });
    });
  });

  describe('regular expressions', () => {
    it('refuses what RE2 (ClickHouse) cannot run with BAD_USER_INPUT naming the matcher, in every query', async () => {
      const store = storeWith();
      const lookahead = [{ key: 'route', op: 'RE' as const, value: '(?!/health).*' }];

      await expect(store.selectSeries('any', lookahead, [], 10)).rejects.toMatchObject({
        code: 'BAD_USER_INPUT',
        details: { argument: 'matchers[0].value' },
      });
      await expect(
        store.readSamples({
          labels: lookahead,
          labelsArgument: 'filter.labels',
          fromMs: Date.now() - 60_000,
          toMs: Date.now(),
          limit: 10,
        }),
      ).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { argument: 'filter.labels[0].value' } });
    });
  });
});
