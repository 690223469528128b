/**
 * The q-quantile of a histogram given as explicit upper bounds and per-bucket counts (one more count than bounds:
 * the last bucket runs to +Inf), interpolating linearly within the bucket that holds it, as Prometheus'
 * histogram_quantile does. The first bucket is taken to start at 0 when its bound is positive; a quantile that
 * falls into the +Inf bucket is the highest finite bound. NaN for an empty histogram.
 */
export function bucketQuantile(q: number, bounds: readonly number[], counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0 || bounds.length === 0) return Number.NaN;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i]!;
    if (below + count >= rank && count > 0) {
      if (i >= bounds.length) return bounds[bounds.length - 1]!;
      const upper = bounds[i]!;
      const lower = i === 0 ? Math.min(0, upper) : bounds[i - 1]!;
      return lower + (upper - lower) * ((rank - below) / count);
    }
    below += count;
  }
  return bounds[bounds.length - 1]!;
}
