import { describe, expect, it } from 'vitest';
import { type VolumeBucket, type VolumeSeries, findVolumeAnomalies, scoreVolume } from './anomalies.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const DAY = 24 * HOUR;
/** 10:00 UTC on the day being judged. */
const T = Date.UTC(2026, 10, 22, 10);

function makeSeries(buckets: VolumeBucket[], service = 'checkout', level = 'ERROR'): VolumeSeries {
  return { service, level, buckets };
}

/** `counts[k]` at `start − (k + 1)·step`: the baseline before a bucket, most recent first. */
function history(start: number, step: number, counts: number[]): VolumeBucket[] {
  return counts.map((count, k) => ({ start: start - (k + 1) * step, count }));
}

const hourly = { bucketMs: HOUR, range: { from: T, to: T + HOUR } };

describe('log volume scores', () => {
  it('expects the median of the same hour on the previous days', () => {
    const series = makeSeries([...history(T, DAY, [10, 12, 11, 9, 10, 13, 10]), { start: T, count: 40 }]);
    const [score] = scoreVolume([series], hourly);
    // MAD 1 → 1.48, but √10 = 3.16 is larger.
    expect(score).toMatchObject({ start: T, count: 40, expected: 10, baseline: 'SAME_TIME_OF_DAY' });
    expect(score!.spread).toBeCloseTo(Math.sqrt(10), 10);
    expect(score!.score).toBeCloseTo(30 / Math.sqrt(10), 10);
  });

  it('uses the scaled median absolute deviation when the baseline is noisier than its square root', () => {
    const series = makeSeries([...history(T, DAY, [10, 30, 12, 40, 11, 35, 9]), { start: T, count: 80 }]);
    const [score] = scoreVolume([series], hourly);
    // Median 12; deviations sorted 0 1 2 3 18 23 28 → MAD 3, scaled 4.45, more than √12 = 3.46.
    expect(score!.expected).toBe(12);
    expect(score!.spread).toBeCloseTo(1.4826 * 3, 10);
  });

  it('falls back to the buckets just before when fewer than three days are known', () => {
    const series = makeSeries([
      ...history(T, DAY, [50, 60]),
      ...history(T, MINUTE, [5, 5, 6, 4, 5, 5, 7, 5, 6, 4]),
      { start: T, count: 20 },
    ]);
    const [score] = scoreVolume([series], { bucketMs: MINUTE, range: { from: T, to: T + MINUTE } });
    expect(score).toMatchObject({ expected: 5, baseline: 'TRAILING' });
    expect(score!.score).toBeCloseTo(15 / Math.sqrt(5), 10);
  });

  it('does not judge a bucket without enough baseline', () => {
    const series = makeSeries([...history(T, HOUR, [3, 4]), { start: T, count: 100 }]);
    expect(scoreVolume([series], hourly)).toEqual([]);
  });

  it('keeps the spread at least 1, so a quiet series still has a scale', () => {
    const series = makeSeries([...history(T, DAY, [0, 0, 0, 0]), { start: T, count: 3 }]);
    expect(scoreVolume([series], hourly)[0]).toMatchObject({ expected: 0, spread: 1, score: 3 });
  });

  it('judges only the buckets in the range, in time order', () => {
    const buckets = Array.from({ length: 30 }, (_, i) => ({ start: T - 20 * HOUR + i * HOUR, count: 10 }));
    const scores = scoreVolume([makeSeries(buckets.reverse())], {
      bucketMs: HOUR,
      range: { from: T, to: T + 3 * HOUR },
    });
    expect(scores.map((s) => s.start)).toEqual([T, T + HOUR, T + 2 * HOUR]);
  });
});

describe('log volume anomalies', () => {
  it('reports a spike and a drop with the expected value, and leaves ordinary buckets out', () => {
    const range = { from: T, to: T + 3 * HOUR };
    const errors = makeSeries(
      [...history(T, DAY, [10, 12, 11, 9, 10, 13, 10]), { start: T, count: 40 }, { start: T + HOUR, count: 11 }],
      'checkout',
      'ERROR',
    );
    const info = makeSeries(
      [...history(T + 2 * HOUR, DAY, [100, 104, 98, 101, 99, 97, 103]), { start: T + 2 * HOUR, count: 50 }],
      'checkout',
      'INFO',
    );
    const anomalies = findVolumeAnomalies([info, errors], { bucketMs: HOUR, range });
    expect(
      anomalies.map((a) => [a.level, a.start, a.count, a.expected, a.direction, Number(a.score.toFixed(3))]),
    ).toEqual([
      ['ERROR', T, 40, 10, 'SPIKE', 9.487],
      // Median 100, MAD 2 → 2.97; √100 = 10 is the spread.
      ['INFO', T + 2 * HOUR, 50, 100, 'DROP', -5],
    ]);
  });

  it('reports buckets exactly at the threshold, and follows a custom threshold', () => {
    const series = makeSeries([...history(T, DAY, [0, 0, 0]), { start: T, count: 3 }]);
    expect(findVolumeAnomalies([series], hourly)).toHaveLength(1);
    expect(findVolumeAnomalies([series], { ...hourly, threshold: 3.5 })).toEqual([]);
  });

  it('looks back as many days as asked', () => {
    const series = makeSeries([...history(T, DAY, [10, 10, 10, 500, 500, 500, 500]), { start: T, count: 10 }]);
    expect(findVolumeAnomalies([series], { ...hourly, days: 3 })).toEqual([]);
    expect(findVolumeAnomalies([series], hourly)).toMatchObject([{ direction: 'DROP', expected: 500 }]);
  });
});
