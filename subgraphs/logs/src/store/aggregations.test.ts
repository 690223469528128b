import { describe, expect, it } from 'vitest';
import { facetsOf, histogramOf, volumeSearch, volumeSeries } from './aggregations.js';

const MINUTE = 60_000;
const bucket = (key: number, levels: Record<string, number>) => ({
  key,
  doc_count: Object.values(levels).reduce((n, c) => n + c, 0),
  levels: { buckets: Object.entries(levels).map(([level, doc_count]) => ({ key: level, doc_count })) },
});

describe('histograms', () => {
  it('reads counts per bucket and level, leaving out levels it does not know', () => {
    const answer = {
      timed_out: false,
      aggregations: { buckets: { buckets: [bucket(0, { ERROR: 2, INFO: 1, TRACE: 4 }), bucket(MINUTE, {})] } },
    };
    expect(histogramOf(answer)).toEqual([
      {
        start: 0,
        count: 7,
        levels: [
          { level: 'ERROR', count: 2 },
          { level: 'INFO', count: 1 },
        ],
      },
      { start: MINUTE, count: 0, levels: [] },
    ]);
  });
});

describe('facets', () => {
  const first = {
    timed_out: false,
    aggregations: {
      services: { buckets: [{ key: 'checkout', doc_count: 30 }] },
      levels: { buckets: [{ key: 'INFO', doc_count: 30 }] },
      labelKeys: { buckets: [{ key: 'pod', doc_count: 30 }] },
    },
  };

  it('says it sampled when the values were counted over fewer entries than match', () => {
    const values = (docCount: number) => ({
      timed_out: false,
      aggregations: { sample: { doc_count: docCount, k0: { buckets: [{ key: 'web-1', doc_count: docCount }] } } },
    });
    expect(facetsOf(first, values(30))).toEqual({
      services: [{ value: 'checkout', count: 30 }],
      levels: [{ value: 'INFO', count: 30 }],
      labels: [{ key: 'pod', count: 30, values: [{ value: 'web-1', count: 30 }] }],
      sampled: false,
    });
    expect(facetsOf(first, values(20)).sampled).toBe(true);
    expect(facetsOf({ ...first, timed_out: true }, values(30)).sampled).toBe(true);
  });
});

describe('volume series', () => {
  const windows = [{ from: 0, to: 3 * MINUTE }];

  it('counts 0 for a level without entries from the first entry on, and leaves out the buckets before it', () => {
    const answer = {
      timed_out: false,
      aggregations: {
        first: { value: MINUTE + 5 },
        w0: { buckets: { buckets: [bucket(0, {}), bucket(MINUTE, { ERROR: 3 }), bucket(2 * MINUTE, {})] } },
      },
    };
    const series = volumeSeries('checkout', answer, windows, MINUTE);
    expect(series.find((s) => s.level === 'ERROR')?.buckets).toEqual([
      { start: MINUTE, count: 3 },
      { start: 2 * MINUTE, count: 0 },
    ]);
    expect(series.find((s) => s.level === 'INFO')?.buckets).toEqual([
      { start: MINUTE, count: 0 },
      { start: 2 * MINUTE, count: 0 },
    ]);
  });

  it('is empty when the service has no entry in the windows', () => {
    expect(
      volumeSeries('checkout', { timed_out: false, aggregations: { first: { value: null } } }, windows, MINUTE),
    ).toEqual([]);
  });

  it('asks for one filtered histogram per window over the span of all windows', () => {
    const search = volumeSearch('checkout', [windows[0]!, { from: -86_400_000, to: -86_400_000 + 3 * MINUTE }], MINUTE);
    expect(search.query.bool.filter[1]).toEqual({
      range: { timestamp: { gte: -86_400_000, lt: 3 * MINUTE, format: 'epoch_millis' } },
    });
    expect(Object.keys(search.aggs)).toEqual(['first', 'w0', 'w1']);
  });
});
