/**
 * Test fixtures: real OTLP payloads produced by the OpenTelemetry JS SDK and serializers.
 *
 * Why the `createRequire` detour: the `@opentelemetry/otlp-transformer` and `sdk-metrics` hoisted to the root
 * node_modules are old (0.57/1.30, pulled in by another package); the ones our exporters send with (0.223/2.12)
 * are nested under `@opentelemetry/exporter-trace-otlp-http`, a dependency of this package. Loading them from
 * there tests against what Heimdall's agents really send, and keeps the SDK and serializer versions matched.
 * The small interfaces below type the parts the tests use, since the hoisted type declarations are the old ones.
 */
import { createRequire } from 'node:module';
import { type Attributes, type HrTime, type Meter, type SpanContext, ValueType } from '@opentelemetry/api';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';

interface Serializer {
  serializeRequest(data: unknown): Uint8Array | undefined;
}

interface OtlpTransformer {
  readonly ProtobufMetricsSerializer: Serializer;
  readonly JsonMetricsSerializer: Serializer;
  readonly ProtobufLogsSerializer: Serializer;
  readonly JsonLogsSerializer: Serializer;
  readonly ProtobufTraceSerializer: Serializer;
  readonly JsonTraceSerializer: Serializer;
}

interface MetricReader {
  collect(): Promise<{ resourceMetrics: unknown; errors: unknown[] }>;
}

interface SdkMetrics {
  readonly MeterProvider: new (options: { resource: Resource; readers: MetricReader[]; views: unknown[] }) => {
    getMeter(name: string, version?: string, options?: { schemaUrl?: string }): Meter;
  };
  readonly MetricReader: new (options?: {
    aggregationTemporalitySelector?: (instrumentType: string) => number;
  }) => MetricReader;
  readonly AggregationType: { readonly EXPONENTIAL_HISTOGRAM: number };
  readonly AggregationTemporality: { readonly DELTA: number; readonly CUMULATIVE: number };
  readonly InstrumentType: { readonly UP_DOWN_COUNTER: string };
}

const requireHere = createRequire(import.meta.url);
const exporterPath = requireHere.resolve('@opentelemetry/exporter-trace-otlp-http');
const transformerPath = createRequire(exporterPath).resolve('@opentelemetry/otlp-transformer');

export const transformer = createRequire(exporterPath)('@opentelemetry/otlp-transformer') as OtlpTransformer;
const sdkMetrics = createRequire(transformerPath)('@opentelemetry/sdk-metrics') as SdkMetrics;

export function serialize(serializer: Serializer, data: unknown): Uint8Array {
  const bytes = serializer.serializeRequest(data);
  if (bytes === undefined) throw new Error('serializer produced nothing');
  return bytes;
}

export const RESOURCE_ATTRIBUTES = { 'service.name': 'checkout', 'host.cpus': 8, 'deployment.canary': true } as const;
export const TRACE_ID = '5b8efff798038103d269b633813fc60c';
export const SPAN_ID = 'eee19b7ec3c1b174';
export const PARENT_SPAN_ID = 'eee19b7ec3c1b173';

/** Resource metrics from a real MeterProvider: a gauge, a cumulative monotonic counter, a delta up-down counter,
 * an explicit-bucket histogram and an exponential histogram, with attributes of every kind the API allows. */
export async function makeResourceMetrics(): Promise<unknown> {
  // The reader reports up-down counters as delta, everything else cumulative, so both temporalities appear.
  class TestReader extends sdkMetrics.MetricReader {
    constructor() {
      super({
        aggregationTemporalitySelector: (type) =>
          type === sdkMetrics.InstrumentType.UP_DOWN_COUNTER
            ? sdkMetrics.AggregationTemporality.DELTA
            : sdkMetrics.AggregationTemporality.CUMULATIVE,
      });
    }
    protected onShutdown(): Promise<void> {
      return Promise.resolve();
    }
    protected onForceFlush(): Promise<void> {
      return Promise.resolve();
    }
  }
  const reader = new TestReader();
  const provider = new sdkMetrics.MeterProvider({
    resource: resourceFromAttributes(RESOURCE_ATTRIBUTES),
    readers: [reader],
    views: [
      { instrumentName: 'request.size', aggregation: { type: sdkMetrics.AggregationType.EXPONENTIAL_HISTOGRAM } },
    ],
  });
  const meter = provider.getMeter('checkout-meter', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' });

  meter
    .createObservableGauge('cpu.temperature', { unit: 'Cel', description: 'CPU temperature' })
    .addCallback((result) => {
      result.observe(61.5, { core: 3 });
    });
  const attributes: Attributes = { route: '/pay', retry: false, attempt: 2, ratio: 0.25, tags: ['a', 'b'] };
  const requests = meter.createCounter('http.requests');
  requests.add(3, attributes);
  requests.add(4, attributes);
  meter.createUpDownCounter('queue.depth', { valueType: ValueType.INT }).add(-2);
  const latency = meter.createHistogram('http.latency', {
    unit: 'ms',
    advice: { explicitBucketBoundaries: [10, 100, 1000] },
  });
  for (const value of [5, 50, 500, 5000]) latency.record(value);
  const size = meter.createHistogram('request.size', { unit: 'By' });
  for (const value of [1, 2, 4, 1024]) size.record(value);

  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length > 0) throw new Error(`collect failed: ${String(errors[0])}`);
  return resourceMetrics;
}

const hrTime = (seconds: number, nanos = 0): HrTime => [seconds, nanos];
const spanContext = (spanId: string): SpanContext => ({ traceId: TRACE_ID, spanId, traceFlags: 1 });
const scope = { name: 'checkout-tracer', version: '0.1.0', schemaUrl: '' };

/** A ReadableSpan as the SDK hands it to exporters (a plain object: the serializer reads fields only). */
export function makeSpan(): unknown {
  return {
    name: 'POST /pay',
    kind: 1, // SpanKind.SERVER; OTLP's is one more (2)
    spanContext: () => spanContext(SPAN_ID),
    parentSpanContext: { ...spanContext(PARENT_SPAN_ID), isRemote: true },
    startTime: hrTime(1_700_000_000, 123_456_789),
    endTime: hrTime(1_700_000_001),
    status: { code: 2, message: 'card declined' },
    attributes: { 'http.status_code': 402 },
    links: [{ context: spanContext('0102030405060708'), attributes: { reason: 'retry' } }],
    events: [
      { name: 'exception', time: hrTime(1_700_000_000, 500_000_000), attributes: { 'exception.type': 'CardError' } },
    ],
    duration: hrTime(0, 876_543_211),
    ended: true,
    resource: resourceFromAttributes(RESOURCE_ATTRIBUTES),
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 1,
  };
}

/** A ReadableLogRecord with a structured body (kvlist with bytes) and a span context. */
export function makeLogRecord(): unknown {
  return {
    hrTime: hrTime(1_700_000_000, 1),
    hrTimeObserved: hrTime(1_700_000_000, 2),
    spanContext: spanContext(SPAN_ID),
    severityNumber: 17, // ERROR
    severityText: 'ERROR',
    body: { message: 'payment failed', payload: new Uint8Array([0xde, 0xad]) },
    eventName: 'payment.failure',
    attributes: { 'user.id': 42 },
    droppedAttributesCount: 0,
    resource: resourceFromAttributes(RESOURCE_ATTRIBUTES),
    instrumentationScope: scope,
  };
}
