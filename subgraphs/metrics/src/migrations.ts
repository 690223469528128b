import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';

/** The versioned schema in `clickhouse/migrations/NNNN_name.sql`, applied in order at start. */
export const MIGRATIONS_DIR = join(import.meta.dirname, '..', '..', '..', 'clickhouse', 'migrations');

/**
 * Applies the migrations not yet recorded in `schema_migrations`. Idempotent: each statement is written to be
 * re-runnable (IF NOT EXISTS), so a crash between a migration and its record is repaired by the next start.
 */
export async function migrate(client: ClickHouseClient, dir = MIGRATIONS_DIR): Promise<string[]> {
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, applied_at DateTime DEFAULT now())
            ENGINE = ReplacingMergeTree ORDER BY version`,
  });
  const applied = new Set(
    (await (await client.query({ query: 'SELECT version FROM schema_migrations FINAL', format: 'JSONEachRow' })).json<{ version: number }>()).map(
      (r) => r.version,
    ),
  );
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort();
  const done: string[] = [];
  for (const file of files) {
    const version = Number(file.slice(0, 4));
    if (applied.has(version)) continue;
    const sql = await readFile(join(dir, file), 'utf8');
    for (const statement of splitStatements(sql)) await client.command({ query: statement });
    await client.insert({ table: 'schema_migrations', values: [{ version, name: file }], format: 'JSONEachRow' });
    done.push(file);
  }
  return done;
}

/** Statements end with ';' at the end of a line; `--` comment lines are dropped. */
export function splitStatements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
