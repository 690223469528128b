// The official OTLP/JSON examples of opentelemetry-proto (otlp-examples/, see its README) pushed through the gateway's
// OTLP endpoint as JSON and as protobuf, and every one of their fields read back through the gateway's GraphQL.
// Their times (December 2018) would be refused as stale (more than 7 days old, for every signal), so each run moves
// every time field by one offset to two minutes ago, keeping their differences; each run also has its own
// service.name and trace id, so a rerun never reads an earlier run's data.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type DescMessage, fromBinary, toBinary } from '@bufbuild/protobuf';
import { test as base, beforeAll, describe, expect } from 'vitest';
import { type OtlpEncoding, type OtlpSignal, decodeOtlpRequest, otlp } from '@heimdall/shared/otlp';
import { localStack } from '@heimdall/stack';
import { System, recentRange } from './system.js';

const local = localStack(process.env);

type Example = 'trace' | 'metrics' | 'logs' | 'events';
const example = (name: Example): string =>
  readFileSync(new URL(`./otlp-examples/${name}.json`, import.meta.url), 'utf8');

/** The examples' service name and trace id, replaced per run so that no run reads another's data. */
const EXAMPLE_SERVICE = 'my.service';
const EXAMPLE_TRACE_ID = '5B8EFFF798038103D269B633813FC60C';
/** The earliest time in the examples (trace.json's span start, 2018-12-13T14:51:00Z). */
const EXAMPLE_EPOCH_NANOS = 1544712660000000000n;

/** One run's identity and the offset that moves the examples' times to the present. */
interface Run {
  readonly service: string;
  /** Upper-case, as the examples write ids. */
  readonly traceId: string;
  readonly shiftNanos: bigint;
}

function newRun(): Run {
  // Every time moves by the same offset, so the examples' differences (a 1 s span, points 300 ms after it) stay.
  const startNanos = BigInt(Date.now() - 120_000) * 1_000_000n;
  return {
    service: `otlp-example-${randomUUID().slice(0, 8)}`,
    traceId: randomBytes(16).toString('hex').toUpperCase(),
    shiftNanos: startNanos - EXAMPLE_EPOCH_NANOS,
  };
}

/** An example's time (nanoseconds, as the example writes it) as this run sent it. */
const shifted = (run: Run, nanos: string): bigint => BigInt(nanos) + run.shiftNanos;

