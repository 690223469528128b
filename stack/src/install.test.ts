import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadStackConfig } from './config.js';
import { runRecipe } from './install.js';

describe('runRecipe', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('runs one install of a recipe at a time, so a second waits and finds the first one done', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'heimdall-recipe-'));
    dirs.push(repo);
    mkdirSync(join(repo, 'stack', 'install'), { recursive: true });
    const log = join(repo, 'log');
    // Builds only when nothing is installed yet, as every recipe does, taking long enough for runs to overlap.
    writeFileSync(
      join(repo, 'stack', 'install', 'slow.sh'),
      `BIN="$HEIMDALL_CACHE/bin"\n[ -f "$BIN" ] && { echo "$BIN"; exit 0; }\necho start >> ${log}\nsleep 0.5\necho end >> ${log}\ntouch "$BIN"\necho "$BIN"\n`,
    );
    const config = loadStackConfig({ HEIMDALL_CACHE: join(repo, 'cache'), PATH: '/usr/bin:/bin' }, repo);
    mkdirSync(config.cacheDir, { recursive: true });

    const paths = await Promise.all([runRecipe(config, 'slow'), runRecipe(config, 'slow'), runRecipe(config, 'slow')]);

    expect(paths).toEqual(Array(3).fill(join(config.cacheDir, 'bin')));
    expect(readFileSync(log, 'utf8')).toBe('start\nend\n');
  });
});
