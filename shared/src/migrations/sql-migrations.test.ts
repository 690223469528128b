import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Migration,
  type MigrationTarget,
  loadMigrations,
  runMigrations,
  splitStatements,
} from './sql-migrations.js';

/** A store that records what it was asked to do, its lock a promise chain. */
function makeTarget(alreadyApplied: number[] = []) {
  const applied = new Set(alreadyApplied);
  const log: string[] = [];
  let lock: Promise<unknown> = Promise.resolve();
  const target: MigrationTarget = {
    withLock<T>(fn: () => Promise<T>) {
      const run = lock.then(async () => {
        log.push('lock');
        try {
          return await fn();
        } finally {
          log.push('unlock');
        }
      });
      lock = run.catch(() => undefined);
      return run;
    },
    applied: () => Promise.resolve(new Set(applied)),
    apply: (migration) => {
      log.push(`apply ${migration.name}`);
      applied.add(migration.version);
      return Promise.resolve();
    },
  };
  return { target, log };
}

const migration = (version: number): Migration => ({
  version,
  name: `${String(version).padStart(4, '0')}_m.sql`,
  body: '',
});

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function folder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'heimdall-migrations-'));
  dirs.push(dir);
  for (const [name, body] of Object.entries(files)) await writeFile(join(dir, name), body);
  return dir;
}

describe('runMigrations', () => {
  it('applies the migrations not yet recorded, in version order, under the lock', async () => {
    const { target, log } = makeTarget([1]);

    const done = await runMigrations(target, [migration(3), migration(1), migration(2)]);

    expect(done).toEqual(['0002_m.sql', '0003_m.sql']);
    expect(log).toEqual(['lock', 'apply 0002_m.sql', 'apply 0003_m.sql', 'unlock']);
  });

  it('applies each migration once when two instances start together', async () => {
    const { target, log } = makeTarget();
    const all = [migration(1), migration(2)];

    const [first, second] = await Promise.all([runMigrations(target, all), runMigrations(target, all)]);

    expect([first, second]).toEqual([['0001_m.sql', '0002_m.sql'], []]);
    expect(log.filter((l) => l.startsWith('apply'))).toEqual(['apply 0001_m.sql', 'apply 0002_m.sql']);
  });
});

describe('loadMigrations', () => {
  it('reads the files of one extension in version order', async () => {
    const dir = await folder({ '0002_b.sql': 'B', '0001_a.sql': 'A', '0001_a.json': '{}', 'README.md': 'no' });

    expect(await loadMigrations(dir, 'sql')).toEqual([
      { version: 1, name: '0001_a.sql', body: 'A' },
      { version: 2, name: '0002_b.sql', body: 'B' },
    ]);
  });

  it('refuses two migrations of one version', async () => {
    const dir = await folder({ '0001_a.sql': 'A', '0001_b.sql': 'B' });

    await expect(loadMigrations(dir, 'sql')).rejects.toThrow(/two migrations numbered 0001/);
  });
});

describe('splitStatements', () => {
  it('splits at semicolons ending a line and drops comment lines', () => {
    expect(
      splitStatements("-- a table\nCREATE TABLE t (a String DEFAULT ';');\n\nINSERT INTO t VALUES (1);\n"),
    ).toEqual(["CREATE TABLE t (a String DEFAULT ';')", 'INSERT INTO t VALUES (1)']);
  });
});
