import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@heimdall/shared/config';
import { ConsulClient } from '@heimdall/shared/discovery';
import type { Platform } from '@heimdall/shared/http';
import { serviceAuthHeaders, testServiceAuthEnv } from '@heimdall/testkit';
import { createClickHouseClient } from './store/index.js';
import { metricsEnvSchema } from './config.js';
import { createServer } from './server.js';

const MINUTE = 60_000;
const m0 = Math.floor(Date.now() / MINUTE) * MINUTE - 6 * MINUTE;
/** OTLP/JSON time: minute `m` after m0, plus `s` seconds. */
const at = (m: number, s: number) => String(BigInt(m0 + m * MINUTE + s * 1000) * 1_000_000n);
const attrs = (labels: Record<string, string>) =>
  Object.entries(labels).map(([key, v]) => ({ key, value: { stringValue: v } }));

describe('metricQuery aggregations, from the rollup and from raw samples', () => {
  let dataDir: string;
  let platform: Platform;
  let clickhouse: ReturnType<typeof createClickHouseClient>;
  const service = `query-${process.pid}-${Date.now()}`;

  type Series = {
    labels: { key: string; value: string }[];
    points: { timestamp: string; value: number }[];
    timestamps: string[];
    values: number[];
    packed: { start: number; step: number; values: string };
  };
  const query = async (name: string, aggregation: string, step: string, groupBy: string[] = [], from = m0) => {
    const response = await platform.app.inject({
      method: 'POST',
      headers: await serviceAuthHeaders(),
      url: '/graphql',
      payload: {
        query: `query($input: MetricQueryInput!) { metricQuery(input: $input) { source series { labels { key value } points { timestamp value } timestamps values packed } } }`,
        variables: {
          input: {
            name,
            matchers: [{ key: 'service.name', op: 'EQ', value: service }],
            range: { from: new Date(from).toISOString(), to: new Date(m0 + 5 * MINUTE).toISOString() },
            step,
            aggregation,
            groupBy,
          },
        },
      },
    });
    const body = response.json<{ data?: { metricQuery: { source: string; series: Series[] } }; errors?: unknown[] }>();
    expect(body.errors).toBeUndefined();
    return body.data!.metricQuery;
  };
  /** PackedPoints as a dashboard decodes it, as step start → value (the NaN steps, without a point, left out). */
  const unpack = ({ start, step, values }: { start: number; step: number; values: string }) => {
    const bytes = Buffer.from(values, 'base64');
    const points: Record<number, number> = {};
    for (let i = 0; i < bytes.length / 8; i++) {
      const value = bytes.readDoubleLE(i * 8);
      if (!Number.isNaN(value)) points[start + i * step] = value;
    }
    return points;
  };
  /** Each series' points as minutes after m0 → value. */
  const shape = (series: Series[]) =>
    series.map((s) => ({
      labels: Object.fromEntries(s.labels.map((l) => [l.key, l.value])),
      points: Object.fromEntries(s.points.map((p) => [(Date.parse(p.timestamp) - m0) / MINUTE, p.value])),
    }));
  /**
   * The answer at a 1-minute step (the rollup) and at 30 s (raw samples), which must agree: every sample here is
   * in the first half of its minute.
   */
  const values = async (name: string, aggregation: string, groupBy: string[] = []) => {
    const rollup = await query(name, aggregation, '1m', groupBy);
    const raw = await query(name, aggregation, '30s', groupBy);
    expect(rollup.source).toBe('ROLLUP_1M');
    expect(raw.source).toBe('RAW');
    expect(shape(raw.series)).toEqual(shape(rollup.series));
    // The columns hold the same points as the objects.
    for (const s of [...rollup.series, ...raw.series]) {
      expect(s.timestamps).toEqual(s.points.map((p) => p.timestamp));
      expect(s.values).toEqual(s.points.map((p) => p.value));
      expect(unpack(s.packed)).toEqual(
        Object.fromEntries(s.points.map((p) => [Date.parse(p.timestamp) / 1000, p.value])),
      );
    }
    return shape(rollup.series);
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'heimdall-query-'));
    clickhouse = createClickHouseClient({ url: process.env.CLICKHOUSE_URL, dataDir });
    platform = await createServer(
      loadConfig(metricsEnvSchema, { LOG_LEVEL: 'warn', OTLP_TRACES_URL: 'off', ...testServiceAuthEnv() }),
      {
        consul: new ConsulClient('http://127.0.0.1:1'),
        clickhouse,
      },
    );
    const gauge = (host: string, points: [number, number, number][]) => ({
      name: 'q_gauge',
      gauge: {
        dataPoints: points.map(([m, s, v]) => ({ attributes: attrs({ host }), timeUnixNano: at(m, s), asDouble: v })),
      },
    });
    const counter = (name: string, temporality: number, points: [number, number, number][]) => ({
      name,
      sum: {
        aggregationTemporality: temporality,
        isMonotonic: true,
        dataPoints: points.map(([m, s, v]) => ({ timeUnixNano: at(m, s), asDouble: v })),
      },
    });
    const histogram = (
      name: string,
      temporality: number,
      points: [number, number[], { min: number; max: number }?][],
    ) => ({
      name,
      histogram: {
        aggregationTemporality: temporality,
        dataPoints: points.map(([m, counts, extremes], i) => ({
          timeUnixNano: at(m, 5 + i),
          count: String(counts.reduce((a, b) => a + b, 0)),
          sum: 1234,
          explicitBounds: [10, 100, 1000],
          bucketCounts: counts.map(String),
          ...extremes,
        })),
      },
    });
    const response = await platform.app.inject({
      method: 'POST',
      headers: await serviceAuthHeaders(),
      url: '/v1/metrics',
      payload: {
        resourceMetrics: [
          {
            resource: { attributes: attrs({ 'service.name': service }) },
            scopeMetrics: [
              {
                metrics: [
                  gauge('a', [
                    [0, 5, 1],
                    [0, 15, 3],
                    [1, 5, 5],
                  ]),
                  gauge('b', [
                    [0, 5, 10],
                    [0, 15, 20],
                    [1, 5, 30],
                  ]),
                  // Cumulative, reset between minutes 1 and 2.
                  counter('q_cumulative', 2, [
                    [0, 5, 100],
                    [0, 15, 160],
                    [1, 5, 220],
                    [2, 5, 10],
                    [3, 5, 70],
                  ]),
                  counter('q_delta', 1, [
                    [0, 5, 30],
                    [0, 15, 30],
                    [1, 5, 120],
                  ]),
                  histogram('q_hist_delta', 1, [
                    [0, [1, 2, 1, 0]],
                    [1, [0, 0, 0, 3]],
                  ]),
                  histogram('q_hist_cumulative', 2, [
                    [0, [1, 1, 0, 0]],
                    [1, [2, 3, 1, 0]],
                  ]),
                  // Minute 1's point does not know its extremes.
                  histogram('q_hist_extremes', 1, [
                    [0, [1, 1, 0, 0], { min: 2, max: 50 }],
                    [0, [2, 0, 0, 0], { min: 1, max: 8 }],
                    [1, [0, 1, 0, 0]],
                  ]),
                  {
                    name: 'q_summary',
                    summary: {
                      dataPoints: [
                        [5, 7, 42],
                        [15, 8, 44],
                      ].map(([s, p50, p99]) => ({
                        timeUnixNano: at(0, s!),
                        count: '10',
                        sum: 100,
                        quantileValues: [
                          { quantile: 0.5, value: p50 },
                          { quantile: 0.99, value: p99 },
                        ],
                      })),
                    },
                  },
                ],
              },
            ],
          },
        ],
      },
    });
    expect(response.statusCode, response.body).toBe(200);
  });
  afterAll(async () => {
    await platform.app.close();
    await clickhouse.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('sums, counts, averages and bounds the samples of each step over a group', async () => {
    expect(await values('q_gauge', 'SUM')).toEqual([{ labels: {}, points: { 0: 34, 1: 35 } }]);
    expect(await values('q_gauge', 'COUNT')).toEqual([{ labels: {}, points: { 0: 4, 1: 2 } }]);
    // Every sample weighs the same: (1 + 3 + 10 + 20) / 4.
    expect(await values('q_gauge', 'AVG')).toEqual([{ labels: {}, points: { 0: 8.5, 1: 17.5 } }]);
    expect(await values('q_gauge', 'MIN')).toEqual([{ labels: {}, points: { 0: 1, 1: 5 } }]);
    expect(await values('q_gauge', 'MAX')).toEqual([{ labels: {}, points: { 0: 20, 1: 30 } }]);
    // LAST: each series' last value in the step, summed over the group.
    expect(await values('q_gauge', 'LAST')).toEqual([{ labels: {}, points: { 0: 23, 1: 35 } }]);
  });

  it('answers from the rollup for every minute that overlaps a range starting mid-minute', async () => {
    const midMinute = await query('q_gauge', 'SUM', '1m', [], m0 + 30_000);
    expect(midMinute.source).toBe('ROLLUP_1M');
    expect(shape(midMinute.series)).toEqual([{ labels: {}, points: { 0: 34, 1: 35 } }]);
  });

  it('keeps one series per value of the groupBy labels', async () => {
    expect(await values('q_gauge', 'AVG', ['host'])).toEqual([
      { labels: { host: 'a' }, points: { 0: 2, 1: 5 } },
      { labels: { host: 'b' }, points: { 0: 15, 1: 30 } },
    ]);
    const p99 = await values('q_gauge', 'P99', ['host']);
    expect(p99.map((s) => s.points[1])).toEqual([5, 30]);
  });

  it('turns counters into per-second rates: cumulative ones across a reset, delta ones per step', async () => {
    // (220 - 160) / 60 s; after the reset the counter counted 10 from zero; then (70 - 10) / 60 s.
    expect(await values('q_cumulative', 'RATE')).toEqual([{ labels: {}, points: { 1: 1, 2: 10 / 60, 3: 1 } }]);
    // A delta counter's step counted its points' sum: 60 and 120 in a minute, or in the first 30 s of it.
    expect(shape((await query('q_delta', 'RATE', '1m')).series)).toEqual([{ labels: {}, points: { 0: 1, 1: 2 } }]);
    expect(shape((await query('q_delta', 'RATE', '30s')).series)).toEqual([{ labels: {}, points: { 0: 2, 1: 4 } }]);
  });

  it('interpolates histogram quantiles within buckets, for delta and cumulative histograms', async () => {
    // Minute 0 holds [1, 2, 1, 0] over bounds 10/100/1000: the median is halfway into (10, 100]. Minute 1's
    // three samples are all in the +Inf bucket: the highest finite bound.
    expect(await values('q_hist_delta', 'P50')).toEqual([{ labels: {}, points: { 0: 55, 1: 1000 } }]);
    // The first snapshot stands for itself ([1, 1, 0, 0]: median at the top of the first bucket); minute 1
    // counted [2, 3, 1, 0] - [1, 1, 0, 0] = [1, 2, 1, 0].
    expect(await values('q_hist_cumulative', 'P50')).toEqual([{ labels: {}, points: { 0: 10, 1: 55 } }]);
  });

  it("answers MIN and MAX over histograms from the points' own min and max, not their sums", async () => {
    expect(await values('q_hist_extremes', 'MIN')).toEqual([{ labels: {}, points: { 0: 1 } }]);
    expect(await values('q_hist_extremes', 'MAX')).toEqual([{ labels: {}, points: { 0: 50 } }]);
  });

  it("answers a summary's quantiles from the values the agent sent, the step's last", async () => {
    expect(await values('q_summary', 'P99')).toEqual([{ labels: {}, points: { 0: 44 } }]);
    expect(await values('q_summary', 'P50')).toEqual([{ labels: {}, points: { 0: 8 } }]);
    // A level the agent did not send has no answer rather than a made-up one.
    expect(await values('q_summary', 'P90')).toEqual([]);
  });
});
