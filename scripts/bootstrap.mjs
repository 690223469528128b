#!/usr/bin/env node
// Entry of `npm start`, `npm test` and `npm run stack`: checks Node, installs the npm dependencies when the
// lockfile changed since the last install (a fresh clone has none), then runs the stack CLI with tsx.
// Plain JavaScript on purpose: it runs before any dependency is installed.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`heimdall: Node.js 20.19 or newer is required (this is ${process.versions.node}).`);
  process.exit(1);
}

const lockfile = join(repo, 'package-lock.json');
const stamp = join(repo, 'node_modules', '.heimdall-lock-sha256');
const lockHash = existsSync(lockfile) ? createHash('sha256').update(readFileSync(lockfile)).digest('hex') : 'none';
const installedHash = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : '';
if (lockHash !== installedHash) {
  // `npm install`, not `npm ci`: npm 11 rejects its own lockfile in `ci` when optional platform packages
  // (turbo's) are absent from it; with the lockfile present, install resolves the same locked versions.
  console.error('heimdall: npm install (dependencies changed or not installed yet)');
  const result = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: repo, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('heimdall: npm install failed; the lines above say why.');
    process.exit(result.status ?? 1);
  }
  writeFileSync(stamp, `${lockHash}\n`);
}

const [command, ...rest] = process.argv.slice(2);
const cli = spawn(
  process.execPath,
  ['--import', 'tsx', join(repo, 'stack', 'src', 'cli.ts'), ...(command === 'stack' ? rest : [command, ...rest])],
  { cwd: repo, stdio: 'inherit' },
);
// Ctrl-C reaches the CLI too (same process group); this process only waits for it to finish cleaning up.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => cli.kill(signal));
cli.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
