import { describe, expect, it } from 'vitest';
import { planQuery } from './query.js';

const limits = { maxSeries: 10_000, maxPoints: 11_000, maxRangeMs: 86_400_000 };
const range = { from: '2026-11-22T10:00:00Z', to: '2026-11-22T11:00:00Z' };

describe('planQuery bounds', () => {
  it.each([
    ['a metric name over 1024 characters', { name: 'm'.repeat(1025) }, 'name', 1024],
    ['more than 16 groupBy labels', { groupBy: Array.from({ length: 17 }, (_, i) => `l${i}`) }, 'groupBy', 16],
    ['a groupBy label over 1024 characters', { groupBy: ['ok', 'k'.repeat(1025)] }, 'groupBy[1]', 1024],
  ])('refuses %s with BAD_USER_INPUT naming the argument', (_case, input, argument, max) => {
    expect(() => planQuery({ name: 'cpu', range, ...input }, limits)).toThrow(
      expect.objectContaining({ code: 'BAD_USER_INPUT', details: { argument, max } }) as Error,
    );
  });

  it('takes a query at every bound', () => {
    expect(() => planQuery({ name: 'm'.repeat(1024), range, groupBy: Array.from({ length: 16 }, (_, i) => `l${i}`) }, limits)).not.toThrow();
  });
});
