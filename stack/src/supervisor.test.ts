import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ServiceProcess, Supervisor } from './supervisor.js';

/** A service process the test drives: it says it is ready, exits, or ignores SIGTERM as told. */
class FakeProcess extends EventEmitter implements ServiceProcess {
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  constructor(readonly pid: number) {
    super();
  }
  ready(): void {
    this.stdout.write('{"event":"ready"}\n');
  }
  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.exitCode = code;
    this.signalCode = signal;
    this.emit('exit', code, signal);
  }
}

function makeSupervisor(options: { ignoresTerm?: boolean } = {}) {
  const spawned: FakeProcess[] = [];
  const signals: [number, NodeJS.Signals][] = [];
  const lines: string[] = [];
  const supervisor = new Supervisor(
    {
      spawn: () => {
        const child = new FakeProcess(1000 + spawned.length);
        spawned.push(child);
        queueMicrotask(() => child.ready());
        return child;
      },
      kill: (pid, signal) => {
        signals.push([pid, signal]);
        const child = spawned.find((c) => c.pid === -pid);
        if (child !== undefined && (signal === 'SIGKILL' || !options.ignoresTerm)) child.exit(null, signal);
      },
      write: (line) => lines.push(line),
      now: () => Date.now(),
    },
    { initialBackoffMs: 1000, maxBackoffMs: 8000, stableAfterMs: 60_000, stopGraceMs: 10_000 },
  );
  return { supervisor, spawned, signals, lines };
}

const metrics = { name: '@heimdall/metrics', dir: '/repo/subgraphs/metrics' };

describe('the supervisor npm start runs services under', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('restarts a service that crashes, waiting twice as long each time up to a ceiling, and logs each restart', async () => {
    const { supervisor, spawned, lines } = makeSupervisor();
    expect(await supervisor.start([metrics], {})).toEqual(['@heimdall/metrics: ready']);

    const delays: number[] = [];
    for (let crash = 0; crash < 5; crash++) {
      const before = spawned.length;
      spawned.at(-1)!.exit(1);
      let waited = 0;
      while (spawned.length === before) {
        await vi.advanceTimersByTimeAsync(500);
        waited += 500;
      }
      delays.push(waited);
    }

    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(supervisor.restartCounts()).toEqual({ '@heimdall/metrics': 5 });
    expect(lines).toContain('@heimdall/metrics exited (code 1); restart 3 in 4 s');
  });

  it("tells the pid of a service's running process, none while it waits for its restart, the new one after", async () => {
    const { supervisor, spawned } = makeSupervisor();
    await supervisor.start([metrics], {});
    expect(supervisor.pid(metrics.name)).toBe(1000);

    spawned.at(-1)!.exit(null, 'SIGKILL');
    expect(supervisor.pid(metrics.name)).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1000);

    expect(supervisor.pid(metrics.name)).toBe(1001);
    expect(supervisor.pid('@heimdall/unknown')).toBeUndefined();
  });

  it('starts over at the first delay once a restarted service ran stably', async () => {
    const { supervisor, spawned, lines } = makeSupervisor();
    await supervisor.start([metrics], {});
    spawned.at(-1)!.exit(1);
    await vi.advanceTimersByTimeAsync(1000);
    spawned.at(-1)!.exit(1);
    await vi.advanceTimersByTimeAsync(2000);

    await vi.advanceTimersByTimeAsync(60_000);
    spawned.at(-1)!.exit(1);

    expect(lines.at(-1)).toBe('@heimdall/metrics exited (code 1); restart 3 in 1 s');
  });

  it('cancels a pending restart when stopped', async () => {
    const { supervisor, spawned } = makeSupervisor();
    await supervisor.start([metrics], {});
    spawned.at(-1)!.exit(1);

    await supervisor.stop();
    await vi.advanceTimersByTimeAsync(60_000);

    expect(spawned).toHaveLength(1);
  });

  it('stops a service with SIGTERM to its process group, and SIGKILL when it ignores that', async () => {
    const { supervisor, signals, lines } = makeSupervisor({ ignoresTerm: true });
    await supervisor.start([metrics], {});

    const stopped = supervisor.stop();
    await vi.advanceTimersByTimeAsync(9_999);
    expect(signals).toEqual([[-1000, 'SIGTERM']]);
    await vi.advanceTimersByTimeAsync(1);
    await stopped;

    expect(signals).toEqual([
      [-1000, 'SIGTERM'],
      [-1000, 'SIGKILL'],
    ]);
    expect(lines).toContain('@heimdall/metrics did not stop within 10 s of SIGTERM: SIGKILL');
  });
});
