import { create } from '@bufbuild/protobuf';
import { type ExportMetricsServiceRequest, type ExportTraceServiceRequest, otlp } from '@heimdall/shared/otlp';

/**
 * RED metrics (rate, errors, duration) derived from spans with the conventions of the OpenTelemetry Collector's
 * span-metrics connector (connector/spanmetricsconnector v0.140: namespace `traces.span.metrics`, histogram in
 * ms with its default bounds, dimensions service.name, span.name, span.kind, status.code), which Jaeger's SPM
 * reads too. Unlike the connector, which flushes what it accumulated every 60 s, one export of spans gives one
 * delta point per series and minute of the spans' end times, so that the metrics are written when the spans are.
 */

export const CALLS_METRIC = 'traces.span.metrics.calls';
export const DURATION_METRIC = 'traces.span.metrics.duration';
/** The connector's default explicit bounds, in ms. */
export const DURATION_BOUNDS_MS: readonly number[] = [
  2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000, 10_000, 15_000,
];

/** The metrics subgraph keeps points within these bounds of now (SPEC §4); others would come back rejected. */
const MAX_POINT_AGE_MS = 7 * 86_400_000;
const MAX_POINT_FUTURE_MS = 10 * 60_000;

const MINUTE_NS = 60_000_000_000n;
const NS_PER_MS = 1_000_000n;
const SCOPE = { name: 'heimdall.traces.spanmetrics' };

const KIND_NAMES: Record<otlp.Span_SpanKind, string> = {
  [otlp.Span_SpanKind.UNSPECIFIED]: 'SPAN_KIND_UNSPECIFIED',
  [otlp.Span_SpanKind.INTERNAL]: 'SPAN_KIND_INTERNAL',
  [otlp.Span_SpanKind.SERVER]: 'SPAN_KIND_SERVER',
  [otlp.Span_SpanKind.CLIENT]: 'SPAN_KIND_CLIENT',
  [otlp.Span_SpanKind.PRODUCER]: 'SPAN_KIND_PRODUCER',
  [otlp.Span_SpanKind.CONSUMER]: 'SPAN_KIND_CONSUMER',
};

const STATUS_NAMES: Record<otlp.Status_StatusCode, string> = {
  [otlp.Status_StatusCode.UNSET]: 'STATUS_CODE_UNSET',
  [otlp.Status_StatusCode.OK]: 'STATUS_CODE_OK',
  [otlp.Status_StatusCode.ERROR]: 'STATUS_CODE_ERROR',
};

interface Series {
  readonly service: string;
  readonly spanName: string;
  readonly spanKind: string;
  readonly statusCode: string;
  readonly minute: bigint;
  count: number;
  /** The sum of the spans' id hashes (mod 2^32): the same for the same spans in any order. */
  idHash: number;
  readonly bucketCounts: number[];
  sum: number;
}

/**
 * The calls (Sum, delta, monotonic) and durations (Histogram, delta, ms) of an export's spans, one point per
 * service, span name, kind, status and minute of the spans' end times. Spans of a resource without
 * `service.name` are not counted, as the connector does not count them.
 *
 * A point's time lies within its minute, at a millisecond derived from the ids of the spans it counts (a sum of
 * per-span hashes, so their order does not matter): the metrics subgraph drops a point whose series already has
 * one at that time, which makes a retried export count once while another export's point for the same minute
 * (other spans, another millisecond) still counts. Two exports of the same series and minute land on the same
 * millisecond with a chance of 1 in 60,000, and then the second is dropped too: a series that n exports touch in
 * one minute loses about n / 120,000 of its calls (0.25 % at 5 exports a second).
 */
