import { describe, expect, it } from 'vitest';
import { bucketQuantile } from './histogram.js';

describe('histogram quantiles', () => {
  const bounds = [10, 100, 1000];

  it('interpolates within the bucket that holds the quantile', () => {
    // 1 sample ≤ 10 ms, 2 in (10, 100], 1 in (100, 1000]: the median is the 2nd of 4, halfway into (10, 100].
    expect(bucketQuantile(0.5, bounds, [1, 2, 1, 0])).toBeCloseTo(55);
    expect(bucketQuantile(0.25, bounds, [1, 2, 1, 0])).toBeCloseTo(10);
    expect(bucketQuantile(1, bounds, [1, 2, 1, 0])).toBeCloseTo(1000);
  });

  it('starts the first bucket at zero and caps the +Inf bucket at the highest bound', () => {
    expect(bucketQuantile(0.5, bounds, [2, 0, 0, 0])).toBeCloseTo(5);
    expect(bucketQuantile(0.99, bounds, [0, 0, 0, 5])).toBe(1000);
  });

  it('has no quantile for an empty histogram', () => {
    expect(bucketQuantile(0.5, bounds, [0, 0, 0, 0])).toBeNaN();
  });
});
