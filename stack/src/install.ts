import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { StackConfig } from './config.js';

/**
 * Runs `stack/install/<recipe>.sh`, streaming its progress to stderr (a cold build takes minutes), and
 * returns the last line it printed on stdout: the path of what it installed. One recipe runs at a time per cache
 * (`flock` on a file beside it): an `npm start` and an `npm test` started together on a cold machine would otherwise
 * build into the same temporary file, and two apt-get runs refuse each other; the one that waited then finds the
 * install done.
 */
export async function runRecipe(config: StackConfig, recipe: string, args: readonly string[] = []): Promise<string> {
  const script = join(config.repoDir, 'stack', 'install', `${recipe}.sh`);
  const locks = join(config.cacheDir, 'locks');
  mkdirSync(locks, { recursive: true });
  const child = spawn('flock', [join(locks, `${recipe}.lock`), 'bash', script, ...args], {
    env: { ...config.inheritedEnv, HEIMDALL_CACHE: config.cacheDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let last = '';
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.trim() !== '') last = line.trim();
  });
  createInterface({ input: child.stderr }).on('line', (line) => process.stderr.write(`[install ${recipe}] ${line}\n`));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`installing ${recipe} failed (exit ${code}); the lines above say why`);
  return last;
}

/** The uid/gid of a system account to run a server as when we are root (Elasticsearch and PostgreSQL refuse root). */
export function accountWhenRoot(name: string): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0)
    throw new Error(`system user ${name} is missing; its install recipe creates it`);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * Gives a directory tree to the account a server runs as. That account must also be able to reach the tree,
 * so parents it cannot traverse (a checkout under /root, mode 700) get search permission for others, never read.
 */
export function chownTree(dir: string, account: { uid: number; gid: number } | undefined): void {
  if (account === undefined) return;
  for (let parent = dirname(dir); parent !== dirname(parent); parent = dirname(parent)) {
    if ((statSync(parent).mode & 0o001) === 0) chmodSync(parent, statSync(parent).mode | 0o001);
  }
  const result = spawnSync('chown', ['-R', `${account.uid}:${account.gid}`, dir]);
  if (result.status !== 0) throw new Error(`chown ${dir} failed: ${result.stderr.toString()}`);
}

/** Debian's Chromium (with the Nanum fonts for Korean), which the console's browser tests drive; installed when missing. */
export function browserPath(config: StackConfig): Promise<string> {
  return runRecipe(config, 'debian', ['chromium']);
}