export function spanMetrics(request: ExportTraceServiceRequest, now: number): ExportMetricsServiceRequest {
  const series = new Map<string, Series>();
  for (const rs of request.resourceSpans) {
    const service = rs.resource?.attributes.find((a) => a.key === 'service.name')?.value?.value;
    if (service?.case !== 'stringValue') continue;
    for (const span of rs.scopeSpans.flatMap((ss) => ss.spans)) {
      const spanKind = KIND_NAMES[span.kind] ?? KIND_NAMES[otlp.Span_SpanKind.UNSPECIFIED];
      const statusCode =
        STATUS_NAMES[span.status?.code ?? otlp.Status_StatusCode.UNSET] ?? STATUS_NAMES[otlp.Status_StatusCode.UNSET];
      const minute = span.endTimeUnixNano - (span.endTimeUnixNano % MINUTE_NS);
      const key = `${service.value}\u0000${span.name}\u0000${spanKind}\u0000${statusCode}\u0000${minute}`;
      let s = series.get(key);
      if (s === undefined) {
        s = {
          service: service.value,
          spanName: span.name,
          spanKind,
          statusCode,
          minute,
          count: 0,
          idHash: 0,
          bucketCounts: new Array<number>(DURATION_BOUNDS_MS.length + 1).fill(0),
          sum: 0,
        };
        series.set(key, s);
      }
      // As the connector: a span that ends before it starts lasted 0 ms; a value on a bound counts in the bucket below it.
      const ms =
        span.endTimeUnixNano > span.startTimeUnixNano ? Number(span.endTimeUnixNano - span.startTimeUnixNano) / 1e6 : 0;
      let bucket = 0;
      while (bucket < DURATION_BOUNDS_MS.length && ms > DURATION_BOUNDS_MS[bucket]!) bucket++;
      s.bucketCounts[bucket]!++;
      s.sum += ms;
      s.count++;
      s.idHash = (s.idHash + idHash(span.traceId, span.spanId)) >>> 0;
    }
  }

  const oldest = BigInt(now - MAX_POINT_AGE_MS) * NS_PER_MS;
  const newest = BigInt(now + MAX_POINT_FUTURE_MS) * NS_PER_MS;
  const byService = new Map<string, { calls: otlp.NumberDataPoint[]; durations: otlp.HistogramDataPoint[] }>();
  for (const key of [...series.keys()].sort()) {
    const s = series.get(key)!;
    const time = s.minute + BigInt(mix(s.idHash) % 60_000) * NS_PER_MS;
    if (time < oldest || time > newest) continue;
    const attributes = [
      text('service.name', s.service),
      text('span.name', s.spanName),
      text('span.kind', s.spanKind),
      text('status.code', s.statusCode),
    ];
    const points = byService.get(s.service) ?? { calls: [], durations: [] };
    byService.set(s.service, points);
    const count = BigInt(s.count);
    points.calls.push(
      create(otlp.NumberDataPointSchema, {
        attributes,
        startTimeUnixNano: s.minute,
        timeUnixNano: time,
        value: { case: 'asInt', value: count },
      }),
    );
    points.durations.push(
      create(otlp.HistogramDataPointSchema, {
        attributes,
        startTimeUnixNano: s.minute,
        timeUnixNano: time,
        count,
        sum: s.sum,
        bucketCounts: s.bucketCounts.map(BigInt),
        explicitBounds: [...DURATION_BOUNDS_MS],
      }),
    );
  }

  return create(otlp.ExportMetricsServiceRequestSchema, {
    resourceMetrics: [...byService].map(([service, points]) => ({
      resource: { attributes: [text('service.name', service)] },
      scopeMetrics: [
        {
          scope: SCOPE,
          metrics: [
            {
              name: CALLS_METRIC,
              data: {
                case: 'sum' as const,
                value: {
                  aggregationTemporality: otlp.AggregationTemporality.DELTA,
                  isMonotonic: true,
                  dataPoints: points.calls,
                },
              },
            },
            {
              name: DURATION_METRIC,
              unit: 'ms',
              data: {
                case: 'histogram' as const,
                value: { aggregationTemporality: otlp.AggregationTemporality.DELTA, dataPoints: points.durations },
              },
            },
          ],
        },
      ],
    })),
  });
}

/** FNV-1a (32 bits) of a span's trace and span ids. */
function idHash(traceId: Uint8Array, spanId: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of traceId) hash = Math.imul(hash ^ byte, 0x01000193);
  for (const byte of spanId) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash >>> 0;
}

/** Murmur3's finaliser: spreads a sum of hashes over all 32 bits before it is cut to a millisecond of the minute. */
function mix(value: number): number {
  let h = value;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function text(key: string, value: string): otlp.KeyValue {
  return create(otlp.KeyValueSchema, { key, value: { value: { case: 'stringValue', value } } });
}
