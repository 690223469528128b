import { describe, expect, it, vi } from 'vitest';
import { newestLogLines } from './logs-peer.js';

describe('sample log lines', () => {
  it('asks logSearch for the newest entries of the filter and writes one line each', async () => {
    const graphql = vi.fn().mockResolvedValue({
      logSearch: {
        entries: [
          {
            timestamp: '2026-11-25T00:59:58.000Z',
            level: 'ERROR',
            service: 'checkout',
            message: 'timeout calling payments',
          },
        ],
      },
    });
    const lines = await newestLogLines(
      { graphql },
      { query: 'timeout', services: ['checkout'], levels: ['ERROR'], fromMs: 0, toMs: 60_000 },
      5,
    );
    expect(lines).toEqual(['2026-11-25T00:59:58.000Z ERROR checkout: timeout calling payments']);
    expect(graphql.mock.calls[0]?.[1]).toEqual({
      filter: {
        query: 'timeout',
        services: ['checkout'],
        levels: ['ERROR'],
        range: { from: '1970-01-01T00:00:00.000Z', to: '1970-01-01T00:01:00.000Z' },
      },
      first: 5,
    });
  });
});