/** RFC 3339 with nanoseconds of a time in nanoseconds. */
function isoNanos(nanos: bigint): string {
  const ms = new Date(Number(nanos / 1_000_000n)).toISOString();
  return `${ms.slice(0, 19)}.${(nanos % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}

/** The example as this run sends it: its times shifted, its service and trace id this run's; nothing else changed. */
function prepared(run: Run, name: Example): string {
  return JSON.stringify(
    JSON.parse(example(name), (key, value: unknown) => {
      // timeUnixNano, startTimeUnixNano, endTimeUnixNano, observedTimeUnixNano: every time field of OTLP.
      if (/^(?:t|.+T)imeUnixNano$/.test(key) && typeof value === 'string') return shifted(run, value).toString();
      if (key === 'traceId' && value === EXAMPLE_TRACE_ID) return run.traceId;
      if (key === 'stringValue' && value === EXAMPLE_SERVICE) return run.service;
      return value;
    }),
  );
}

/** logs.json's attributes: one of each OTLP value type (string, bool, int, double, array, kvlist). */
const EVERY_TYPE = (
  JSON.parse(example('logs')) as { resourceLogs: { scopeLogs: { logRecords: { attributes: unknown[] }[] }[] }[] }
).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes;

/** An example with logs.json's attributes of every type in place of the span's or the gauge point's own. */
function withEveryType(run: Run, name: 'trace' | 'metrics'): string {
  return JSON.stringify(
    JSON.parse(prepared(run, name), (key, value: unknown) =>
      key === 'attributes' && JSON.stringify(value).includes(name === 'trace' ? 'my.span.attr' : 'my.gauge.attr')
        ? EVERY_TYPE
        : value,
    ),
  );
}

/** Labels and log labels are text: scalars as they print, arrays and maps as their JSON. */
const EVERY_TYPE_AS_TEXT = [
  { key: 'array.attribute', value: '["many","values"]' },
  { key: 'boolean.attribute', value: 'true' },
  { key: 'double.attribute', value: '637.704' },
  { key: 'int.attribute', value: '10' },
  { key: 'map.attribute', value: '{"some.map.key":"some value"}' },
  { key: 'string.attribute', value: 'some string' },
];

const SCHEMAS: { [S in OtlpSignal]: DescMessage } = {
  metrics: otlp.ExportMetricsServiceRequestSchema,
  logs: otlp.ExportLogsServiceRequestSchema,
  traces: otlp.ExportTraceServiceRequestSchema,
};
const RESPONSE_SCHEMAS: { [S in OtlpSignal]: DescMessage } = {
  metrics: otlp.ExportMetricsServiceResponseSchema,
  logs: otlp.ExportLogsServiceResponseSchema,
  traces: otlp.ExportTraceServiceResponseSchema,
};

/** The body of a push: the JSON itself, or the same request decoded by the receivers' own decoder and encoded as protobuf. */
function body(signal: OtlpSignal, encoding: OtlpEncoding, json: string): Uint8Array {
  const bytes = new TextEncoder().encode(json);
  if (encoding === 'json') return bytes;
  const decoded = decodeOtlpRequest(signal, 'json', bytes);
  if (!decoded.ok) throw new Error(decoded.message);
  return toBinary(SCHEMAS[signal], decoded.request);
}

/** Pushes to the gateway's OTLP endpoint with an agent's credentials; the answer must accept everything. */
async function push(system: System, signal: OtlpSignal, encoding: OtlpEncoding, json: string): Promise<void> {
  const response = await fetch(`${system.otlpUrl!}/v1/${signal}`, {
    method: 'POST',
    headers: {
      'content-type': encoding === 'json' ? 'application/json' : 'application/x-protobuf',
      ...(await system.authHeaders(['agent'])),
    },
    body: Buffer.from(body(signal, encoding, json)),
  });
  const answer = new Uint8Array(await response.arrayBuffer());
  const partialSuccess =
    response.status !== 200
      ? new TextDecoder().decode(answer)
      : encoding === 'json'
        ? (JSON.parse(new TextDecoder().decode(answer)) as { partialSuccess?: unknown }).partialSuccess
        : (fromBinary(RESPONSE_SCHEMAS[signal], answer) as { partialSuccess?: unknown }).partialSuccess;
  // Nothing rejected, nothing shortened: an answer without a partial success.
  expect({ status: response.status, partialSuccess }).toEqual({ status: 200, partialSuccess: undefined });
}

/** The examples' scope, as every signal answers it (attributes as each subgraph types them). */
const SCOPE = { name: 'my.library', version: '1.0.0' };

const it = base.extend<{ system: System; run: Run }>({
  // eslint-disable-next-line no-empty-pattern -- vitest reads the fixtures a test uses from this parameter's pattern
  system: async ({}, use) => {
    const system = await System.create(local, process.env.CLICKHOUSE_URL);
    await use(system);
    await system.stop();
  },
  // eslint-disable-next-line no-empty-pattern
  run: async ({}, use) => use(newRun()),
});

const ENCODINGS: OtlpEncoding[] = ['json', 'protobuf'];

describe('the official OTLP examples through the gateway', () => {
  beforeAll(() => local.require('consul', 'elasticsearch', 'jaeger', 'redis'));

  it.for(ENCODINGS)(
    'logs.json and events.json pushed as %s come back with every field',
    async (encoding, { system, run }) => {
      await system.startSubgraph('logs');
      await system.startGateway({ OTLP_TRACES_URL: 'off' });
      await push(system, 'logs', encoding, prepared(run, 'logs'));
      await push(system, 'logs', encoding, prepared(run, 'events'));

      interface Entries {
        logSearch: { total: number; entries: Record<string, unknown>[] };
      }
      const answer = await system.queryUntil<Entries>(
        `{ logSearch(filter: { services: ["${run.service}"], range: ${recentRange()} }, order: OLDEST_FIRST) { total entries {
          timestamp level message service traceId spanId labels { key value } severityText severityNumber
          resource { key value } scope { name version attributes { key value } } body observedTimestamp eventName truncated } } }`,
        (data) => data?.logSearch.total === 2,
      );
      expect(answer.errors).toBeUndefined();
      const time = isoNanos(shifted(run, '1544712660300000000'));
      const common = {
        timestamp: time,
        observedTimestamp: time,
        service: run.service,
        resource: [{ key: 'service.name', value: run.service }],
        scope: { ...SCOPE, attributes: [{ key: 'my.scope.attribute', value: 'some scope attribute' }] },
        truncated: false,
      };
      const entries = answer.data?.logSearch.entries ?? [];
      // Both entries have the same time: which one Elasticsearch lists first is its own choice.
      const eventName = (entry: Record<string, unknown>) =>
        typeof entry.eventName === 'string' ? entry.eventName : '';
      expect(entries.sort((a, b) => eventName(a).localeCompare(eventName(b)))).toEqual([
        {
          ...common,
          level: 'INFO',
          severityNumber: 10,
          severityText: 'Information',
          message: 'Example log record',
          body: null,
          traceId: run.traceId.toLowerCase(),
          spanId: 'eee19b7ec3c1b174',
          eventName: null,
          labels: EVERY_TYPE_AS_TEXT,
        },
        {
          ...common,
          level: 'INFO',
          severityNumber: 9,
          severityText: 'test severity text',
          message: JSON.stringify({
            type: 0,
            url: 'https://www.guidgenerator.com/online-guid-generator.aspx',
            referrer: 'https://wwww.google.com',
            title: 'Free Online GUID Generator',
          }),
          body: JSON.stringify({
            type: 0,
            url: 'https://www.guidgenerator.com/online-guid-generator.aspx',
            referrer: 'https://wwww.google.com',
            title: 'Free Online GUID Generator',
          }),
          traceId: null,
          spanId: null,
          eventName: 'browser.page_view',
          labels: [{ key: 'event.attribute', value: 'some event attribute' }],
        },
      ]);
      // Ids are found as the example writes them (upper case) and as answers write them.
      for (const id of [run.traceId, run.traceId.toLowerCase()]) {
        const byTrace = await system.query<Entries>(
          `{ logSearch(filter: { query: "traceId:${id} AND spanId:EEE19B7EC3C1B174", range: ${recentRange()} }) { total } }`,
        );
        expect(byTrace).toEqual({ data: { logSearch: { total: 1 } } });
      }
    },
  );

  it.for(ENCODINGS)('trace.json pushed as %s comes back with every field', async (encoding, { system, run }) => {
    await system.startSubgraph('traces');
    await system.startGateway({ OTLP_TRACES_URL: 'off' });
    await push(system, 'traces', encoding, prepared(run, 'trace'));

    const traceId = run.traceId.toLowerCase();
    const answer = await system.query<{
      trace: Record<string, unknown> | null;
    }>(`{ trace(traceId: "${run.traceId}") { traceId spanCount errorCount services { name }
        spans { traceId spanId parentSpanId operationName service { name } kind status { code message } startTime endTime durationMs
          tags { key type value truncated } events { name } references { refType traceId spanId traceState tags { key value } }
          resource { key type value } scope { name version attributes { key type value } } traceState warnings } } }`);
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.trace).toEqual({
      traceId,
      spanCount: 1,
      errorCount: 0,
      services: [{ name: run.service }],
      spans: [
        {
          traceId,
          spanId: 'eee19b7ec3c1b174',
          parentSpanId: 'eee19b7ec3c1b173',
          operationName: "I'm a server span",
          service: { name: run.service },
          kind: 'SERVER',
          status: { code: 'UNSET', message: '' },
          startTime: isoNanos(shifted(run, '1544712660000000000')),
          endTime: isoNanos(shifted(run, '1544712661000000000')),
          durationMs: 1000,
          tags: [{ key: 'my.span.attr', type: 'STRING', value: 'some value', truncated: false }],
          events: [],
          references: [{ refType: 'CHILD_OF', traceId, spanId: 'eee19b7ec3c1b173', traceState: '', tags: [] }],
          resource: [{ key: 'service.name', type: 'STRING', value: run.service }],
          scope: {
            ...SCOPE,
            attributes: [{ key: 'my.scope.attribute', type: 'STRING', value: 'some scope attribute' }],
          },
          traceState: '',
          warnings: [],
        },
      ],
    });
  });

  it.for(ENCODINGS)('metrics.json pushed as %s comes back with every field', async (encoding, { system, run }) => {
    await system.startSubgraph('metrics');
    await system.startGateway({ OTLP_TRACES_URL: 'off' });
    await push(system, 'metrics', encoding, prepared(run, 'metrics'));

    const scope = { ...SCOPE, attributes: [{ key: 'my.scope.attribute', value: 'some scope attribute' }] };
    const time = shifted(run, '1544712660300000000');
    const labels = (key: string) => [
      { key, value: 'some value' },
      { key: 'service.name', value: run.service },
    ];
    const answer = await system.query<{
      metrics: Record<string, unknown>[];
      service: { series: Record<string, unknown>[] };
    }>(
      `{ metrics(filter: { service: "${run.service}", range: ${recentRange()}, limit: 10 }) { name value timestamp timeUnixNano startTimeUnixNano labels { key value } unit description type
           temporality monotonic histogram { count sum min max bounds counts
             exponential { scale zeroThreshold zeroCount positive { offset bucketCounts } negative { offset bucketCounts } } } scope { name version attributes { key value } } }
         service(name: "${run.service}") { series { name type unit labels { key value } temporality monotonic scope { name version attributes { key value } } } } }`,
    );
    expect(answer.errors).toBeUndefined();
    // The examples' aggregationTemporality 1 is OTLP's DELTA.
    const kinds = {
      'my.counter': { type: 'sum', temporality: 'delta', monotonic: true },
      'my.exponential.histogram': { type: 'histogram', temporality: 'delta', monotonic: false },
      'my.gauge': { type: 'gauge', temporality: '', monotonic: false },
      'my.histogram': { type: 'histogram', temporality: 'delta', monotonic: false },
    };
    type Name = keyof typeof kinds;
    const sample = (name: Name, description: string, value: number, histogram: Record<string, unknown> | null) => ({
      name,
      value,
      timestamp: new Date(Number(time / 1_000_000n)).toISOString(),
      timeUnixNano: time.toString(),
      // The example's start times equal its times; a gauge has none.
      startTimeUnixNano: name === 'my.gauge' ? null : time.toString(),
      labels: labels(`${name}.attr`),
      unit: '1',
      description,
      ...kinds[name],
      histogram,
      scope,
    });
    const byName = (a: Record<string, unknown>, b: Record<string, unknown>) =>
      String(a.name).localeCompare(String(b.name));
    expect(answer.data?.metrics.sort(byName)).toEqual([
      sample('my.counter', 'I am a Counter', 5, null),
      // Scale 0 is base 2: the zero bucket (≤ 0, zeroCount 1), (0, 4] (the empty (0, 2] and positive bucket 1, (2, 4],
      // which counts 0), then (4, +Inf) with positive bucket 2's 2.
      sample('my.exponential.histogram', 'I am an Exponential Histogram', 10, {
        count: '3',
        sum: 10,
        min: 0,
        max: 5,
        bounds: [0, 4],
        counts: ['1', '0', '2'],
        exponential: {
          scale: 0,
          zeroThreshold: 0,
          zeroCount: '1',
          positive: { offset: 1, bucketCounts: ['0', '2'] },
          negative: { offset: 0, bucketCounts: [] },
        },
      }),
      sample('my.gauge', 'I am a Gauge', 10, null),
      sample('my.histogram', 'I am a Histogram', 2, {
        count: '2',
        sum: 2,
        min: 0,
        max: 2,
        bounds: [1],
        counts: ['1', '1'],
        exponential: null,
      }),
    ]);
    expect(answer.data?.service.series.sort(byName)).toEqual(
      (Object.keys(kinds) as Name[]).map((name) => ({
        name,
        ...kinds[name],
        unit: '1',
        labels: labels(`${name}.attr`),
        scope,
      })),
    );
    // MIN and MAX over a histogram read its own min and max (issue 17), SUM its sum.
    const aggregate = async (name: Name, aggregation: string) => {
      const result = await system.query<{ metricQuery: { series: { values: number[] }[] } }>(
        `{ metricQuery(input: { name: "${name}", matchers: [{ key: "service.name", value: "${run.service}" }], range: ${recentRange()}, step: "1h", aggregation: ${aggregation} }) { series { values } } }`,
      );
      expect(result.errors).toBeUndefined();
      return result.data?.metricQuery.series.map((s) => s.values);
    };
    for (const [name, min, max, sum] of [
      ['my.histogram', 0, 2, 2],
      ['my.exponential.histogram', 0, 5, 10],
    ] as const) {
      expect({
        name,
        min: await aggregate(name, 'MIN'),
        max: await aggregate(name, 'MAX'),
        sum: await aggregate(name, 'SUM'),
      }).toEqual({ name, min: [[min]], max: [[max]], sum: [[sum]] });
    }
  });

  it.for(ENCODINGS)(
    'logs.json’s attributes of every type, on a span and a metric point pushed as %s, read back as each signal renders them',
    async (encoding, { system, run }) => {
      await system.startSubgraph('traces');
      await system.startSubgraph('metrics');
      await system.startGateway({ OTLP_TRACES_URL: 'off' });
      await push(system, 'traces', encoding, withEveryType(run, 'trace'));
      await push(system, 'metrics', encoding, withEveryType(run, 'metrics'));

      const answer = await system.query<{ trace: { spans: { tags: unknown[] }[] }; metrics: unknown[] }>(
        `{ trace(traceId: "${run.traceId}") { spans { tags { key type value } } }
         metrics(filter: { name: "my.gauge", service: "${run.service}", range: ${recentRange()} }) { labels { key value } } }`,
      );
      expect(answer.errors).toBeUndefined();
      // Jaeger's storage (badger) keeps arrays and maps as their JSON text, typed STRING (README, Traces).
      expect(answer.data?.trace.spans[0]?.tags).toEqual([
        { key: 'string.attribute', type: 'STRING', value: 'some string' },
        { key: 'boolean.attribute', type: 'BOOL', value: 'true' },
        { key: 'int.attribute', type: 'INT', value: '10' },
        { key: 'double.attribute', type: 'DOUBLE', value: '637.704' },
        { key: 'array.attribute', type: 'STRING', value: '["many","values"]' },
        { key: 'map.attribute', type: 'STRING', value: '{"some.map.key":"some value"}' },
      ]);
      const labels = [...EVERY_TYPE_AS_TEXT, { key: 'service.name', value: run.service }].sort((a, b) =>
        a.key.localeCompare(b.key),
      );
      expect(answer.data?.metrics).toEqual([{ labels }]);
    },
  );
});
