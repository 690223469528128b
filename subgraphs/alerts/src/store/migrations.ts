import { join } from 'node:path';
import type pg from 'pg';
import { type MigrationTarget, loadMigrations, runMigrations } from '@heimdall/shared/migrations';

export const MIGRATIONS_DIR = join(import.meta.dirname, '..', '..', 'migrations');

/** The advisory lock that makes replicas starting together apply each migration once. */
const MIGRATION_LOCK = 727001;

/**
 * PostgreSQL as a migration target: each migration and its record in one transaction, under an advisory lock held
 * on one connection for the whole run.
 */
export async function migrate(pool: pg.Pool, dir = MIGRATIONS_DIR): Promise<string[]> {
  const client = await pool.connect();
  const target: MigrationTarget = {
    async withLock(fn) {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
      }
    },
    async applied() {
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      return new Set(
        (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
      );
    },
    async apply(migration) {
      await client.query('BEGIN');
      try {
        await client.query(migration.body);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
          migration.version,
          migration.name,
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    },
  };
  try {
    return await runMigrations(target, await loadMigrations(dir, 'sql'));
  } finally {
    client.release();
  }
}
