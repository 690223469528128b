import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { otlp } from '@heimdall/shared/otlp';
import { makeExport, makeSpan } from './otlp-builders.fixtures.js';
import { CALLS_METRIC, DURATION_BOUNDS_MS, DURATION_METRIC, spanMetrics } from './red-metrics.js';

const { Span_SpanKind: Kind, Status_StatusCode: Code } = otlp;
const MINUTE = Date.parse('2026-11-22T10:00:00Z');
const NOW = MINUTE + 5 * 60_000;
const minuteNs = (ms: number) => BigInt(ms) * 1_000_000n;

const traceId = new Uint8Array(16).fill(1);
const id = (n: number) => new Uint8Array(8).fill(n);

function labels(point: { attributes: otlp.KeyValue[] }): Record<string, string> {
  return Object.fromEntries(
    point.attributes.map((a) => [a.key, a.value?.value.case === 'stringValue' ? a.value.value.value : '?']),
  );
}

function metricsOf(request: otlp.ExportMetricsServiceRequest) {
  const metrics = request.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
  const calls = metrics
    .filter((m) => m.name === CALLS_METRIC)
    .flatMap((m) => (m.data.case === 'sum' ? m.data.value.dataPoints : []));
  const durations = metrics
    .filter((m) => m.name === DURATION_METRIC)
    .flatMap((m) => (m.data.case === 'histogram' ? m.data.value.dataPoints : []));
  return { metrics, calls, durations };
}

