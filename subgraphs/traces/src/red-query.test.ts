import { describe, expect, it } from 'vitest';
import { HeimdallError } from '@heimdall/shared/errors';
import { readRed, redPoints } from './red-query.js';

const T1 = '2026-11-22T10:00:00.000Z';
const T2 = '2026-11-22T10:01:00.000Z';
const T3 = '2026-11-22T10:02:00.000Z';
const range = { from: T1, to: T3 };

const series = (labels: Record<string, string>, points: [string, number][]) => ({
  labels: Object.entries(labels).map(([key, value]) => ({ key, value })),
  points: points.map(([timestamp, value]) => ({ timestamp, value })),
});

/** A metrics subgraph that answers every query with `answer` and remembers the variables it was asked with. */
function makePeer(
  answer: unknown = { calls: { series: [] }, p50: { series: [] }, p95: { series: [] }, p99: { series: [] } },
) {
  const asked: Record<string, unknown>[] = [];
  return {
    asked,
    peer: {
      graphql: <T>(_query: string, variables: Record<string, unknown> = {}) => {
        asked.push(variables);
        return Promise.resolve(answer as T);
      },
    },
  };
}

describe('RED metrics read back', () => {
  it('sums the rate over statuses, takes the error share and joins the quantiles by step', () => {
    const points = redPoints({
      calls: {
        series: [
          series({ 'status.code': 'STATUS_CODE_ERROR' }, [[T2, 0.5]]),
          series({ 'status.code': 'STATUS_CODE_OK' }, [
            [T1, 1],
            [T2, 0.5],
          ]),
          series({ 'status.code': 'STATUS_CODE_UNSET' }, [
            [T1, 1],
            [T3, 0],
          ]),
        ],
      },
      p50: {
        series: [
          series({}, [
            [T1, 3],
            [T2, 4],
          ]),
        ],
      },
      p95: { series: [series({}, [[T1, 9]])] },
      p99: {
        series: [
          series({}, [
            [T1, 12],
            [T2, 40],
          ]),
        ],
      },
    });
    expect(points).toEqual([
      { timestamp: T1, rate: 2, errorRatio: 0, p50: 3, p95: 9, p99: 12 },
      { timestamp: T2, rate: 1, errorRatio: 0.5, p50: 4, p95: null, p99: 40 },
    ]);
  });

  it('asks for a service’s requests: its SERVER and CONSUMER spans, calls grouped by status', async () => {
    const { peer, asked } = makePeer();
    await readRed(peer, { service: 'checkout', spanKinds: ['SERVER', 'CONSUMER'] }, { range, step: '5m' });
    expect(asked[0]?.calls).toEqual({
      name: 'traces.span.metrics.calls',
      matchers: [
        { key: 'service.name', op: 'EQ', value: 'checkout' },
        { key: 'span.kind', op: 'RE', value: 'SPAN_KIND_SERVER|SPAN_KIND_CONSUMER' },
      ],
      range,
      step: '5m',
      aggregation: 'RATE',
      groupBy: ['status.code'],
    });
    expect(asked[0]?.p99).toMatchObject({ name: 'traces.span.metrics.duration', aggregation: 'P99', groupBy: [] });
  });

  it('asks for an operation by span name, with any kind when its kind is unknown', async () => {
    const { peer, asked } = makePeer();
    await readRed(peer, { service: 'checkout', operation: 'GET /cart', spanKinds: [] }, { range });
    expect(asked[0]?.p50).toMatchObject({
      matchers: [
        { key: 'service.name', op: 'EQ', value: 'checkout' },
        { key: 'span.name', op: 'EQ', value: 'GET /cart' },
      ],
      step: '1m',
    });
  });

  it('refuses steps that are not whole minutes as BAD_USER_INPUT without asking the metrics subgraph', async () => {
    const { peer, asked } = makePeer();
    for (const step of ['30s', '90s', '0m', '1m30s', '500ms', 'soon']) {
      const error: unknown = await readRed(peer, { service: 'checkout', spanKinds: [] }, { range, step }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(HeimdallError);
      expect(error).toMatchObject({ code: 'BAD_USER_INPUT', details: { argument: 'step' } });
    }
    expect(asked).toEqual([]);
    await readRed(peer, { service: 'checkout', spanKinds: [] }, { range, step: '120s' });
    expect(asked).toHaveLength(1);
  });

  it('takes compound and week steps of whole minutes (once refused: a single unit only), asking metricQuery in the shortest spelling', async () => {
    const { peer, asked } = makePeer();
    for (const step of ['1h30m', '1w', '120s', ' 5m '])
      await readRed(peer, { service: 'checkout', spanKinds: [] }, { range, step });
    expect(asked.map((a) => a.calls)).toMatchObject([
      { step: '1h30m' },
      { step: '7d' },
      { step: '2m' },
      { step: '5m' },
    ]);
  });
});
