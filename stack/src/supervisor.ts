import { spawn } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Service } from './services.js';

/** What the supervisor needs of a running service process. */
export interface ServiceProcess extends EventEmitter {
  readonly pid?: number | undefined;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
}

export interface SupervisorDeps {
  /** Starts one service process in a process group of its own. */
  spawn(service: Service, env: NodeJS.ProcessEnv): ServiceProcess;
  /** Signals a process group (a negative pid). */
  kill(pid: number, signal: NodeJS.Signals): void;
  /** Where each output line of a service and the supervisor's own lines go. */
  write(line: string): void;
  now(): number;
}

export interface SupervisorOptions {
  /** Delay before the first restart of a service that exited on its own. Default 1000 ms; doubles each time. */
  readonly initialBackoffMs?: number;
  /** Longest delay between restarts. Default 30000 ms. */
  readonly maxBackoffMs?: number;
  /** A service that stayed up this long before exiting starts over at the first delay. Default 60000 ms. */
  readonly stableAfterMs?: number;
  /** How long a service may take to stop after SIGTERM before it gets SIGKILL. Default 10000 ms. */
  readonly stopGraceMs?: number;
  /** How long `start` waits for a service's ready line. Default 120000 ms. */
  readonly readyTimeoutMs?: number;
}

const READY_LINE = /"event":"ready"/;

interface Supervised {
  readonly service: Service;
  child: ServiceProcess | undefined;
  startedAt: number;
  restarts: number;
  /** Restarts in a row without a stable run, which sets the next delay. */
  failures: number;
  restartTimer: NodeJS.Timeout | undefined;
}

/**
 * Runs Heimdall's services in the foreground as a supervisor would: output prefixed with each service's name; a
 * service that exits on its own is restarted after a delay that doubles up to a ceiling (and starts over once it ran
 * stably), each restart counted and logged; `stop` cancels pending restarts, sends SIGTERM to each process group
 * (services deregister from Consul) and SIGKILL to one still running after the grace period.
 */
export class Supervisor {
  private readonly supervised = new Map<string, Supervised>();
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly stableAfterMs: number;
  private readonly stopGraceMs: number;
  private readonly readyTimeoutMs: number;
  private stopping = false;
  private env: NodeJS.ProcessEnv = {};

  constructor(
    private readonly deps: SupervisorDeps,
    options: SupervisorOptions = {},
  ) {
    this.initialBackoffMs = options.initialBackoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.stableAfterMs = options.stableAfterMs ?? 60_000;
    this.stopGraceMs = options.stopGraceMs ?? 10_000;
    this.readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  }

  /** Starts the services; resolves once each has logged that it is ready (or exited, or timed out) the first time. */
  start(services: readonly Service[], env: NodeJS.ProcessEnv): Promise<string[]> {
    this.env = env;
    return Promise.all(
      services.map((service) => {
        const entry: Supervised = {
          service,
          child: undefined,
          startedAt: 0,
          restarts: 0,
          failures: 0,
          restartTimer: undefined,
        };
        this.supervised.set(service.name, entry);
        return this.launch(entry);
      }),
    );
  }

  /** How many times each service was restarted. */
  restartCounts(): Record<string, number> {
    return Object.fromEntries([...this.supervised.values()].map((s) => [s.service.name, s.restarts]));
  }

  /** The pid of a service's running process (the leader of its process group), if one runs now. */
  pid(name: string): number | undefined {
    const child = this.supervised.get(name)?.child;
    return child === undefined || child.exitCode !== null || child.signalCode !== null ? undefined : child.pid;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.supervised.values()].map((entry) => {
        clearTimeout(entry.restartTimer);
        const child = entry.child;
        if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
        const pid = child.pid;
        return new Promise<void>((resolve) => {
          const killTimer = setTimeout(() => {
            this.deps.write(
              `${entry.service.name} did not stop within ${this.stopGraceMs / 1000} s of SIGTERM: SIGKILL`,
            );
            this.signal(pid, 'SIGKILL');
          }, this.stopGraceMs);
          child.once('exit', () => {
            clearTimeout(killTimer);
            resolve();
          });
          this.signal(pid, 'SIGTERM');
        });
      }),
    );
  }

  private launch(entry: Supervised): Promise<string> {
    const { service } = entry;
    const child = this.deps.spawn(service, this.env);
    entry.child = child;
    entry.startedAt = this.deps.now();
    return new Promise<string>((resolve) => {
      const timer = setTimeout(
        () => resolve(`${service.name}: not ready after ${this.readyTimeoutMs / 1000} s`),
        this.readyTimeoutMs,
      );
      for (const stream of [child.stdout, child.stderr]) {
        if (stream === null) continue;
        createInterface({ input: stream }).on('line', (line) => {
          this.deps.write(`${service.name} | ${line}`);
          if (READY_LINE.test(line)) {
            clearTimeout(timer);
            resolve(`${service.name}: ready`);
          }
        });
      }
      let ended = false;
      const end = (how: string) => {
        if (ended) return;
        ended = true;
        clearTimeout(timer);
        resolve(`${service.name}: exited`);
        this.exited(entry, how);
      };
      child.once('exit', (code: number | null, signal: NodeJS.Signals | null) =>
        end(signal === null ? `code ${code}` : signal),
      );
      // A process that could not be started at all (its folder gone, no node) emits only this.
      child.once('error', (error: Error) => end(`could not start: ${error.message}`));
    });
  }

  private exited(entry: Supervised, how: string): void {
    if (this.stopping) {
      this.deps.write(`${entry.service.name} exited (${how})`);
      return;
    }
    // A service that ran stably before it exited starts over at the first delay.
    if (this.deps.now() - entry.startedAt >= this.stableAfterMs) entry.failures = 0;
    const delay = Math.min(this.initialBackoffMs * 2 ** entry.failures, this.maxBackoffMs);
    entry.failures++;
    entry.restarts++;
    this.deps.write(`${entry.service.name} exited (${how}); restart ${entry.restarts} in ${delay / 1000} s`);
    entry.restartTimer = setTimeout(() => {
      entry.restartTimer = undefined;
      if (!this.stopping) void this.launch(entry);
    }, delay);
  }

  private signal(pid: number, signal: NodeJS.Signals): void {
    try {
      this.deps.kill(-pid, signal);
    } catch {
      // Gone already: nothing left to stop.
    }
  }
}

/** The supervisor as `npm start` uses it: real processes (`node --import tsx src/main.ts`), output to stdout. */
export function processSupervisor(options: SupervisorOptions = {}): Supervisor {
  return new Supervisor(
    {
      spawn: (service, env) =>
        spawn(process.execPath, ['--import', 'tsx', join(service.dir, 'src', 'main.ts')], {
          cwd: service.dir,
          env,
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      kill: (pid, signal) => process.kill(pid, signal),
      write: (line) => process.stdout.write(`${line}\n`),
      now: () => Date.now(),
    },
    options,
  );
}
