import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SubgraphDirectory } from './directory.js';
import { FakeConsul, makeInstance } from './fake-consul.fixtures.js';
import { makeLogger } from './logger.fixtures.js';

const TAG = 'graphql-subgraph';

/** Lets the watch loops take what the fake Consul handed them, without moving the clock. */
const settle = () => vi.advanceTimersByTimeAsync(0);

function makeDirectory(consul: FakeConsul) {
  const log = makeLogger();
  const directory = new SubgraphDirectory(consul, TAG, log.logger);
  const changes = vi.fn<() => void>();
  directory.onChange(changes);
  return { directory, changes, ...log };
}

describe('SubgraphDirectory', () => {
  let consul: FakeConsul;
  let directory: SubgraphDirectory;

  beforeEach(() => {
    vi.useFakeTimers();
    consul = new FakeConsul();
  });
  afterEach(() => {
    directory.stop();
    vi.useRealTimers();
  });

  describe('initial load', () => {
    it('lists the tagged services that have a passing instance, before start resolves', async () => {
      consul.add(makeInstance({ name: 'metrics' }));
      consul.add(makeInstance({ name: 'logs' }));
      consul.add(makeInstance({ name: 'alerts' }), false);
      consul.add(makeInstance({ name: 'consul-ui', tags: ['web'] }));
      ({ directory } = makeDirectory(consul));

      await directory.start();

      expect(directory.available()).toEqual(['logs', 'metrics']);
      expect(directory.passing('alerts')).toEqual([]);
      expect(directory.passing('consul-ui')).toEqual([]);
    });

    it('hands out the passing instances of a subgraph in turn', async () => {
      consul.add(makeInstance({ name: 'metrics', id: 'metrics-1', port: 8001 }));
      consul.add(makeInstance({ name: 'metrics', id: 'metrics-2', port: 8101 }));
      ({ directory } = makeDirectory(consul));
      await directory.start();

      const picked = [1, 2, 3, 4].map(() => directory.pick('metrics')?.id);

      expect(picked).toEqual(['metrics-1', 'metrics-2', 'metrics-1', 'metrics-2']);
      expect(directory.pick('logs')).toBeUndefined();
    });
  });

  describe('watching', () => {
    it('sees a new instance through the blocking watch and says so once', async () => {
      consul.add(makeInstance({ name: 'metrics', id: 'metrics-1' }));
      const made = makeDirectory(consul);
      directory = made.directory;
      await directory.start();
      await settle();

      consul.add(makeInstance({ name: 'metrics', id: 'metrics-2' }));
      await settle();

      expect(directory.passing('metrics').map((i) => i.id)).toEqual(['metrics-1', 'metrics-2']);
      expect(made.changes).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(50);
      expect(made.changes).toHaveBeenCalledOnce();
    });

    it('picks up a subgraph that registers after the start', async () => {
      const made = makeDirectory(consul);
      directory = made.directory;
      await directory.start();
      await settle();

      consul.add(makeInstance({ name: 'traces' }));
      await vi.advanceTimersByTimeAsync(50);

      expect(directory.available()).toEqual(['traces']);
      expect(made.changes).toHaveBeenCalledOnce();
    });

    it('drops an instance whose check fails', async () => {
      consul.add(makeInstance({ name: 'metrics', id: 'metrics-1' }));
      consul.add(makeInstance({ name: 'metrics', id: 'metrics-2' }));
      const made = makeDirectory(consul);
      directory = made.directory;
      await directory.start();
      await settle();

      consul.setPassing('metrics-1', false);
      await vi.advanceTimersByTimeAsync(50);

      expect(directory.passing('metrics').map((i) => i.id)).toEqual(['metrics-2']);
      expect(made.changes).toHaveBeenCalledOnce();
    });

    it('forgets a subgraph that leaves the catalog and stops watching it', async () => {
      consul.add(makeInstance({ name: 'metrics', id: 'metrics-1' }));
      consul.add(makeInstance({ name: 'logs', id: 'logs-1' }));
      const made = makeDirectory(consul);
      directory = made.directory;
      await directory.start();
      await settle();

      await consul.deregister('logs-1');
      await vi.advanceTimersByTimeAsync(50);

      expect(directory.available()).toEqual(['metrics']);
      expect(made.changes).toHaveBeenCalledOnce();
      // One blocking query for the catalog and one for metrics' health: none left for logs.
      expect(consul.blocked).toBe(2);
    });

    it('coalesces changes that arrive together into one notification', async () => {
      consul.add(makeInstance({ name: 'metrics', id: 'metrics-1' }));
      const made = makeDirectory(consul);
      directory = made.directory;
      await directory.start();
      await settle();

      consul.add(makeInstance({ name: 'metrics', id: 'metrics-2' }));
      await vi.advanceTimersByTimeAsync(20);
      consul.add(makeInstance({ name: 'logs', id: 'logs-1' }));
      await vi.advanceTimersByTimeAsync(20);
      await consul.deregister('metrics-2');
      await vi.advanceTimersByTimeAsync(50);

      expect(made.changes).toHaveBeenCalledOnce();
      expect(directory.available()).toEqual(['logs', 'metrics']);
    });

    it('retries a failed catalog watch after a second, and sees what changed meanwhile', async () => {
      const made = makeDirectory(consul);
      directory = made.directory;
      await directory.start();
      await settle();

      consul.failNext('services', new Error('Consul at http://127.0.0.1:8500 is unreachable'));
      consul.add(makeInstance({ name: 'traces' }));
      await settle();
      const callsAfterFailure = consul.calls.services;
      expect(made.warn).toHaveBeenCalledWith(
        expect.objectContaining({ err: expect.any(Error) as unknown }),
        'Consul catalog watch failed; retrying',
      );

      await vi.advanceTimersByTimeAsync(999);
      expect(consul.calls.services).toBe(callsAfterFailure);
      expect(directory.available()).toEqual([]);

      await vi.advanceTimersByTimeAsync(1 + 50);
      expect(consul.calls.services).toBeGreaterThan(callsAfterFailure);
      expect(directory.available()).toEqual(['traces']);
      expect(made.changes).toHaveBeenCalledOnce();
    });

    it('retries a failed health watch after a second', async () => {
      consul.add(makeInstance({ name: 'metrics', id: 'metrics-1' }));
      const made = makeDirectory(consul);
      directory = made.directory;
      await directory.start();
      await settle();

      consul.failNext('passing', new Error('Consul GET /v1/health/service/metrics answered 500'));
      consul.add(makeInstance({ name: 'metrics', id: 'metrics-2' }));
      await settle();
      expect(made.warn).toHaveBeenCalledWith(
        expect.objectContaining({ subgraph: 'metrics' }),
        'Consul health watch failed; retrying',
      );
      await vi.advanceTimersByTimeAsync(999);
      expect(directory.passing('metrics')).toHaveLength(1);

      await vi.advanceTimersByTimeAsync(1 + 50);
      expect(directory.passing('metrics')).toHaveLength(2);
      expect(made.changes).toHaveBeenCalledOnce();
    });

    it('stops every watch and its retry when stopped', async () => {
      consul.add(makeInstance({ name: 'metrics', id: 'metrics-1' }));
      const made = makeDirectory(consul);
      directory = made.directory;
      await directory.start();
      await settle();
      consul.failNext('services', new Error('Consul unreachable'));
      consul.add(makeInstance({ name: 'logs', id: 'logs-1' }));
      await settle();

      directory.stop();
      await vi.advanceTimersByTimeAsync(5000);

      expect(consul.blocked).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
      expect(made.changes).not.toHaveBeenCalled();
    });
  });
});
