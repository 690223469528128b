import type { PeerClient } from '@heimdall/shared/discovery';
import { badUserInput, checkDuration, formatDuration } from '@heimdall/shared/user-input';
import { CALLS_METRIC, DURATION_METRIC } from './red-metrics.js';
import type { SpanKind } from './trace-model.js';

/** Rate, errors and duration in one step. */
export interface RedPoint {
  /** ISO-8601 start of the step. */
  readonly timestamp: string;
  /** Calls per second. */
  readonly rate: number;
  /** Share of the calls in error, 0 to 1. */
  readonly errorRatio: number;
  /** Latency quantiles in ms, interpolated in the duration histogram's buckets; null when the step has none. */
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

/** Whose RED metrics: a service's spans of some kinds, or one operation's. */
export interface RedSelector {
  readonly service: string;
  readonly operation?: string;
  /** Any kind when empty. */
  readonly spanKinds: readonly SpanKind[];
}

export interface RedRequest {
  readonly range: { readonly from: string; readonly to: string };
  /** A whole number of minutes, such as 1m, 5m, 1h30m. Default 1m. */
  readonly step?: string | null;
}

interface Series {
  readonly labels: readonly { readonly key: string; readonly value: string }[];
  readonly points: readonly { readonly timestamp: string; readonly value: number }[];
}

interface Answer {
  readonly calls: { readonly series: readonly Series[] };
  readonly p50: { readonly series: readonly Series[] };
  readonly p95: { readonly series: readonly Series[] };
  readonly p99: { readonly series: readonly Series[] };
}

/** One request to the metrics subgraph for the four figures. */
export const RED_QUERY = `query Red($calls: MetricQueryInput!, $p50: MetricQueryInput!, $p95: MetricQueryInput!, $p99: MetricQueryInput!) {
  calls: metricQuery(input: $calls) { series { labels { key value } points { timestamp value } } }
  p50: metricQuery(input: $p50) { series { labels { key value } points { timestamp value } } }
  p95: metricQuery(input: $p95) { series { labels { key value } points { timestamp value } } }
  p99: metricQuery(input: $p99) { series { labels { key value } points { timestamp value } } }
}`;

/** RED points are kept per minute (red-metrics.ts): a finer step, or one across minutes, has nothing to show. */
const STEP_BOUNDS = { min: 60_000, multipleOf: 60_000 };
const ERROR_STATUS = 'STATUS_CODE_ERROR';
const KIND_NAMES: Record<SpanKind, string> = {
  UNSPECIFIED: 'SPAN_KIND_UNSPECIFIED',
  INTERNAL: 'SPAN_KIND_INTERNAL',
  SERVER: 'SPAN_KIND_SERVER',
  CLIENT: 'SPAN_KIND_CLIENT',
  PRODUCER: 'SPAN_KIND_PRODUCER',
  CONSUMER: 'SPAN_KIND_CONSUMER',
};

/**
 * The RED metrics the ingest derived from spans (red-metrics.ts), read through the metrics subgraph's `metricQuery`
 * (the traces subgraph never reads ClickHouse): calls as RATE grouped by status for the rate and the error ratio,
 * and the duration histogram's P50, P95 and P99. Steps are whole minutes, the resolution the points are kept at.
 * The metrics subgraph checks the range (BAD_USER_INPUT naming `range.from`, `range.to` or `step`).
 */
export async function readRed(
  peer: Pick<PeerClient, 'graphql'>,
  selector: RedSelector,
  request: RedRequest,
): Promise<RedPoint[]> {
  const checked = checkDuration(request.step ?? '1m', STEP_BOUNDS);
  if (!checked.ok) throw badUserInput('step', `RED metrics are kept per minute: ${checked.message}`);
  const step = formatDuration(checked.value);
  const matchers = [
    { key: 'service.name', op: 'EQ', value: selector.service },
    ...(selector.operation === undefined ? [] : [{ key: 'span.name', op: 'EQ', value: selector.operation }]),
    ...(selector.spanKinds.length === 0
      ? []
      : [{ key: 'span.kind', op: 'RE', value: selector.spanKinds.map((k) => KIND_NAMES[k]).join('|') }]),
  ];
  const input = (name: string, aggregation: string, groupBy: string[] = []) => ({
    name,
    matchers,
    range: request.range,
    step,
    aggregation,
    groupBy,
  });
  const answer = await peer.graphql<Answer>(RED_QUERY, {
    calls: input(CALLS_METRIC, 'RATE', ['status.code']),
    p50: input(DURATION_METRIC, 'P50'),
    p95: input(DURATION_METRIC, 'P95'),
    p99: input(DURATION_METRIC, 'P99'),
  });
  return redPoints(answer);
}

/** The four answers joined by step: every step with calls, in time order. */
export function redPoints(answer: Answer): RedPoint[] {
  const steps = new Map<string, { rate: number; errors: number }>();
  for (const series of answer.calls.series) {
    const failed = series.labels.some((l) => l.key === 'status.code' && l.value === ERROR_STATUS);
    for (const point of series.points) {
      const step = steps.get(point.timestamp) ?? { rate: 0, errors: 0 };
      step.rate += point.value;
      if (failed) step.errors += point.value;
      steps.set(point.timestamp, step);
    }
  }
  const quantile = (result: Answer['p50']) =>
    new Map(result.series.flatMap((s) => s.points).map((p) => [p.timestamp, p.value]));
  const [p50, p95, p99] = [quantile(answer.p50), quantile(answer.p95), quantile(answer.p99)];
  return [...steps.entries()]
    .filter(([, s]) => s.rate > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([timestamp, s]) => ({
      timestamp,
      rate: s.rate,
      errorRatio: s.errors / s.rate,
      p50: p50.get(timestamp) ?? null,
      p95: p95.get(timestamp) ?? null,
      p99: p99.get(timestamp) ?? null,
    }));
}
