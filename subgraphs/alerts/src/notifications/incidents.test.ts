import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type DependencyEdge, ServiceMap, isLinked, rootCauseOf } from './incidents.js';

// frontend → checkout → payments → postgres-proxy; checkout → inventory
const EDGES: DependencyEdge[] = [
  { parent: 'frontend', child: 'checkout' },
  { parent: 'checkout', child: 'payments' },
  { parent: 'payments', child: 'postgres-proxy' },
  { parent: 'checkout', child: 'inventory' },
];

describe('linked services', () => {
  it('links a service to one it calls or is called by', () => {
    expect(isLinked('payments', ['checkout'], EDGES)).toBe(true);
    expect(isLinked('frontend', ['checkout'], EDGES)).toBe(true);
    expect(isLinked('postgres-proxy', ['checkout'], EDGES)).toBe(false);
    expect(isLinked('checkout', ['checkout'], [])).toBe(true);
  });

  it('names the most downstream firing service as the root-cause candidate', () => {
    expect(rootCauseOf(['frontend', 'checkout', 'payments'], EDGES)).toBe('payments');
    expect(rootCauseOf(['checkout'], EDGES)).toBe('checkout');
  });
});

describe('the service map', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads the traces subgraph’s dependencies once per TTL', async () => {
    const graphql = vi.fn().mockResolvedValue({ dependencies: EDGES.map((e) => ({ ...e, callCount: 3 })) });
    const map = new ServiceMap({ graphql }, { ttlMs: 60_000 });
    expect(await map.edges()).toEqual(EDGES);
    vi.advanceTimersByTime(59_000);
    await map.edges();
    expect(graphql).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(2_000);
    await map.edges();
    expect(graphql).toHaveBeenCalledTimes(2);
    expect(graphql.mock.calls[0]?.[0]).toContain('dependencies(range: $range)');
  });

  it('says it does not know when traces cannot be reached, and asks again after the TTL', async () => {
    const graphql = vi.fn().mockRejectedValueOnce(new Error('UNAVAILABLE')).mockResolvedValue({ dependencies: EDGES });
    const onFailure = vi.fn();
    const map = new ServiceMap({ graphql }, { ttlMs: 30_000, onFailure });
    expect(await map.edges()).toBeNull();
    expect(onFailure).toHaveBeenCalledOnce();
    vi.advanceTimersByTime(31_000);
    expect(await map.edges()).toEqual(EDGES);
  });
});
