import { describe, expect, it } from 'vitest';
import { DEFAULT_QUERY_LIMITS, logHistogram, logSearch, logVolumeAnomalies } from './log-queries.js';
import type { LogStore } from './store/index.js';

/** Arguments are checked before the store is asked anything: a store that fails the test if it is. */
const untouched = new Proxy({}, { get: (_, name) => () => Promise.reject(new Error(`the store was asked for ${String(name)}`)) }) as LogStore;

const HOUR = { from: '2026-11-22T10:00:00Z', to: '2026-11-22T11:00:00Z' };

describe('log query arguments', () => {
  it('refuse a page size beyond the maximum and a cursor logSearch did not make', async () => {
    await expect(logSearch(untouched, { filter: { range: HOUR }, first: 1001 }, DEFAULT_QUERY_LIMITS)).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'first: must be between 1 and 1000',
      details: { field: 'first' },
    });
    await expect(logSearch(untouched, { filter: { range: HOUR }, after: 'bm90IGEgY3Vyc29y' }, DEFAULT_QUERY_LIMITS)).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { field: 'after' },
    });
  });

  it('give a syntax error its position', async () => {
    await expect(logSearch(untouched, { filter: { range: HOUR, query: 'a AND' } }, DEFAULT_QUERY_LIMITS)).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { field: 'query', position: 5 },
    });
  });

  it('refuse a histogram of more buckets than allowed as a limit, not as bad input', async () => {
    await expect(logHistogram(untouched, { range: HOUR }, '1s', DEFAULT_QUERY_LIMITS)).rejects.toMatchObject({
      code: 'LIMIT_EXCEEDED',
      message: 'interval: 1s makes 3600 buckets over the range; at most 1500',
    });
  });

  it('judge volume anomalies over at most 7 days', async () => {
    await expect(logVolumeAnomalies(untouched, 'checkout', { from: '2026-11-01T00:00:00Z', to: '2026-11-22T00:00:00Z' })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'range: must be at most 7 days long',
    });
    await expect(logVolumeAnomalies(untouched, 'checkout', { from: HOUR.to, to: HOUR.from })).rejects.toMatchObject({ message: 'range: from must be before to' });
  });
});
