import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtobufExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@heimdall/shared/config';
import { ConsulClient } from '@heimdall/shared/discovery';
import type { Platform } from '@heimdall/shared/http';
import { registerOtlpRoute } from '@heimdall/shared/otlp';
import { ResilienceMetrics, type ResilienceOptions, createResiliencePolicy } from '@heimdall/shared/resilience';
import { ServiceMetrics } from '@heimdall/shared/telemetry';
import { makeCaller, serviceAuthHeaders, testServiceAuthEnv } from '@heimdall/testkit';
import { metricsEnvSchema } from './config.js';
import { MetricsWriter } from './ingest.js';
import { createMetricsStore, createServer } from './server.js';
import { ClickHouseStore, MetricsStore, createClickHouseClient, migrate } from './store/index.js';

const serverUrl = process.env.CLICKHOUSE_URL;

/** Pushes with a real OpenTelemetry JS SDK: a counter and a histogram, one export. */
async function pushWithSdk(exporter: PushMetricExporter, service: string, metricPrefix: string): Promise<void> {
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })],
  });
  const meter = provider.getMeter('heimdall-test');
  meter.createCounter(`${metricPrefix}_orders_total`).add(12, { region: 'eu' });
  const latency = meter.createHistogram(`${metricPrefix}_latency_ms`, {
    advice: { explicitBucketBoundaries: [10, 100, 1000] },
  });
  for (const ms of [5, 50, 50, 500]) latency.record(ms, { region: 'eu' });
  // Shutting down collects and exports once.
  await provider.shutdown();
}

