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

  it('answers null rather than wait past waitMs for a first map, and uses the map once it comes', async () => {
    let answer: (value: unknown) => void = () => undefined;
    const graphql = vi.fn().mockReturnValue(new Promise((resolve) => (answer = resolve)));
    const map = new ServiceMap({ graphql }, { waitMs: 500 });
    const first = map.edges();
    await vi.advanceTimersByTimeAsync(500);
    expect(await first).toBeNull();
    answer({ dependencies: EDGES });
    await vi.advanceTimersByTimeAsync(0);
    expect(await map.edges()).toEqual(EDGES);
    expect(graphql).toHaveBeenCalledTimes(1);
  });

  it('answers an expired map at once while it reads a new one', async () => {
    const graphql = vi
      .fn()
      .mockResolvedValueOnce({ dependencies: EDGES })
      .mockReturnValueOnce(new Promise(() => undefined));
    const map = new ServiceMap({ graphql }, { ttlMs: 60_000 });
    await map.edges();
    vi.advanceTimersByTime(61_000);
    expect(await map.edges()).toEqual(EDGES);
    expect(graphql).toHaveBeenCalledTimes(2);
  });

  it('says it does not know when traces cannot be reached, and asks again after the TTL', async () => {
    const graphql = vi.fn().mockRejectedValueOnce(new Error('UNAVAILABLE')).mockResolvedValue({ dependencies: EDGES });
    const onFailure = vi.fn();
    const map = new ServiceMap({ graphql }, { ttlMs: 30_000, onFailure });
    expect(await map.edges()).toBeNull();
    expect(onFailure).toHaveBeenCalledOnce();
    vi.advanceTimersByTime(31_000);
    await map.edges();
    await vi.advanceTimersByTimeAsync(0);
    expect(await map.edges()).toEqual(EDGES);
  });
});
