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
    expect(() =>
      planQuery({ name: 'm'.repeat(1024), range, groupBy: Array.from({ length: 16 }, (_, i) => `l${i}`) }, limits),
    ).not.toThrow();
  });

  it('reads compound steps such as 1h30m (once refused: a single unit only), whole minutes from the rollup', () => {
    const day = { from: '2026-11-22T00:00:00Z', to: '2026-11-23T00:00:00Z' };
    expect(planQuery({ name: 'cpu', range: day, step: '1h30m' }, limits)).toMatchObject({
      stepSeconds: 5400,
      source: 'ROLLUP_1M',
    });
    expect(planQuery({ name: 'cpu', range, step: '1m30s' }, limits)).toMatchObject({ stepSeconds: 90, source: 'RAW' });
    expect(planQuery({ name: 'cpu', range: day, step: '1w' }, limits)).toMatchObject({ stepSeconds: 604_800 });
    expect(planQuery({ name: 'cpu', range, step: '15s' }, limits)).toMatchObject({ stepSeconds: 15, source: 'RAW' });
    expect(planQuery({ name: 'cpu', range }, limits)).toMatchObject({ stepSeconds: 60, source: 'ROLLUP_1M' });
  });

  it.each([
    ['0s', 'step: must be at least 1s'],
    ['500ms', 'step: must be at least 1s'],
    ['1500ms', 'step: must be a multiple of 1s, not "1500ms"'],
    ['soon', 'step: "soon" is not a duration such as 30s, 5m, 1h30m or 1d (unexpected "soon")'],
  ])('refuses the step %j, naming it', (step, message) => {
    expect(() => planQuery({ name: 'cpu', range, step }, limits)).toThrow(
      expect.objectContaining({ code: 'BAD_USER_INPUT', message, details: { argument: 'step' } }) as Error,
    );
  });

  it('refuses a time without a zone and a range over the maximum, naming the argument', () => {
    expect(() => planQuery({ name: 'cpu', range: { from: '2026-11-22T10:00:00', to: range.to } }, limits)).toThrow(
      expect.objectContaining({ code: 'BAD_USER_INPUT', details: { argument: 'range.from' } }) as Error,
    );
    expect(() => planQuery({ name: 'cpu', range: { from: '2026-11-20T10:00:00Z', to: range.to } }, limits)).toThrow(
      expect.objectContaining({
        message: 'range: longer than the 1 day allowed',
        details: { argument: 'range' },
      }) as Error,
    );
  });
});
