// Heimdall services in processes of their own, as they ship (NODE_ENV=production), for benchmarks.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_DIR } from '@heimdall/stack';

export interface ServiceProcess {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `node --import tsx <entry>` with `env` on top of this process's environment and resolves with the URL its
 * `{"event":"ready"}` line announces. Stopped by its pid (SIGTERM, then SIGKILL after 10 s).
 */
export function startService(entry: string, env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_DIR, entry)], {
    env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'info', OTLP_TRACES_URL: 'off', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${entry} exited (code ${code}) before it was ready`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.includes('"event":"ready"')) return;
      const { url } = JSON.parse(line) as { url: string };
      resolve({ url, child, stop });
    });
  });
}
