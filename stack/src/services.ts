import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** A Heimdall service: a workspace under gateway/ or subgraphs/ with an entry point `src/main.ts`. */
export interface Service {
  readonly name: string;
  readonly dir: string;
}

export async function findServices(repoDir: string): Promise<{ subgraphs: Service[]; gateways: Service[] }> {
  const root = JSON.parse(await readFile(join(repoDir, 'package.json'), 'utf8')) as { workspaces: string[] };
  const found = { subgraphs: [] as Service[], gateways: [] as Service[] };
  for (const workspace of root.workspaces) {
    const dir = join(repoDir, workspace);
    if (!existsSync(join(dir, 'src', 'main.ts'))) continue;
    const { name } = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { name: string };
    if (workspace.startsWith('subgraphs/')) found.subgraphs.push({ name, dir });
    else if (workspace === 'gateway') found.gateways.push({ name, dir });
  }
  return found;
}

const READY_LINE = /"event":"ready"/;

/**
 * Runs services in the foreground, output prefixed with their names. Each runs as `node --import tsx
 * src/main.ts` in a process group of its own, so that stopping waits for the service itself (its Consul
 * deregistration included), not for a wrapper such as npm.
 */
export class ServiceRunner {
  private readonly children = new Map<string, ChildProcess>();

  /** Starts the services and resolves once each has logged that it is ready (or has exited). */
  start(services: readonly Service[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<string[]> {
    return Promise.all(
      services.map(
        (service) =>
          new Promise<string>((resolve) => {
            const child = spawn(process.execPath, ['--import', 'tsx', join(service.dir, 'src', 'main.ts')], {
              cwd: service.dir,
              env,
              detached: true,
              stdio: ['ignore', 'pipe', 'pipe'],
            });
            const timer = setTimeout(() => resolve(`${service.name}: not ready after ${timeoutMs / 1000} s`), timeoutMs);
            for (const stream of [child.stdout, child.stderr]) {
              createInterface({ input: stream }).on('line', (line) => {
                process.stdout.write(`${service.name} | ${line}\n`);
                if (READY_LINE.test(line)) {
                  clearTimeout(timer);
                  resolve(`${service.name}: ready`);
                }
              });
            }
            child.once('exit', (code, signal) => {
              clearTimeout(timer);
              this.children.delete(service.name);
              process.stdout.write(`${service.name} exited (${signal ?? `code ${code}`})\n`);
              resolve(`${service.name}: exited`);
            });
            this.children.set(service.name, child);
          }),
      ),
    );
  }

  /** SIGTERM to each service (they deregister from Consul), then waits until every one has exited. */
  async stop(): Promise<void> {
    await Promise.all(
      [...this.children.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.pid === undefined) return resolve();
            child.once('exit', () => resolve());
            process.kill(-child.pid, 'SIGTERM');
          }),
      ),
    );
  }
}
