import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@heimdall/shared/telemetry';
import { ResponseCache, cacheKey, latestInstant } from './response-cache.js';

const NOW = Date.parse('2026-11-29T12:00:00Z');
const panel = parse(
  'query Panel($from: String!, $to: String!) { metricQuery(input: { name: "cpu", range: { from: $from, to: $to } }) { series { labels { key } } } }',
);

function makeCache(): ResponseCache {
  const unused = {
    get: () => Promise.reject(new Error('not called')),
    set: () => Promise.reject(new Error('not called')),
  };
  return new ResponseCache(
    unused,
    { ttlMs: 30_000, liveTtlMs: 2_000, maxBytes: 1 << 20, supergraph: 'test', now: () => NOW },
    createLogger({ service: 'gateway', instanceId: 'test', level: 'silent' }),
  );
}

describe('answer cache keys', () => {
  it('are the same for the same operation written differently, with variables in another order', () => {
    const spaced = parse(
      'query  Panel($from: String!, $to: String!) {\n  metricQuery(input: { name: "cpu", range: { from: $from, to: $to } }) { series { labels { key } } }  # a comment\n}',
    );
    expect(cacheKey(spaced, 'Panel', { to: 'b', from: 'a' }, ['viewer'])).toBe(
      cacheKey(panel, 'Panel', { from: 'a', to: 'b' }, ['viewer']),
    );
  });

  it('differ by roles, variables and operation', () => {
    const key = cacheKey(panel, 'Panel', { from: 'a', to: 'b' }, ['viewer']);
    expect(cacheKey(panel, 'Panel', { from: 'a', to: 'b' }, ['editor'])).not.toBe(key);
    expect(cacheKey(panel, 'Panel', { from: 'a', to: 'c' }, ['viewer'])).not.toBe(key);
    expect(cacheKey(parse('{ services { name } }'), undefined, { from: 'a', to: 'b' }, ['viewer'])).not.toBe(key);
  });
});

describe('how long an answer is kept', () => {
  it('reads the latest instant an operation names, in variables or in its text', () => {
    expect(latestInstant(panel, { from: '2026-11-29T10:00:00Z', to: '2026-11-29T11:00:00Z' })).toBe(
      Date.parse('2026-11-29T11:00:00Z'),
    );
    expect(
      latestInstant(
        parse('{ logs(filter: { range: { from: "2026-11-28T00:00:00Z", to: "2026-11-29T00:00:00Z" } }) { id } }'),
        {},
      ),
    ).toBe(Date.parse('2026-11-29T00:00:00Z'));
    expect(latestInstant(parse('{ services { name } }'), { name: 'checkout' })).toBeUndefined();
  });

  it('keeps an answer about the past for the full TTL, one reaching into the last minute or naming no time only briefly', () => {
    const cache = makeCache();
    expect(cache.ttlFor(panel, { from: '2026-11-29T10:00:00Z', to: '2026-11-29T11:00:00Z' })).toBe(30_000);
    expect(cache.ttlFor(panel, { from: '2026-11-29T11:00:00Z', to: '2026-11-29T11:59:30Z' })).toBe(2_000);
    expect(cache.ttlFor(parse('{ alerts { state } }'), undefined)).toBe(2_000);
  });
});
