import { fromBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { decodeOtlpRequest, encodeOtlpResponse, hexId, type OtlpRequest, type OtlpSignal } from './decode.js';
import {
  makeLogRecord,
  makeResourceMetrics,
  makeSpan,
  PARENT_SPAN_ID,
  RESOURCE_ATTRIBUTES,
  serialize,
  SPAN_ID,
  TRACE_ID,
  transformer,
} from './otel-js.fixtures.js';
import {
  AggregationTemporality,
  type AnyValue,
  ExportLogsServiceResponseSchema,
  ExportMetricsServiceResponseSchema,
  type KeyValue,
  type Metric,
  SeverityNumber,
  Span_SpanKind,
  Status_StatusCode,
} from './schema.js';

function decodeOk<S extends OtlpSignal>(
  signal: S,
  encoding: 'protobuf' | 'json',
  body: Uint8Array | string,
): OtlpRequest<S> {
  const result = decodeOtlpRequest(signal, encoding, typeof body === 'string' ? Buffer.from(body) : body);
  if (!result.ok) throw new Error(result.message);
  return result.request;
}

function decodeError(signal: OtlpSignal, encoding: 'protobuf' | 'json', body: Uint8Array | string): string {
  const result = decodeOtlpRequest(signal, encoding, typeof body === 'string' ? Buffer.from(body) : body);
  if (result.ok) throw new Error('expected a decoding error');
  return result.message;
}

/** Attributes as a plain record, AnyValues unwrapped to their JS value. */
function attrs(keyValues: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((keyValues ?? []).map((kv) => [kv.key, unwrap(kv.value)]));
}

function unwrap(value: AnyValue | undefined): unknown {
  if (value === undefined) return undefined;
  switch (value.value.case) {
    case 'arrayValue':
      return value.value.value.values.map(unwrap);
    case 'kvlistValue':
      return attrs(value.value.value.values);
    default:
      return value.value.value;
  }
}

function byName(metrics: Metric[], name: string): Metric {
  const metric = metrics.find((m) => m.name === name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  return metric;
}

describe('decodeOtlpRequest', () => {
  describe('metrics from the OpenTelemetry JS SDK', () => {
    it('decodes the same request from protobuf and from JSON', async () => {
      const resourceMetrics = await makeResourceMetrics();
      const fromProto = decodeOk(
        'metrics',
        'protobuf',
        serialize(transformer.ProtobufMetricsSerializer, resourceMetrics),
      );
      const fromJson = decodeOk('metrics', 'json', serialize(transformer.JsonMetricsSerializer, resourceMetrics));
      expect(fromJson).toEqual(fromProto);
      expect(fromProto.resourceMetrics[0]?.scopeMetrics[0]?.metrics).toHaveLength(5);
    });

    it.each(['protobuf', 'json'] as const)('reads every metric type, resource and scope (%s)', async (encoding) => {
      const resourceMetrics = await makeResourceMetrics();
      const serializer =
        encoding === 'protobuf' ? transformer.ProtobufMetricsSerializer : transformer.JsonMetricsSerializer;
      const request = decodeOk('metrics', encoding, serialize(serializer, resourceMetrics));

      const [resource] = request.resourceMetrics;
      expect(attrs(resource?.resource?.attributes)).toEqual({
        'service.name': 'checkout',
        'host.cpus': 8n,
        'deployment.canary': true,
      });
      const [scopeMetrics] = resource?.scopeMetrics ?? [];
      expect(scopeMetrics?.scope).toMatchObject({ name: 'checkout-meter', version: '1.2.3' });
      expect(scopeMetrics?.schemaUrl).toBe('https://opentelemetry.io/schemas/1.30.0');
      const metrics = scopeMetrics?.metrics ?? [];

      const gauge = byName(metrics, 'cpu.temperature');
      expect(gauge).toMatchObject({ unit: 'Cel', description: 'CPU temperature' });
      expect(gauge.data.case).toBe('gauge');
      const gaugePoint = gauge.data.case === 'gauge' ? gauge.data.value.dataPoints[0] : undefined;
      expect(gaugePoint?.value).toEqual({ case: 'asDouble', value: 61.5 });
      expect(attrs(gaugePoint?.attributes)).toEqual({ core: 3n });
      // Nanosecond timestamps survive as exact bigints (the SDK measures in milliseconds, so they end in 000).
      expect(gaugePoint?.timeUnixNano).toBeGreaterThan(1_600_000_000_000_000_000n);

      const counter = byName(metrics, 'http.requests');
      if (counter.data.case !== 'sum') throw new Error(`http.requests is ${counter.data.case}`);
      expect(counter.data.value).toMatchObject({
        isMonotonic: true,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
      });
      const counterPoint = counter.data.value.dataPoints[0];
      expect(counterPoint?.value).toEqual({ case: 'asDouble', value: 7 });
      expect(attrs(counterPoint?.attributes)).toEqual({
        route: '/pay',
        retry: false,
        attempt: 2n,
        ratio: 0.25,
        tags: ['a', 'b'],
      });
      expect(counterPoint?.startTimeUnixNano).toBeGreaterThan(0n);
      expect(counterPoint?.startTimeUnixNano).toBeLessThanOrEqual(counterPoint?.timeUnixNano ?? 0n);

      const upDown = byName(metrics, 'queue.depth');
      if (upDown.data.case !== 'sum') throw new Error(`queue.depth is ${upDown.data.case}`);
      expect(upDown.data.value).toMatchObject({
        isMonotonic: false,
        aggregationTemporality: AggregationTemporality.DELTA,
      });
      expect(upDown.data.value.dataPoints[0]?.value).toEqual({ case: 'asInt', value: -2n });

      const histogram = byName(metrics, 'http.latency');
      if (histogram.data.case !== 'histogram') throw new Error(`http.latency is ${histogram.data.case}`);
      expect(histogram.data.value.aggregationTemporality).toBe(AggregationTemporality.CUMULATIVE);
      expect(histogram.data.value.dataPoints[0]).toMatchObject({
        count: 4n,
        sum: 5555,
        min: 5,
        max: 5000,
        explicitBounds: [10, 100, 1000],
        bucketCounts: [1n, 1n, 1n, 1n],
      });

      const exponential = byName(metrics, 'request.size');
      if (exponential.data.case !== 'exponentialHistogram') throw new Error(`request.size is ${exponential.data.case}`);
      const point = exponential.data.value.dataPoints[0];
      expect(point).toMatchObject({ count: 4n, sum: 1031, min: 1, max: 1024, zeroCount: 0n });
      expect(point?.scale).toBeLessThanOrEqual(20);
      const positiveCounts = point?.positive?.bucketCounts ?? [];
      expect(positiveCounts.reduce((a, b) => a + b, 0n)).toBe(4n);
      expect(point?.positive?.offset).toBeTypeOf('number');
      expect(point?.negative?.bucketCounts ?? []).toEqual([]);
    });
  });

  describe('logs and traces from the OpenTelemetry JS serializers', () => {
    it.each(['protobuf', 'json'] as const)(
      'decodes a log record with ids, severity and a structured body (%s)',
      (encoding) => {
        const serializer =
          encoding === 'protobuf' ? transformer.ProtobufLogsSerializer : transformer.JsonLogsSerializer;
        const request = decodeOk('logs', encoding, serialize(serializer, [makeLogRecord()]));
        const resourceLogs = request.resourceLogs[0];
        expect(attrs(resourceLogs?.resource?.attributes)).toMatchObject({
          'service.name': RESOURCE_ATTRIBUTES['service.name'],
        });
        const record = resourceLogs?.scopeLogs[0]?.logRecords[0];
        expect(record).toMatchObject({
          timeUnixNano: 1_700_000_000_000_000_001n,
          observedTimeUnixNano: 1_700_000_000_000_000_002n,
          severityNumber: SeverityNumber.ERROR,
          severityText: 'ERROR',
          eventName: 'payment.failure',
          flags: 1,
        });
        expect(hexId(record?.traceId ?? new Uint8Array())).toBe(TRACE_ID);
        expect(hexId(record?.spanId ?? new Uint8Array())).toBe(SPAN_ID);
        expect(unwrap(record?.body)).toEqual({ message: 'payment failed', payload: new Uint8Array([0xde, 0xad]) });
        expect(attrs(record?.attributes)).toEqual({ 'user.id': 42n });
      },
    );

    it.each(['protobuf', 'json'] as const)('decodes a span with parent, status, events and links (%s)', (encoding) => {
      const serializer =
        encoding === 'protobuf' ? transformer.ProtobufTraceSerializer : transformer.JsonTraceSerializer;
      const request = decodeOk('traces', encoding, serialize(serializer, [makeSpan()]));
      const scopeSpans = request.resourceSpans[0]?.scopeSpans[0];
      expect(scopeSpans?.scope).toMatchObject({ name: 'checkout-tracer', version: '0.1.0' });
      const span = scopeSpans?.spans[0];
      expect(span).toMatchObject({
        name: 'POST /pay',
        kind: Span_SpanKind.SERVER,
        startTimeUnixNano: 1_700_000_000_123_456_789n,
        endTimeUnixNano: 1_700_000_001_000_000_000n,
        status: { code: Status_StatusCode.ERROR, message: 'card declined' },
        droppedLinksCount: 1,
      });
      expect([span?.traceId, span?.spanId, span?.parentSpanId].map((id) => hexId(id ?? new Uint8Array()))).toEqual([
        TRACE_ID,
        SPAN_ID,
        PARENT_SPAN_ID,
      ]);
      expect(span?.events[0]).toMatchObject({ name: 'exception', timeUnixNano: 1_700_000_000_500_000_000n });
      expect(hexId(span?.links[0]?.spanId ?? new Uint8Array())).toBe('0102030405060708');
      expect(attrs(span?.links[0]?.attributes)).toEqual({ reason: 'retry' });
    });
  });

  describe('hand-written OTLP/JSON', () => {
    const request = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }], futureField: { x: 1 } },
          schema_url: 'https://example.com/resource-schema',
          scopeMetrics: [
            {
              scope: { name: 'hand', version: '9', attributes: [{ key: 'scope.attr', value: { boolValue: true } }] },
              metrics: [
                {
                  name: 'rpc.duration',
                  metadata: [{ key: 'origin', value: { stringValue: 'prometheus' } }],
                  summary: {
                    data_points: [
                      {
                        start_time_unix_nano: '1700000000000000001',
                        timeUnixNano: 'NUMBER_ABOVE_2^53',
                        count: '10',
                        sum: 12.5,
                        quantileValues: [
                          { quantile: 0.5, value: 1 },
                          { quantile: 0.99, value: 4.5 },
                        ],
                        flags: 1,
                      },
                    ],
                  },
                },
                {
                  name: 'sizes',
                  exponentialHistogram: {
                    aggregationTemporality: 1,
                    dataPoints: [
                      {
                        timeUnixNano: '1700000000000000000',
                        count: 6,
                        scale: -2,
                        zeroCount: '1',
                        zeroThreshold: 0.001,
                        positive: { offset: -3, bucketCounts: ['2', 1] },
                        negative: { offset: 2, bucket_counts: [2] },
                        exemplars: [
                          {
                            timeUnixNano: '1700000000000000000',
                            asInt: '9007199254740993',
                            trace_id: TRACE_ID.toUpperCase(),
                            spanId: SPAN_ID,
                            filteredAttributes: [{ key: 'traceId', value: { stringValue: 'not-an-id' } }],
                          },
                        ],
                      },
                    ],
                  },
                },
                {
                  name: 'values',
                  gauge: {
                    dataPoints: [
                      {
                        asDouble: 'NaN',
                        attributes: [
                          { key: 'list', value: { arrayValue: { values: [{ intValue: '1' }, { doubleValue: 2.5 }] } } },
                          {
                            key: 'map',
                            value: { kvlistValue: { values: [{ key: 'k', value: { bytesValue: 'AQI=' } }] } },
                          },
                        ],
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
      unknownTopLevel: true,
    };

    it('reads hex ids, 64-bit ints as strings and numbers, snake_case names and integer enums; ignores unknown fields', () => {
      // A JS number literal would already be rounded, so the long JSON number is written into the text.
      const json = JSON.stringify(request).replace('"NUMBER_ABOVE_2^53"', '1700000000123456789');
      const decoded = decodeOk('metrics', 'json', json);
      const resource = decoded.resourceMetrics[0];
      expect(resource?.schemaUrl).toBe('https://example.com/resource-schema');
      expect(attrs(resource?.scopeMetrics[0]?.scope?.attributes)).toEqual({ 'scope.attr': true });
      const [summary, exponential, gauge] = resource?.scopeMetrics[0]?.metrics ?? [];

      expect(attrs(summary?.metadata)).toEqual({ origin: 'prometheus' });
      if (summary?.data.case !== 'summary') throw new Error('expected a summary');
      expect(summary.data.value.dataPoints[0]).toMatchObject({
        startTimeUnixNano: 1_700_000_000_000_000_001n,
        // Written as a JSON number above 2^53: still exact.
        timeUnixNano: 1_700_000_000_123_456_789n,
        count: 10n,
        sum: 12.5,
        flags: 1,
        quantileValues: [
          { quantile: 0.5, value: 1 },
          { quantile: 0.99, value: 4.5 },
        ],
      });

      if (exponential?.data.case !== 'exponentialHistogram') throw new Error('expected an exponential histogram');
      expect(exponential.data.value.aggregationTemporality).toBe(AggregationTemporality.DELTA);
      const point = exponential.data.value.dataPoints[0];
      expect(point).toMatchObject({ count: 6n, scale: -2, zeroCount: 1n, zeroThreshold: 0.001 });
      expect(point?.positive).toMatchObject({ offset: -3, bucketCounts: [2n, 1n] });
      expect(point?.negative).toMatchObject({ offset: 2, bucketCounts: [2n] });
      const exemplar = point?.exemplars[0];
      expect(exemplar?.value).toEqual({ case: 'asInt', value: 9_007_199_254_740_993n });
      expect(hexId(exemplar?.traceId ?? new Uint8Array())).toBe(TRACE_ID);
      expect(hexId(exemplar?.spanId ?? new Uint8Array())).toBe(SPAN_ID);
      // An attribute that is merely called traceId is data, not an id.
      expect(attrs(exemplar?.filteredAttributes)).toEqual({ traceId: 'not-an-id' });

      if (gauge?.data.case !== 'gauge') throw new Error('expected a gauge');
      const gaugePoint = gauge.data.value.dataPoints[0];
      expect(gaugePoint?.value.case).toBe('asDouble');
      expect(gaugePoint?.value.value).toBeNaN();
      expect(attrs(gaugePoint?.attributes)).toEqual({ list: [1n, 2.5], map: { k: new Uint8Array([1, 2]) } });
    });

    it('keeps long integers exact next to a string of millions of escapes', () => {
      // A regular expression over such a string overflows V8's backtracking stack; the body is still valid.
      const escapes = '\\n'.repeat(10_000_000);
      const body = `{"note":"${escapes}","resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[{"timeUnixNano":1700000000123456789}]}}]}]}]}`;
      const metric = decodeOk('metrics', 'json', body).resourceMetrics[0]?.scopeMetrics[0]?.metrics[0];
      expect(metric?.data.case === 'gauge' && metric.data.value.dataPoints[0]?.timeUnixNano).toBe(
        1_700_000_000_123_456_789n,
      );
    });

    it('accepts absent and empty ids', () => {
      const body = {
        resourceLogs: [
          { scopeLogs: [{ logRecords: [{ body: { stringValue: 'no trace' }, traceId: '', spanId: null }] }] },
        ],
      };
      const decoded = decodeOk('logs', 'json', JSON.stringify(body));
      expect(decoded.resourceLogs[0]?.scopeLogs[0]?.logRecords[0]?.traceId).toEqual(new Uint8Array());
    });

    it.each([
      ['non-hex characters', 'zz8efff798038103d269b633813fc60c'],
      ['an odd number of digits', '5b8efff798038103d269b633813fc60'],
      ['base64 instead of hex', 'W47/95gDgQPSabYzgT/GDA=='],
    ])('rejects a trace id with %s, naming the field', (_case, traceId) => {
      const body = JSON.stringify({
        resourceSpans: [{ scopeSpans: [{ spans: [{ traceId, spanId: SPAN_ID, name: 'x' }] }] }],
      });
      expect(decodeError('traces', 'json', body)).toBe(
        `invalid OTLP JSON body: ExportTraceServiceRequest.resourceSpans[0].scopeSpans[0].spans[0].traceId must be a hex-encoded id, got ${JSON.stringify(traceId)}`,
      );
    });

    it('rejects a bad hex parent span id in snake_case', () => {
      const body = JSON.stringify({ resource_spans: [{ scope_spans: [{ spans: [{ parent_span_id: 'nothex!!' }] }] }] });
      expect(decodeError('traces', 'json', body)).toContain('spans[0].parent_span_id must be a hex-encoded id');
    });
  });

  describe('malformed bodies', () => {
    it('rejects truncated protobuf', async () => {
      const bytes = serialize(transformer.ProtobufMetricsSerializer, await makeResourceMetrics());
      expect(decodeError('metrics', 'protobuf', bytes.subarray(0, bytes.length - 3))).toMatch(
        /^invalid OTLP protobuf body: /,
      );
    });

    it('rejects bytes that are not protobuf', () => {
      expect(decodeError('metrics', 'protobuf', Buffer.from('{"resourceMetrics":[]}'))).toMatch(
        /^invalid OTLP protobuf body: /,
      );
    });

    it.each([
      ['syntax errors', '{"resourceMetrics": ['],
      ['a wrong type', '{"resourceMetrics": {"scopeMetrics": 1}}'],
      [
        'a string where a bool belongs',
        '{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"sum": {"isMonotonic": "yes"}}]}]}]}',
      ],
    ])('rejects JSON with %s', (_case, body) => {
      expect(decodeError('metrics', 'json', body)).toMatch(/^invalid OTLP JSON body: /);
    });

    it('rejects JSON that is not UTF-8', () => {
      expect(decodeError('logs', 'json', Buffer.from([0x7b, 0xff, 0x7d]))).toMatch(/^invalid OTLP JSON body: /);
    });

    it('accepts an empty protobuf body as an empty request', () => {
      expect(decodeOk('traces', 'protobuf', new Uint8Array()).resourceSpans).toEqual([]);
    });
  });
});

describe('hexId', () => {
  it('writes lower-case hex of the bytes of a view', () => {
    const bytes = new Uint8Array([0xff, 0xab, 0x01, 0x02]);
    expect(hexId(bytes.subarray(1, 3))).toBe('ab01');
  });
});

describe('encodeOtlpResponse', () => {
  it('leaves partialSuccess out when everything was accepted', () => {
    const { body, contentType } = encodeOtlpResponse('metrics', 'json', { rejected: 0 });
    expect(contentType).toBe('application/json');
    expect(body).toBe('{}');
  });

  it('reports rejected data points in JSON', () => {
    const { body } = encodeOtlpResponse('metrics', 'json', { rejected: 3, errorMessage: '3 points too old' });
    expect(JSON.parse(body as string)).toEqual({
      partialSuccess: { rejectedDataPoints: '3', errorMessage: '3 points too old' },
    });
  });

  it('reports rejected log records in protobuf', () => {
    const { body, contentType } = encodeOtlpResponse('logs', 'protobuf', { rejected: 2, errorMessage: 'bad' });
    expect(contentType).toBe('application/x-protobuf');
    expect(fromBinary(ExportLogsServiceResponseSchema, body as Uint8Array).partialSuccess).toMatchObject({
      rejectedLogRecords: 2n,
      errorMessage: 'bad',
    });
  });

  it('passes a warning with nothing rejected', () => {
    const { body } = encodeOtlpResponse('metrics', 'protobuf', { rejected: 0, errorMessage: 'deprecated attribute' });
    expect(fromBinary(ExportMetricsServiceResponseSchema, body as Uint8Array).partialSuccess).toMatchObject({
      rejectedDataPoints: 0n,
      errorMessage: 'deprecated attribute',
    });
  });
});
