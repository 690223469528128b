import { describe, expect, it } from 'vitest';
import { DEFAULT_QUERY_LIMITS, logHistogram, logSearch, logVolumeAnomalies } from './log-queries.js';
import type { LogReader } from './store/index.js';

/** Arguments are checked before the store is asked anything: a store that fails the test if it is. */
const untouched = new Proxy(
  {},
  { get: (_, name) => () => Promise.reject(new Error(`the store was asked for ${String(name)}`)) },
) as LogReader;

const HOUR = { from: '2026-11-22T10:00:00Z', to: '2026-11-22T11:00:00Z' };

describe('log query arguments', () => {
  it('refuse a page size beyond the maximum and a cursor logSearch did not make', async () => {
    await expect(
      logSearch(untouched, { filter: { range: HOUR }, first: 1001 }, DEFAULT_QUERY_LIMITS),
    ).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'first: must be from 1 to 1000, not 1001',
      details: { argument: 'first', max: 1000 },
    });
    await expect(
      logSearch(untouched, { filter: { range: HOUR }, after: 'bm90IGEgY3Vyc29y' }, DEFAULT_QUERY_LIMITS),
    ).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { argument: 'after' },
    });
  });

  it('give a syntax error its position', async () => {
    await expect(
      logSearch(untouched, { filter: { range: HOUR, query: 'a AND' } }, DEFAULT_QUERY_LIMITS),
    ).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { argument: 'query', position: 5 },
    });
  });

  it('refuse a histogram of more buckets than allowed as a limit, not as bad input', async () => {
    await expect(logHistogram(untouched, { range: HOUR }, '1s', DEFAULT_QUERY_LIMITS)).rejects.toMatchObject({
      code: 'LIMIT_EXCEEDED',
      message: 'interval: 1s makes 3600 buckets over the range; at most 1500',
      details: { argument: 'interval' },
    });
  });

  it('read a histogram interval as every duration argument is read, compound ones too (once refused: a single unit only)', async () => {
    const asked: number[] = [];
    const histogram = (_filter: unknown, ms: number) => {
      asked.push(ms);
      return Promise.resolve([]);
    };
    const store = { histogram } as unknown as LogReader;
    const range = { from: '2026-11-22T10:00:00Z', to: '2026-11-22T10:10:00Z' };
    for (const interval of ['1h30m', '1m30s', '1w', ' 5m ', '1500ms'])
      await logHistogram(store, { range }, interval, DEFAULT_QUERY_LIMITS);
    expect(asked).toEqual([5_400_000, 90_000, 604_800_000, 300_000, 1_500]);
  });

  it('refuse a histogram interval that is not a duration of a second at least, naming the argument', async () => {
    await expect(logHistogram(untouched, { range: HOUR }, 'soon', DEFAULT_QUERY_LIMITS)).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'interval: "soon" is not a duration such as 30s, 5m, 1h30m or 1d (unexpected "soon")',
      details: { argument: 'interval' },
    });
    await expect(logHistogram(untouched, { range: HOUR }, '500ms', DEFAULT_QUERY_LIMITS)).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'interval: must be at least 1s',
    });
  });

  it('judge volume anomalies over at most 7 days', async () => {
    await expect(
      logVolumeAnomalies(untouched, 'checkout', { from: '2026-11-01T00:00:00Z', to: '2026-11-22T00:00:00Z' }),
    ).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'range: longer than the 7 days allowed',
      details: { argument: 'range' },
    });
    await expect(logVolumeAnomalies(untouched, 'checkout', { from: HOUR.to, to: HOUR.from })).rejects.toMatchObject({
      message: 'range: from must be before to',
    });
  });
});
