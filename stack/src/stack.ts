import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StackConfig } from './config.js';
import { isListening, waitFor } from './net.js';
import {
  type PidRecord,
  isRunning,
  launch,
  readPidFile,
  removePidFile,
  residentBytes,
  stopProcess,
  writePidFile,
} from './processes.js';
import type { Server } from './servers/server.js';

export interface ServerStatus {
  readonly name: string;
  readonly state: 'up' | 'starting' | 'down';
  readonly port: number;
  readonly version: string | undefined;
  readonly pid: number | undefined;
  readonly rssBytes: number;
}

/** Raised when a server cannot start; the message says what to do. */
export class StackError extends Error {
  override readonly name = 'StackError';
}

/** The local stack: each server's data, log and pid file live in `<stackDir>/<name>/`. */
export class Stack {
  constructor(
    readonly config: StackConfig,
    readonly servers: readonly Server[],
  ) {}

  select(names: readonly string[]): Server[] {
    if (names.length === 0) return [...this.servers];
    return names.map((name) => {
      const server = this.servers.find((s) => s.name === name);
      if (server === undefined) {
        throw new StackError(`unknown server "${name}"; the stack has ${this.servers.map((s) => s.name).join(', ')}`);
      }
      return server;
    });
  }

  dir(server: Server): string {
    return join(this.config.stackDir, server.name);
  }

  logFile(server: Server): string {
    return join(this.dir(server), `${server.name}.log`);
  }

  private pidFile(server: Server): string {
    return join(this.dir(server), 'pid.json');
  }

  /** The process of a server this stack started and that is still alive. */
  async process(server: Server): Promise<PidRecord | undefined> {
    const record = await readPidFile(this.pidFile(server));
    return record !== undefined && (await isRunning(record)) ? record : undefined;
  }

  /**
   * Installs and starts the servers that are not running, then waits until every one of them is ready.
   * Returns the names of the servers it started (the others were already up).
   */
  async up(servers: readonly Server[]): Promise<string[]> {
    const toStart: Server[] = [];
    for (const server of servers) {
      if ((await this.process(server)) === undefined) toStart.push(server);
    }
    await this.checkPortsFree(toStart);
    const installed = await Promise.all(toStart.map((server) => server.install(this.config)));
    // allSettled: every server that did start gets its pid file before an error is raised, so `down` finds it.
    const launched = await Promise.allSettled(
      toStart.map(async (server, i) => {
        const dir = this.dir(server);
        await mkdir(dir, { recursive: true });
        const spec = await server.prepare(this.config, installed[i]!, dir);
        const env = { PATH: this.config.inheritedEnv.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', ...spec.env };
        const record = await launch({ ...spec, env, logFile: this.logFile(server) });
        await writePidFile(this.pidFile(server), record);
      }),
    );
    const failure = launched.find((result) => result.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
    await Promise.all(servers.map((server) => this.waitReady(server)));
    return toStart.map((s) => s.name);
  }

  /** Stops the servers this stack started (found by their pid files, never by process name). */
  async down(servers: readonly Server[]): Promise<string[]> {
    const stopped = await Promise.all(
      servers.map(async (server) => {
        const record = await readPidFile(this.pidFile(server));
        if (record === undefined) return undefined;
        await stopProcess(record, server.stopSignal, 60_000);
        await removePidFile(this.pidFile(server));
        return server.name;
      }),
    );
    return stopped.filter((name): name is string => name !== undefined);
  }

  async status(servers: readonly Server[]): Promise<ServerStatus[]> {
    return Promise.all(
      servers.map(async (server) => {
        const record = await this.process(server);
        const ready = record !== undefined && (await server.ready(this.config));
        return {
          name: server.name,
          state: record === undefined ? 'down' : ready ? 'up' : 'starting',
          port: server.port(this.config),
          version: ready ? await server.version(this.config) : undefined,
          pid: record?.pid,
          rssBytes: record === undefined ? 0 : await residentBytes(record.pid),
        } satisfies ServerStatus;
      }),
    );
  }

  private async checkPortsFree(servers: readonly Server[]): Promise<void> {
    const taken: string[] = [];
    for (const server of servers) {
      for (const use of server.ports(this.config)) {
        if (await isListening(use.port)) taken.push(`port ${use.port} (${server.name}, ${use.variable})`);
      }
    }
    if (taken.length > 0) {
      throw new StackError(
        `already in use by a process this stack did not start: ${taken.join('; ')}. ` +
          'Stop that process, or set the variable named to a free port.',
      );
    }
  }

  private async waitReady(server: Server): Promise<void> {
    const ok = await waitFor(async () => {
      if ((await this.process(server)) === undefined) return true;
      return server.ready(this.config);
    }, server.startTimeoutMs);
    const alive = (await this.process(server)) !== undefined;
    if (ok && alive) return;
    const log = await readFile(this.logFile(server), 'utf8').catch(() => '');
    const tail = log.trimEnd().split('\n').slice(-25).join('\n');
    throw new StackError(
      `${server.name} ${alive ? `was not ready after ${server.startTimeoutMs / 1000} s` : 'exited'}; ` +
        `last lines of ${this.logFile(server)}:\n${tail}`,
    );
  }
}