describe('metrics ingest and query', () => {
  let dataDir: string;
  let platform: Platform;
  let clickhouse: ReturnType<typeof createClickHouseClient>;
  let url: string;
  const service = `ingest-${process.pid}-${Date.now()}`;

  const graphql = async <T>(
    query: string,
  ): Promise<{ data?: T; errors?: { message: string; extensions: { code: string } }[] }> =>
    (
      await platform.app.inject({
        method: 'POST',
        url: '/graphql',
        headers: await serviceAuthHeaders(),
        payload: { query },
      })
    ).json();

  const window = () => {
    const now = Date.now();
    return { from: new Date(now - 10 * 60_000).toISOString(), to: new Date(now + 2 * 60_000).toISOString() };
  };

  const queryValue = async (name: string, aggregation: string, step: string) => {
    const { from, to } = window();
    const result = await graphql<{
      metricQuery: { source: string; rowsRead: number; series: { points: { value: number }[] }[] };
    }>(
      `{ metricQuery(input: { name: "${name}", matchers: [{ key: "service.name", op: EQ, value: "${service}" }],
          range: { from: "${from}", to: "${to}" }, step: "${step}", aggregation: ${aggregation} }) {
          source rowsRead series { points { value } } } }`,
    );
    expect(result.errors).toBeUndefined();
    const points = result.data!.metricQuery.series.flatMap((s) => s.points.map((p) => p.value));
    return { source: result.data!.metricQuery.source, rowsRead: result.data!.metricQuery.rowsRead, points };
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'heimdall-metrics-'));
    clickhouse = createClickHouseClient({ url: serverUrl, dataDir });
    platform = await createServer(
      loadConfig(metricsEnvSchema, { LOG_LEVEL: 'warn', OTLP_TRACES_URL: 'off', ...testServiceAuthEnv() }),
      {
        consul: new ConsulClient('http://127.0.0.1:1'),
        clickhouse,
      },
    );
    await platform.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(platform.app.server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await platform.app.close();
    await clickhouse.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it.each([
    [
      'protobuf',
      (u: string, headers: Record<string, string>) => new ProtobufExporter({ url: `${u}/v1/metrics`, headers }),
    ],
    ['JSON', (u: string, headers: Record<string, string>) => new JsonExporter({ url: `${u}/v1/metrics`, headers })],
  ])(
    'stores what an SDK pushes over OTLP %s, and the rollup agrees with the raw samples',
    async (encoding, makeExporter) => {
      const prefix = encoding === 'JSON' ? 'json' : 'proto';
      // An agent's push as the gateway forwards it: with an internal token for the agent.
      await pushWithSdk(makeExporter(url, await serviceAuthHeaders(makeCaller(['agent']))), service, prefix);

      const rollup = await queryValue(`${prefix}_orders_total`, 'LAST', '1m');
      const raw = await queryValue(`${prefix}_orders_total`, 'LAST', '15s');
      expect(rollup).toMatchObject({ source: 'ROLLUP_1M', points: [12] });
      expect(raw).toMatchObject({ source: 'RAW', points: [12] });

      const histogramCount = await queryValue(`${prefix}_latency_ms`, 'COUNT', '1m');
      expect(histogramCount.points).toEqual([1]);
      // 5, 50, 50, 500 ms in buckets ≤10, ≤100, ≤1000: the median lies halfway into (10, 100].
      const median = await queryValue(`${prefix}_latency_ms`, 'P50', '1m');
      expect(median.points).toHaveLength(1);
      expect(median.points[0]).toBeCloseTo(55);
      const names = await graphql<{ metricNames: { name: string; type: string }[] }>(
        `{ metricNames(search: "${prefix}_") { name type } }`,
      );
      expect(names.data?.metricNames).toEqual(
        expect.arrayContaining([
          { name: `${prefix}_orders_total`, type: 'sum' },
          { name: `${prefix}_latency_ms`, type: 'histogram' },
        ]),
      );
    },
  );

  /** A gauge's points at `ms`, plus `nanos` nanoseconds past that millisecond when given. */
  const gaugeBody = (
    metric: string,
    points: { ms: number; nanos?: number; value: number }[],
    labels: Record<string, string> = {},
  ) => ({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeMetrics: [
          {
            metrics: [
              {
                name: metric,
                gauge: {
                  dataPoints: points.map((p) => ({
                    timeUnixNano: String(BigInt(p.ms) * 1_000_000n + BigInt(p.nanos ?? 0)),
                    asDouble: p.value,
                    attributes: Object.entries(labels).map(([key, v]) => ({ key, value: { stringValue: v } })),
                  })),
                },
              },
            ],
          },
        ],
      },
    ],
  });
  const post = async (body: unknown) =>
    fetch(`${url}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await serviceAuthHeaders(makeCaller(['agent']))) },
      body: JSON.stringify(body),
    });

  it('does not count a retried request twice', async () => {
    const body = gaugeBody('retried_gauge', [{ ms: Date.now() - 30_000, value: 3 }]);
    const first = await post(body);
    expect(first.status, await first.clone().text()).toBe(200);
    expect((await post(body)).status).toBe(200);
    expect((await queryValue('retried_gauge', 'COUNT', '15s')).points).toEqual([1]);
    expect((await queryValue('retried_gauge', 'COUNT', '1m')).points).toEqual([1]);
  });

  it('keeps every point at its nanosecond time: points less than a millisecond apart are two samples, an exact duplicate is one', async () => {
    const ms = Date.now() - 20_000;
    // Two points 100 µs apart, one of them twice, and 30 points 1 µs apart (telemetrygen's burst).
    const points = [
      { ms, nanos: 0, value: 1 },
      { ms, nanos: 100_000, value: 2 },
      { ms, nanos: 100_000, value: 2 },
      ...Array.from({ length: 30 }, (_, i) => ({ ms, nanos: 200_000 + i * 1000, value: 10 + i })),
    ];
    const body = gaugeBody('sub_ms_gauge', points);
    expect((await post(body)).status).toBe(200);
    // A retry of the same request is still counted once.
    expect((await post(body)).status).toBe(200);

    // Merged, the raw table collapses only what its key says is one sample.
    await clickhouse.command({ query: 'OPTIMIZE TABLE samples FINAL' });
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    expect(sum((await queryValue('sub_ms_gauge', 'COUNT', '15s')).points)).toBe(32);
    expect(sum((await queryValue('sub_ms_gauge', 'COUNT', '1m')).points)).toBe(32);
    const { from, to } = window();
    const samples = await graphql<{ metricsByName: { value: number; timeUnixNano: string }[] }>(
      `{ metricsByName(name: "sub_ms_gauge", range: { from: "${from}", to: "${to}" }, limit: 100) { value timeUnixNano } }`,
    );
    const base = BigInt(ms) * 1_000_000n;
    expect(samples.data?.metricsByName.slice(-2)).toEqual([
      { value: 2, timeUnixNano: String(base + 100_000n) },
      { value: 1, timeUnixNano: String(base) },
    ]);
    expect(new Set(samples.data?.metricsByName.map((s) => s.timeUnixNano)).size).toBe(32);
  });

  it('lands every point of many concurrent clients', async () => {
    const start = Date.now() - 5 * 60_000;
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, client) =>
        post(
          gaugeBody(
            'concurrent_gauge',
            Array.from({ length: 100 }, (_, i) => ({ ms: start + i * 1000, value: i })),
            { client: String(client) },
          ),
        ),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    const counted = await queryValue('concurrent_gauge', 'COUNT', '1h');
    expect(counted.points.reduce((a, b) => a + b, 0)).toBe(1000);
  });

  it('rejects stale and far-future points one by one with a partial success', async () => {
    const now = Date.now();
    const response = await post(
      gaugeBody('stale_gauge', [
        { ms: now - 8 * 86_400_000, value: 1 },
        { ms: now - 1000, value: 2 },
        { ms: now + 3_600_000, value: 3 },
      ]),
    );
    expect(response.status).toBe(200);
    const { partialSuccess } = (await response.json()) as {
      partialSuccess: { rejectedDataPoints: string; errorMessage: string };
    };
    expect(partialSuccess.rejectedDataPoints).toBe('2');
    expect(partialSuccess.errorMessage).toContain('7 days');
    expect((await queryValue('stale_gauge', 'LAST', '15s')).points).toEqual([2]);
  });

  it('rejects a histogram point whose bucket counts do not fit its bounds alone, with its reason', async () => {
    const time = String(BigInt(Date.now() - 1000) * 1_000_000n);
    const histogramPoint = (counts: number[], bounds: number[]) => ({
      timeUnixNano: time,
      count: '3',
      sum: 6,
      explicitBounds: bounds,
      bucketCounts: counts.map(String),
    });
    const response = await post({
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'malformed_histogram',
                  histogram: { aggregationTemporality: 1, dataPoints: [histogramPoint([1, 1, 1], [5])] },
                },
                {
                  name: 'wellformed_histogram',
                  histogram: { aggregationTemporality: 1, dataPoints: [histogramPoint([1, 2], [5])] },
                },
              ],
            },
          ],
        },
      ],
    });
    expect(response.status).toBe(200);
    const { partialSuccess } = (await response.json()) as {
      partialSuccess: { rejectedDataPoints: string; errorMessage: string };
    };
    expect(partialSuccess).toEqual({
      rejectedDataPoints: '1',
      errorMessage:
        'a histogram point needs one bucket count more than explicit bounds, not 3 for 1 (metric malformed_histogram)',
    });
    expect((await queryValue('wellformed_histogram', 'COUNT', '15s')).points).toEqual([1]);
    expect((await queryValue('malformed_histogram', 'COUNT', '15s')).points).toEqual([]);
  });

  it('stores a label value over 4,096 characters cut, and says so in a partial success that rejects nothing', async () => {
    const response = await post(
      gaugeBody('long_label_gauge', [{ ms: Date.now() - 1000, value: 1 }], { sql: 's'.repeat(70_000) }),
    );
    expect(response.status).toBe(200);
    // rejectedDataPoints 0, which OTLP/JSON leaves out.
    expect(((await response.json()) as { partialSuccess: unknown }).partialSuccess).toEqual({
      errorMessage: '1 label values cut to 4096 characters',
    });
    const { from, to } = window();
    const samples = await graphql<{ metricsByName: { labels: { key: string; value: string }[] }[] }>(
      `{ metricsByName(name: "long_label_gauge", range: { from: "${from}", to: "${to}" }) { labels { key value } } }`,
    );
    expect(samples.data?.metricsByName[0]?.labels.find((l) => l.key === 'sql')?.value).toBe('s'.repeat(4096));
  });

  it('serves the raw samples of the seed queries, bounded by range and count', async () => {
    const { from, to } = window();
    const byName = await graphql<{ metricsByName: { value: number; labels: { key: string; value: string }[] }[] }>(
      `{ metricsByName(name: "retried_gauge", range: { from: "${from}", to: "${to}" }, limit: 5) { value labels { key value } } }`,
    );
    expect(byName.data?.metricsByName).toEqual([{ value: 3, labels: [{ key: 'service.name', value: service }] }]);
    const filtered = await graphql<{ metrics: { name: string }[] }>(
      `{ metrics(filter: { service: "${service}", name: "concurrent_gauge", range: { from: "${from}", to: "${to}" }, limit: 7 }) { name } }`,
    );
    expect(filtered.data?.metrics).toHaveLength(7);
    const tooMany = await graphql(
      `{ metrics(filter: { range: { from: "${from}", to: "${to}" }, limit: 100000 }) { name } }`,
    );
    expect(tooMany.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
  });

  it('refuses a metricQuery of 5,000 matchers before ClickHouse sees it, and goes on taking pushes', async () => {
    const { from, to } = window();
    const response = await platform.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: await serviceAuthHeaders(),
      payload: {
        query: 'query($input: MetricQueryInput!) { metricQuery(input: $input) { source } }',
        variables: {
          input: {
            name: 'retried_gauge',
            range: { from, to },
            matchers: Array.from({ length: 5000 }, (_, i) => ({ key: 'pod', op: 'NEQ', value: `pod-${i}` })),
          },
        },
      },
    });
    expect(response.json<{ errors: unknown[] }>().errors[0]).toMatchObject({
      message: 'matchers: 5000 matchers; at most 64',
      extensions: { code: 'BAD_USER_INPUT', argument: 'matchers' },
    });
    expect((await post(gaugeBody('after_refusal_gauge', [{ ms: Date.now() - 1000, value: 1 }]))).status).toBe(200);
  });

  describe('reads and ingest apart', () => {
    const paths = (env: Record<string, string> = {}) =>
      createMetricsStore(
        clickhouse,
        loadConfig(metricsEnvSchema, { OTLP_TRACES_URL: 'off', ...testServiceAuthEnv(), ...env }),
        new ResilienceMetrics(new ServiceMetrics({ service: 'test', instance: 'test' }).registry),
      );

    it('takes pushes while the read breaker is open', async () => {
      const { store, policies } = paths();
      expect([policies.ingest.name, policies.read.name]).toEqual(['clickhouse_ingest', 'clickhouse_read']);
      const writer = new MetricsWriter(store);
      const app = Fastify();
      await registerOtlpRoute(app, { signal: 'metrics', handle: (request) => writer.ingest(request) });
      policies.read.isolate();
      try {
        await expect(store.selectSeries('read_open_gauge', [], [], 10)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
        const pushed = await app.inject({
          method: 'POST',
          url: '/v1/metrics',
          headers: { 'content-type': 'application/json' },
          payload: gaugeBody('read_open_gauge', [{ ms: Date.now() - 1000, value: 7 }]),
        });
        expect(pushed.statusCode, pushed.body).toBe(200);
        expect(policies.ingest.state).toBe('closed');
      } finally {
        await app.close();
        await writer.close();
      }
    });

    it('answers reads ClickHouse stops at its own time limit LIMIT_EXCEEDED, which never opens the read breaker', async () => {
      const { store, policies } = paths({ CLICKHOUSE_MAX_EXECUTION_SECONDS: '0.000001' });
      for (let i = 0; i < 12; i++) {
        await expect(store.selectSeries('retried_gauge', [], [], 10)).rejects.toMatchObject({
          code: 'LIMIT_EXCEEDED',
          details: { limit: 'TIMEOUT_EXCEEDED' },
        });
      }
      expect(policies.read.state).toBe('closed');
    });
  });

  it("keeps a series' scope apart from its labels, readable on the series and its samples", async () => {
    const body = gaugeBody('scoped_gauge', [{ ms: Date.now() - 1000, value: 4 }], { pod: 'a' });
    Object.assign(body.resourceMetrics[0]!.scopeMetrics[0]!, {
      scope: {
        name: 'io.heimdall.test',
        version: '2.1.0',
        attributes: [
          { key: 'pod', value: { stringValue: 'from-scope' } },
          { key: 'tier', value: { stringValue: 'gold' } },
        ],
      },
    });
    expect((await post(body)).status).toBe(200);
    const scope = {
      name: 'io.heimdall.test',
      version: '2.1.0',
      attributes: [
        { key: 'pod', value: 'from-scope' },
        { key: 'tier', value: 'gold' },
      ],
    };
    const { from, to } = window();
    const samples = await graphql<{ metricsByName: unknown[] }>(
      `{ metricsByName(name: "scoped_gauge", range: { from: "${from}", to: "${to}" }) { labels { key value } scope { name version attributes { key value } } } }`,
    );
    expect(samples.data?.metricsByName).toEqual([
      {
        labels: [
          { key: 'pod', value: 'a' },
          { key: 'service.name', value: service },
        ],
        scope,
      },
    ]);
    const series = await graphql<{ _entities: { series: { name: string; scope: unknown }[] }[] }>(
      `{ _entities(representations: [{ __typename: "Service", name: "${service}" }]) { ... on Service { series(limit: 1000) { name scope { name version attributes { key value } } } } } }`,
    );
    expect(series.data?._entities[0]?.series.find((s) => s.name === 'scoped_gauge')?.scope).toEqual(scope);
    // Matchers see the labels only.
    const tier = await graphql<{ metricQuery: { series: unknown[] } }>(
      `{ metricQuery(input: { name: "scoped_gauge", matchers: [{ key: "tier", value: "gold" }], range: { from: "${from}", to: "${to}" } }) { series { values } } }`,
    );
    expect(tier.data?.metricQuery.series).toEqual([]);
  });

  it("answers a raw sample's start time and histogram (count, sum, min, max, buckets, an exponential one's own) and a series' temporality and monotonicity as sent", async () => {
    const time = String(BigInt(Date.now() - 1000) * 1_000_000n);
    const start = String(BigInt(Date.now() - 61_000) * 1_000_000n + 123n);
    const metric = (name: string, data: Record<string, unknown>) => ({ name, unit: 'ms', ...data });
    const body = gaugeBody('unused_gauge', []);
    body.resourceMetrics[0]!.scopeMetrics[0]!.metrics = [
      metric('shape_counter', {
        sum: {
          aggregationTemporality: 2,
          isMonotonic: true,
          dataPoints: [{ startTimeUnixNano: start, timeUnixNano: time, asDouble: 5 }],
        },
      }),
      metric('shape_gauge', { gauge: { dataPoints: [{ startTimeUnixNano: start, timeUnixNano: time, asDouble: 1 }] } }),
      metric('shape_histogram', {
        histogram: {
          aggregationTemporality: 1,
          dataPoints: [
            {
              startTimeUnixNano: start,
              timeUnixNano: time,
              count: '2',
              sum: 2,
              bucketCounts: ['1', '1'],
              explicitBounds: [1],
              min: 0,
              max: 2,
            },
          ],
        },
      }),
      metric('shape_histogram_no_extremes', {
        histogram: {
          aggregationTemporality: 2,
          dataPoints: [{ timeUnixNano: time, count: '1', sum: 3, bucketCounts: ['0', '1'], explicitBounds: [1] }],
        },
      }),
      metric('shape_exponential', {
        exponentialHistogram: {
          aggregationTemporality: 1,
          dataPoints: [
            {
              startTimeUnixNano: start,
              timeUnixNano: time,
              count: '5',
              sum: 6,
              scale: 1,
              zeroThreshold: 0.5,
              zeroCount: '1',
              positive: { offset: 1, bucketCounts: ['0', '2'] },
              negative: { offset: -2, bucketCounts: ['2'] },
              min: -0.6,
              max: 2.5,
            },
          ],
        },
      }),
    ] as never;
    expect((await post(body)).status).toBe(200);
    const { from, to } = window();
    const read = async (name: string) =>
      (
        await graphql<{ metricsByName: unknown[] }>(
          `{ metricsByName(name: "${name}", range: { from: "${from}", to: "${to}" }) { value type startTimeUnixNano temporality monotonic
              histogram { count sum min max bounds counts exponential { scale zeroThreshold zeroCount positive { offset bucketCounts } negative { offset bucketCounts } } } } }`,
        )
      ).data?.metricsByName;
    expect(await read('shape_counter')).toEqual([
      { value: 5, type: 'sum', startTimeUnixNano: start, temporality: 'cumulative', monotonic: true, histogram: null },
    ]);
    // OTLP: a gauge has no start time, and one sent is ignored.
    expect(await read('shape_gauge')).toEqual([
      { value: 1, type: 'gauge', startTimeUnixNano: null, temporality: '', monotonic: false, histogram: null },
    ]);
    expect(await read('shape_histogram')).toEqual([
      {
        value: 2,
        type: 'histogram',
        startTimeUnixNano: start,
        temporality: 'delta',
        monotonic: false,
        histogram: { count: '2', sum: 2, min: 0, max: 2, bounds: [1], counts: ['1', '1'], exponential: null },
      },
    ]);
    expect(await read('shape_histogram_no_extremes')).toEqual([
      {
        value: 3,
        type: 'histogram',
        startTimeUnixNano: null,
        temporality: 'cumulative',
        monotonic: false,
        histogram: { count: '1', sum: 3, min: null, max: null, bounds: [1], counts: ['0', '1'], exponential: null },
      },
    ]);
    // Scale 1 is base √2. As explicit buckets (what queries interpolate in): negative bucket -2 (magnitudes in
    // (√2^-2, √2^-1]) up to -√2^-2 = -0.5; the zero bucket up to its threshold 0.5; positive buckets 1 and 2 up to
    // √2^2 = 2 and +Inf. The point as sent is `exponential`.
    expect(await read('shape_exponential')).toEqual([
      {
        value: 6,
        type: 'histogram',
        startTimeUnixNano: start,
        temporality: 'delta',
        monotonic: false,
        histogram: {
          count: '5',
          sum: 6,
          min: -0.6,
          max: 2.5,
          bounds: [-(Math.SQRT2 ** -2), 0.5, Math.SQRT2 ** 2],
          counts: ['2', '1', '0', '2'],
          exponential: {
            scale: 1,
            zeroThreshold: 0.5,
            zeroCount: '1',
            positive: { offset: 1, bucketCounts: ['0', '2'] },
            negative: { offset: -2, bucketCounts: ['2'] },
          },
        },
      },
    ]);
    const series = await graphql<{
      _entities: { series: { name: string; temporality: string; monotonic: boolean }[] }[];
    }>(
      `{ _entities(representations: [{ __typename: "Service", name: "${service}" }]) { ... on Service { series(limit: 1000) { name temporality monotonic } } } }`,
    );
    expect(series.data?._entities[0]?.series.filter((s) => s.name.startsWith('shape_'))).toEqual([
      { name: 'shape_counter', temporality: 'cumulative', monotonic: true },
      { name: 'shape_exponential', temporality: 'delta', monotonic: false },
      { name: 'shape_gauge', temporality: '', monotonic: false },
      { name: 'shape_histogram', temporality: 'delta', monotonic: false },
      { name: 'shape_histogram_no_extremes', temporality: 'cumulative', monotonic: false },
    ]);
  });

  it('bounds what metricLabels answers: values per key, their length, and the keys after it', async () => {
    const ms = Date.now() - 1000;
    const body = gaugeBody('labels_gauge', [{ ms, value: 1 }]);
    const metric = body.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!;
    metric.gauge.dataPoints = Array.from({ length: 150 }, (_, i) => ({
      timeUnixNano: String(BigInt(ms) * 1_000_000n),
      asDouble: i,
      attributes: [
        { key: 'many', value: { stringValue: `v${String(i).padStart(3, '0')}` } },
        { key: 'long', value: { stringValue: 'x'.repeat(3000) } },
      ],
    }));
    expect((await post(body)).status).toBe(200);
    const { from, to } = window();
    const answer = await graphql<{ metricLabels: { key: string; values: string[]; truncated: boolean }[] }>(
      `{ metricLabels(name: "labels_gauge", range: { from: "${from}", to: "${to}" }) { key values truncated } }`,
    );
    const byKey = Object.fromEntries(answer.data!.metricLabels.map((l) => [l.key, l]));
    expect(byKey.many).toMatchObject({ truncated: true });
    expect(byKey.many!.values).toHaveLength(100);
    expect(byKey.long).toEqual({ key: 'long', values: ['x'.repeat(256)], truncated: true });
    expect(byKey['service.name']).toEqual({ key: 'service.name', values: [service], truncated: false });
    const oneKey = await graphql<{ metricLabels: { key: string }[] }>(
      `{ metricLabels(name: "labels_gauge", range: { from: "${from}", to: "${to}" }, limit: 1) { key } }`,
    );
    expect(oneKey.data?.metricLabels).toEqual([{ key: 'long' }]);
  });

  describe('size arguments', () => {
    const range = () => `range: { from: "${window().from}", to: "${window().to}" }`;
    /** `argument: size` after the other arguments, or nothing for the default. */
    const sized = (name: string, size?: number) => (size === undefined ? '' : `, ${name}: ${size}`);
    const cases: [string, string, number, (size?: number) => string][] = [
      ['metricNames', 'limit', 1000, (size) => `{ metricNames(search: ""${sized('limit', size)}) { name } }`],
      [
        'metricLabels',
        'limit',
        1000,
        (size) => `{ metricLabels(name: "retried_gauge", ${range()}${sized('limit', size)}) { key } }`,
      ],
      [
        'metricLabels',
        'valuesLimit',
        1000,
        (size) => `{ metricLabels(name: "retried_gauge", ${range()}${sized('valuesLimit', size)}) { key } }`,
      ],
      [
        'metricsByName',
        'limit',
        10_000,
        (size) => `{ metricsByName(name: "retried_gauge", ${range()}${sized('limit', size)}) { value } }`,
      ],
      [
        'metrics',
        'filter.limit',
        10_000,
        (size) => `{ metrics(filter: { name: "retried_gauge", ${range()}${sized('limit', size)} }) { value } }`,
      ],
      [
        'Service.series',
        'limit',
        1000,
        (size) =>
          `{ _entities(representations: [{ __typename: "Service", name: "${service}" }]) { ... on Service { series${size === undefined ? '' : `(limit: ${size})`} { name } } } }`,
      ],
    ];
    it.each(cases)(
      '%s checks %s: 1 to %i, BAD_USER_INPUT naming it otherwise; the default and the maximum answer',
      async (_field, argument, max, query) => {
        for (const size of [-5, 0, max + 1]) {
          const refused = await graphql(query(size));
          expect(refused.errors?.[0], `${argument}: ${size}`).toMatchObject({
            extensions: { code: 'BAD_USER_INPUT', argument, max },
          });
        }
        for (const size of [undefined, max]) {
          expect((await graphql(query(size))).errors, `${argument}: ${size ?? 'default'}`).toBeUndefined();
        }
      },
    );
  });

  it('fails bad queries with BAD_USER_INPUT naming the argument', async () => {
    const { from, to } = window();
    const inverted = await graphql(
      `{ metricQuery(input: { name: "x", range: { from: "${to}", to: "${from}" } }) { source } }`,
    );
    expect(inverted.errors?.[0]).toMatchObject({
      message: 'range: from must be before to',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    const tooFine = await graphql(`
      {
        metricQuery(
          input: { name: "x", step: "1s", range: { from: "2026-01-01T00:00:00Z", to: "2026-03-01T00:00:00Z" } }
        ) {
          source
        }
      }
    `);
    expect(tooFine.errors?.[0]?.message).toMatch(/^step: the range is too long for a 1s step/);
    expect(tooFine.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
  });
});

/** A store whose ingest path runs with `options` (the tests below only push). */
function storeWithIngestPolicy(
  client: ReturnType<typeof createClickHouseClient>,
  options: ResilienceOptions,
): MetricsStore {
  const metrics = new ResilienceMetrics(new ServiceMetrics({ service: 'test', instance: 'test' }).registry);
  return new MetricsStore({
    ingest: new ClickHouseStore(client, createResiliencePolicy('clickhouse_ingest', options, metrics)),
    read: new ClickHouseStore(client, createResiliencePolicy('clickhouse_read', undefined, metrics)),
  });
}

describe('metrics ingest while ClickHouse is down', () => {
  it('answers 503 with Retry-After and acknowledges nothing', async () => {
    const down = createClickHouseClient({ url: 'http://127.0.0.1:1', dataDir: '' });
    const writer = new MetricsWriter(storeWithIngestPolicy(down, { retry: { initialDelayMs: 1, maxDelayMs: 2 } }));
    const app = Fastify();
    await registerOtlpRoute(app, { signal: 'metrics', handle: (request) => writer.ingest(request) });
    const response = await app.inject({
      method: 'POST',
      url: '/v1/metrics',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({
        resourceMetrics: [
          {
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'g',
                    gauge: { dataPoints: [{ timeUnixNano: String(BigInt(Date.now()) * 1_000_000n), asDouble: 1 }] },
                  },
                ],
              },
            ],
          },
        ],
      }),
    });
    expect(response.statusCode).toBe(503);
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    await app.close();
    await down.close();
  });

  it('answers 503 while ClickHouse refuses writes, and stores the retried request once it is back', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'heimdall-recovery-'));
    const clickhouse = createClickHouseClient({ url: serverUrl, dataDir });
    await migrate(clickhouse);
    const writer = new MetricsWriter(
      storeWithIngestPolicy(clickhouse, {
        retry: { initialDelayMs: 1, maxDelayMs: 2 },
        breaker: { halfOpenAfterMs: 200 },
      }),
    );
    const app = Fastify();
    await registerOtlpRoute(app, { signal: 'metrics', handle: (request) => writer.ingest(request) });
    const now = Date.now();
    const push = () =>
      app.inject({
        method: 'POST',
        url: '/v1/metrics',
        headers: { 'content-type': 'application/json' },
        payload: {
          resourceMetrics: [
            {
              scopeMetrics: [
                {
                  metrics: [
                    {
                      name: 'recovery_gauge',
                      gauge: {
                        dataPoints: [
                          { timeUnixNano: String(BigInt(now - 2000) * 1_000_000n), asDouble: 1 },
                          { timeUnixNano: String(BigInt(now - 1000) * 1_000_000n), asDouble: 2 },
                        ],
                      },
                    },
                  ],
                },
              ],
            },
          ],
        },
      });
    try {
      // The table a write lands in goes away, as when the server is down or under maintenance.
      await clickhouse.command({ query: 'DETACH TABLE samples' });
      const refused = await push();
      expect(refused.statusCode).toBe(503);
      const retryAfter = Number(refused.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);

      await clickhouse.command({ query: 'ATTACH TABLE samples' });
      // The agent retries the same request as Retry-After says, until it is acknowledged.
      let answer = refused;
      for (let attempt = 0; attempt < 20 && answer.statusCode !== 200; attempt++) {
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(Number(answer.headers['retry-after'] ?? 1), 1) * 1000),
        );
        answer = await push();
      }
      expect(answer.statusCode).toBe(200);
      const stored = await clickhouse.query({
        query: "SELECT count() AS n, sum(value) AS total FROM samples WHERE metric = 'recovery_gauge'",
        format: 'JSONEachRow',
      });
      // count() is a UInt64: a string from a ClickHouse server, a number from the embedded engine.
      expect(
        (await stored.json<{ n: string | number; total: number }>()).map((r) => ({ n: Number(r.n), total: r.total })),
      ).toEqual([{ n: 2, total: 3 }]);
    } finally {
      await app.close();
      await clickhouse.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
