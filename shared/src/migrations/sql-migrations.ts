/**
 * The one migration runner (ClickHouse, PostgreSQL, Elasticsearch alike). One convention everywhere: a folder of
 * `NNNN_name.<ext>` files, applied in version order, each once, under a lock held by one instance at a time so
 * that replicas starting together never apply a migration twice. How a migration is applied and recorded is the
 * store's (`MigrationTarget`); which ones and in what order is decided here.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface Migration {
  /** The number the file name starts with; unique in its folder. */
  readonly version: number;
  /** The file name, recorded with the version. */
  readonly name: string;
  readonly body: string;
}

export interface MigrationTarget {
  /** Runs `fn` holding the store's migration lock (waiting for another holder to finish). */
  withLock<T>(fn: () => Promise<T>): Promise<T>;
  /** The versions recorded as applied. */
  applied(): Promise<ReadonlySet<number>>;
  /** Applies one migration and records it; after a crash in the middle, applying it again must finish it. */
  apply(migration: Migration): Promise<void>;
}

const FILE_NAME = /^(\d{4})_[\w-]+\.(\w+)$/;

/** The migrations of a folder with the given extension, in version order; two files of one version are an error. */
export async function loadMigrations(dir: string, extension: string): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const match = FILE_NAME.exec(name);
    if (match?.[2] !== extension) continue;
    const version = Number(match[1]);
    if (migrations.some((m) => m.version === version)) throw new Error(`${dir}: two migrations numbered ${match[1]}`);
    migrations.push({ version, name, body: await readFile(join(dir, name), 'utf8') });
  }
  return migrations;
}

/** Applies, under the target's lock, the migrations it has not recorded yet; returns the names applied. */
export async function runMigrations(target: MigrationTarget, migrations: readonly Migration[]): Promise<string[]> {
  return target.withLock(async () => {
    const applied = await target.applied();
    const done: string[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue;
      await target.apply(migration);
      done.push(migration.name);
    }
    return done;
  });
}

/**
 * A SQL file's statements: each ends with `;` at the end of a line; `--` comment lines are dropped. For stores
 * that take one statement per call (ClickHouse).
 */
export function splitStatements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
