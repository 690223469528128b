import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

interface WorkspaceManifest {
  readonly name: string;
  readonly scripts?: Record<string, string>;
}

/** A Heimdall service: a workspace under gateway/ or subgraphs/ with a `start` script. */
export interface Service {
  readonly name: string;
  readonly dir: string;
}

export async function findServices(repoDir: string): Promise<Service[]> {
  const root = JSON.parse(await readFile(join(repoDir, 'package.json'), 'utf8')) as { workspaces: string[] };
  const services: Service[] = [];
  // Subgraphs first: the gateway composes whatever it finds registered.
  const order = (w: string) => (w.startsWith('subgraphs/') ? 0 : 1);
  for (const workspace of [...root.workspaces].sort((a, b) => order(a) - order(b))) {
    if (!workspace.startsWith('subgraphs/') && workspace !== 'gateway') continue;
    const dir = join(repoDir, workspace);
    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as WorkspaceManifest;
    if (manifest.scripts?.start !== undefined) services.push({ name: manifest.name, dir });
  }
  return services;
}

/** Runs services in the foreground, each in its own process group, output prefixed with its name. */
export class ServiceRunner {
  private readonly children = new Map<string, ChildProcess>();

  start(services: readonly Service[], env: NodeJS.ProcessEnv): void {
    for (const service of services) {
      const child = spawn('npm', ['run', '--silent', 'start'], {
        cwd: service.dir,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      for (const stream of [child.stdout, child.stderr]) {
        createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${service.name} | ${line}\n`));
      }
      child.once('exit', (code, signal) => {
        this.children.delete(service.name);
        process.stdout.write(`${service.name} exited (${signal ?? `code ${code}`})\n`);
      });
      this.children.set(service.name, child);
    }
  }

  /** SIGTERM to each service's process group (they deregister from Consul), then waits for them. */
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
