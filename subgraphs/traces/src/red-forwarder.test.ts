import { create, fromBinary } from '@bufbuild/protobuf';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { heimdallError } from '@heimdall/shared/errors';
import { otlp } from '@heimdall/shared/otlp';
import { HttpStatusError } from '@heimdall/shared/resilience';
import { makeExport, makeSpan } from './otlp-builders.fixtures.js';
import { type DropReason, RedMetricsForwarder, countPoints } from './red-forwarder.js';
import { spanMetrics } from './red-metrics.js';

/** An export of `points` call counts of one service; `tag` tells exports apart in what was sent. */
function makeMetricsExport(tag: string, points: number): otlp.ExportMetricsServiceRequest {
  return create(otlp.ExportMetricsServiceRequestSchema, {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { value: { case: 'stringValue', value: tag } } }] },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'traces.span.metrics.calls',
                data: {
                  case: 'sum',
                  value: {
                    dataPoints: Array.from({ length: points }, (_, i) => ({
                      timeUnixNano: BigInt(i),
                      value: { case: 'asInt' as const, value: 1n },
                    })),
                  },
                },
              },
            ],
          },
        ],
      },
    ],
  });
}

/** The services of each request sent, in order, e.g. [['a', 'b'], ['c']]. */
function servicesOf(bodies: Uint8Array[]): string[][] {
  return bodies.map((body) =>
    fromBinary(otlp.ExportMetricsServiceRequestSchema, body).resourceMetrics.map((rm) => {
      const value = rm.resource?.attributes[0]?.value?.value;
      return value?.case === 'stringValue' ? value.value : '?';
    }),
  );
}

function makeObserver() {
  const seen = { pending: 0, sent: 0, dropped: {} as Partial<Record<DropReason, number>>, failures: 0 };
  return {
    seen,
    observer: {
      pending: (points: number) => void (seen.pending = points),
      sent: (points: number) => void (seen.sent += points),
      dropped: (points: number, reason: DropReason) =>
        void (seen.dropped[reason] = (seen.dropped[reason] ?? 0) + points),
      sendFailed: () => void seen.failures++,
    },
  };
}

/** A metrics ingest that answers each send when the test says so. */
function makeIngest() {
  const bodies: Uint8Array[] = [];
  const answers: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  const send = (body: Uint8Array) =>
    new Promise<void>((resolve, reject) => {
      bodies.push(body);
      answers.push({ resolve, reject });
    });
  return {
    send,
    bodies,
    /** Answers the oldest unanswered send. */
    answer: async (outcome: 'ok' | Error) => {
      const next = answers.shift();
      if (next === undefined) throw new Error('no send waits for an answer');
      if (outcome === 'ok') next.resolve();
      else next.reject(outcome);
      await vi.advanceTimersByTimeAsync(0);
    },
  };
}

const down = () =>
  heimdallError('UNAVAILABLE', { message: 'no passing instance of metrics in Consul', retryAfterSeconds: 5 });