describe('RED metrics from spans', () => {
  it('counts calls per service, span name, kind and status with the span-metrics connector’s names', () => {
    const request = makeExport(
      {
        service: 'checkout',
        spans: [
          makeSpan({ traceId, spanId: id(1), name: 'GET /cart', kind: Kind.SERVER, startMs: MINUTE + 1000 }),
          makeSpan({ traceId, spanId: id(2), name: 'GET /cart', kind: Kind.SERVER, startMs: MINUTE + 2000 }),
          makeSpan({
            traceId,
            spanId: id(3),
            name: 'GET /cart',
            kind: Kind.SERVER,
            startMs: MINUTE + 3000,
            status: { code: Code.ERROR },
          }),
          makeSpan({
            traceId,
            spanId: id(4),
            name: 'SELECT',
            kind: Kind.CLIENT,
            startMs: MINUTE + 4000,
            status: { code: Code.OK },
          }),
        ],
      },
      {
        service: 'payments',
        spans: [makeSpan({ traceId, spanId: id(5), name: 'charge', kind: Kind.INTERNAL, startMs: MINUTE + 5000 })],
      },
    );
    const result = spanMetrics(request, NOW);
    expect(result.resourceMetrics.map((rm) => labels(rm.resource!))).toEqual([
      { 'service.name': 'checkout' },
      { 'service.name': 'payments' },
    ]);

    const { metrics, calls } = metricsOf(result);
    const sum = metrics.find((m) => m.name === CALLS_METRIC)?.data;
    expect(sum?.case === 'sum' && sum.value).toMatchObject({
      aggregationTemporality: otlp.AggregationTemporality.DELTA,
      isMonotonic: true,
    });
    expect(calls.map((p) => ({ ...labels(p), count: p.value.value }))).toEqual([
      {
        'service.name': 'checkout',
        'span.name': 'GET /cart',
        'span.kind': 'SPAN_KIND_SERVER',
        'status.code': 'STATUS_CODE_ERROR',
        count: 1n,
      },
      {
        'service.name': 'checkout',
        'span.name': 'GET /cart',
        'span.kind': 'SPAN_KIND_SERVER',
        'status.code': 'STATUS_CODE_UNSET',
        count: 2n,
      },
      {
        'service.name': 'checkout',
        'span.name': 'SELECT',
        'span.kind': 'SPAN_KIND_CLIENT',
        'status.code': 'STATUS_CODE_OK',
        count: 1n,
      },
      {
        'service.name': 'payments',
        'span.name': 'charge',
        'span.kind': 'SPAN_KIND_INTERNAL',
        'status.code': 'STATUS_CODE_UNSET',
        count: 1n,
      },
    ]);
  });

  it('puts durations in a delta histogram in ms with the connector’s default bounds', () => {
    const durationsMs = [1, 2, 2.5, 10, 10_000, 20_000];
    const spans = durationsMs.map((ms, i) =>
      makeSpan({ traceId, spanId: id(i + 1), startMs: MINUTE + 1000, endMs: MINUTE + 1000 + ms }),
    );
    const result = spanMetrics(makeExport({ service: 'checkout', spans }), NOW);
    const histogram = metricsOf(result).metrics.find((m) => m.name === DURATION_METRIC);
    expect(histogram?.unit).toBe('ms');
    expect(histogram?.data.case === 'histogram' && histogram.data.value.aggregationTemporality).toBe(
      otlp.AggregationTemporality.DELTA,
    );

    const [point] = metricsOf(result).durations;
    expect(point?.explicitBounds).toEqual(DURATION_BOUNDS_MS);
    expect(point?.count).toBe(6n);
    expect(point?.sum).toBeCloseTo(30_015.5);
    // (−∞,2] gets 1 and 2; (4,6]... stay empty; 2.5 in (2,4]; 10 in (8,10]; 10 000 in (5000,10 000]; 20 000 above 15 000.
    const expected = new Array<bigint>(DURATION_BOUNDS_MS.length + 1).fill(0n);
    expected[0] = 2n;
    expected[1] = 1n;
    expected[4] = 1n;
    expected[14] = 1n;
    expected[16] = 1n;
    expect(point?.bucketCounts).toEqual(expected);
  });

  it('gives one point per series and minute of the spans’ end times, timed within that minute', () => {
    const spans = [
      makeSpan({ traceId, spanId: id(1), startMs: MINUTE + 10_000 }),
      makeSpan({ traceId, spanId: id(2), startMs: MINUTE + 50_000 }),
      makeSpan({ traceId, spanId: id(3), startMs: MINUTE + 59_000, endMs: MINUTE + 61_000 }),
    ];
    const { calls, durations } = metricsOf(spanMetrics(makeExport({ service: 'checkout', spans }), NOW));
    expect(calls.map((p) => [p.startTimeUnixNano, p.value.value])).toEqual([
      [minuteNs(MINUTE), 2n],
      [minuteNs(MINUTE + 60_000), 1n],
    ]);
    for (const point of [...calls, ...durations]) {
      expect(point.timeUnixNano).toBeGreaterThanOrEqual(point.startTimeUnixNano);
      expect(point.timeUnixNano).toBeLessThan(point.startTimeUnixNano + minuteNs(60_000));
    }
  });

  it('times a retried export’s points alike and another export’s points apart, so only the retry is dropped as a duplicate', () => {
    const first = makeExport({
      service: 'checkout',
      spans: [makeSpan({ traceId, spanId: id(1), startMs: MINUTE + 1000 })],
    });
    const second = makeExport({
      service: 'checkout',
      spans: [makeSpan({ traceId, spanId: id(2), startMs: MINUTE + 1000 })],
    });
    const time = (request: otlp.ExportTraceServiceRequest) =>
      metricsOf(spanMetrics(request, NOW)).calls[0]?.timeUnixNano;
    expect(time(create(otlp.ExportTraceServiceRequestSchema, first))).toBe(time(first));
    expect(time(second)).not.toBe(time(first));
  });

  it('leaves out spans of a resource without service.name and points the metrics store would refuse', () => {
    const unnamed = create(otlp.ExportTraceServiceRequestSchema, {
      resourceSpans: [{ scopeSpans: [{ spans: [makeSpan({ startMs: MINUTE })] }] }],
    });
    expect(spanMetrics(unnamed, NOW).resourceMetrics).toEqual([]);
    const old = makeExport({ service: 'checkout', spans: [makeSpan({ startMs: NOW - 8 * 86_400_000 })] });
    expect(spanMetrics(old, NOW).resourceMetrics).toEqual([]);
  });
});
