import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_DIR } from '@heimdall/stack';

/** A service run as `npm start` runs it: its own process, its own output, its environment as its only input. */
export class ServiceProcess {
  readonly lines: string[] = [];
  private readonly exited: Promise<number | null>;

  constructor(
    readonly child: ChildProcess,
    private readonly waitFor: RegExp[],
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    for (const stream of [child.stdout!, child.stderr!])
      createInterface({ input: stream }).on('line', (line) => this.lines.push(line));
  }

  /**
   * `node --import tsx <entry>` with `inherited` (the caller's environment, less vitest's own variables and
   * NODE_ENV=test: the service sees what npm start gives it) and `env` over it.
   */
  static start(
    entry: string,
    inherited: NodeJS.ProcessEnv,
    env: Record<string, string>,
    waitFor: RegExp[] = [/"event":"ready"/],
    /** Options for node itself, such as `--cpu-prof` (which NODE_OPTIONS may not carry). */
    nodeArgs: readonly string[] = [],
  ): ServiceProcess {
    const parent = Object.fromEntries(
      Object.entries(inherited).filter(([key]) => key !== 'NODE_ENV' && !key.startsWith('VITEST')),
    );
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(REPO_DIR, entry)], {
      env: { ...parent, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ServiceProcess(child, waitFor);
  }

  /** Resolves once every expected line was logged; fails with the output when the process exits first. */
  async ready(ms = 45_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.waitFor.every((pattern) => this.lines.some((line) => pattern.test(line)))) {
      if (this.child.exitCode !== null || Date.now() > deadline)
        throw new Error(`not ready:\n${this.lines.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The `url` of the first line logging `event`. */
  url(event: string): string {
    const line = this.lines.find((l) => l.includes(`"event":"${event}"`));
    return (JSON.parse(line!) as { url: string }).url;
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  exit(): Promise<number | null> {
    return this.exited;
  }
}