describe('RED metrics forwarder', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('returns at once and sends exports that waited together as one request, oldest first', async () => {
    const ingest = makeIngest();
    const forwarder = new RedMetricsForwarder(ingest.send);
    forwarder.submit(makeMetricsExport('a', 2));
    forwarder.submit(makeMetricsExport('b', 2));
    forwarder.submit(makeMetricsExport('c', 2));
    expect(servicesOf(ingest.bodies)).toEqual([['a']]);
    await ingest.answer('ok');
    expect(servicesOf(ingest.bodies)).toEqual([['a'], ['b', 'c']]);
    await ingest.answer('ok');
  });

  it('keeps exports while the metrics subgraph is down and sends them once it is back, pausing longer after each failure', async () => {
    const ingest = makeIngest();
    const { seen, observer } = makeObserver();
    const forwarder = new RedMetricsForwarder(ingest.send, { retryDelayMs: 1000, maxRetryDelayMs: 3000, observer });
    forwarder.submit(makeMetricsExport('a', 3));
    await ingest.answer(down());
    forwarder.submit(makeMetricsExport('b', 1));
    expect(ingest.bodies).toHaveLength(1);
    expect(seen.pending).toBe(4);

    await vi.advanceTimersByTimeAsync(999);
    expect(ingest.bodies).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(servicesOf(ingest.bodies).at(-1)).toEqual(['a', 'b']);
    await ingest.answer(down());
    await vi.advanceTimersByTimeAsync(1999);
    expect(ingest.bodies).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    await ingest.answer(down());
    // The pause stops growing at maxRetryDelayMs.
    await vi.advanceTimersByTimeAsync(3000);
    expect(ingest.bodies).toHaveLength(4);
    await ingest.answer('ok');

    expect(servicesOf(ingest.bodies).at(-1)).toEqual(['a', 'b']);
    expect(seen).toEqual({ pending: 0, sent: 4, dropped: {}, failures: 3 });
  });

  it('drops the oldest exports when more points wait than the buffer holds, and counts them', async () => {
    const ingest = makeIngest();
    const { seen, observer } = makeObserver();
    const forwarder = new RedMetricsForwarder(ingest.send, { maxPendingPoints: 10, observer });
    forwarder.submit(makeMetricsExport('a', 4));
    await ingest.answer(down());
    forwarder.submit(makeMetricsExport('b', 4));
    forwarder.submit(makeMetricsExport('c', 4));
    expect(seen.dropped).toEqual({ buffer_full: 4 });
    expect(seen.pending).toBe(8);

    await vi.advanceTimersByTimeAsync(1000);
    await ingest.answer('ok');
    expect(servicesOf(ingest.bodies).at(-1)).toEqual(['b', 'c']);
  });

  it('drops an export the metrics ingest refuses as malformed and goes on with the next', async () => {
    const ingest = makeIngest();
    const { seen, observer } = makeObserver();
    const forwarder = new RedMetricsForwarder(ingest.send, { maxBatchPoints: 2, observer });
    forwarder.submit(makeMetricsExport('a', 2));
    forwarder.submit(makeMetricsExport('b', 2));
    await ingest.answer(new HttpStatusError(400, 'HTTP 400 Bad Request'));
    expect(servicesOf(ingest.bodies)).toEqual([['a'], ['b']]);
    await ingest.answer('ok');
    expect(seen).toEqual({ pending: 0, sent: 2, dropped: { refused: 2 }, failures: 1 });
  });

  it('sends what waits when it closes, and drops and counts it when sends are failing', async () => {
    const healthy = makeIngest();
    const first = new RedMetricsForwarder(healthy.send);
    first.submit(makeMetricsExport('a', 1));
    first.submit(makeMetricsExport('b', 1));
    const closed = first.close();
    await healthy.answer('ok');
    await healthy.answer('ok');
    await closed;
    expect(servicesOf(healthy.bodies)).toEqual([['a'], ['b']]);

    const failing = makeIngest();
    const { seen, observer } = makeObserver();
    const second = new RedMetricsForwarder(failing.send, { observer });
    second.submit(makeMetricsExport('a', 2));
    await failing.answer(down());
    await second.close();
    second.submit(makeMetricsExport('b', 3));
    expect(seen.dropped).toEqual({ shutdown: 5 });
    expect(failing.bodies).toHaveLength(1);
    // Nothing is left to fire: the retry was cancelled.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('counts a histogram point as one point, as a sum point', () => {
    const spans = [makeSpan({ name: 'GET /a' }), makeSpan({ name: 'GET /a' }), makeSpan({ name: 'GET /b' })];
    // Two series (GET /a, GET /b), each with a calls point and a duration point.
    expect(countPoints(spanMetrics(makeExport({ service: 'checkout', spans }), Date.now()))).toBe(4);
  });
});
