import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import {
  type Migration,
  type MigrationTarget,
  loadMigrations,
  runMigrations,
  splitStatements,
} from '@heimdall/shared/migrations';

/** The versioned schema in `clickhouse/migrations/NNNN_name.sql`, applied in order at start. */
export const MIGRATIONS_DIR = join(import.meta.dirname, '..', '..', '..', '..', 'clickhouse', 'migrations');

/** A lock older than this was left by an instance that died while migrating. */
const STALE_LOCK_SECONDS = 600;

/**
 * ClickHouse as a migration target. DDL is not transactional, so a migration is applied statement by statement,
 * each recorded once done: after a crash the next start resumes at the statement that did not finish, and a
 * statement that must not run twice (EXCHANGE TABLES) runs once. The lock is a table that only one instance can
 * create; a server restart or a stale lock (an instance that died holding it) frees it.
 */
export function clickhouseMigrationTarget(client: ClickHouseClient): MigrationTarget {
  const run = (query: string) => client.command({ query });
  const select = async <T>(query: string) => (await client.query({ query, format: 'JSONEachRow' })).json<T>();
  return {
    async withLock(fn) {
      for (;;) {
        try {
          await run('CREATE TABLE schema_migrations_lock (at DateTime DEFAULT now()) ENGINE = Memory');
          break;
        } catch (error) {
          if ((error as { type?: string }).type !== 'TABLE_ALREADY_EXISTS') throw error;
          const [lock] = await select<{ age: number }>(
            "SELECT dateDiff('second', metadata_modification_time, now()) AS age FROM system.tables WHERE database = currentDatabase() AND name = 'schema_migrations_lock'",
          );
          if (lock !== undefined && lock.age > STALE_LOCK_SECONDS)
            await run('DROP TABLE IF EXISTS schema_migrations_lock');
          else await sleep(500);
        }
      }
      try {
        return await fn();
      } finally {
        await run('DROP TABLE IF EXISTS schema_migrations_lock');
      }
    },
    async applied() {
      await run(`CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, applied_at DateTime DEFAULT now())
                 ENGINE = ReplacingMergeTree ORDER BY version`);
      await run(`CREATE TABLE IF NOT EXISTS schema_migration_steps (version UInt32, step UInt32, applied_at DateTime DEFAULT now())
                 ENGINE = ReplacingMergeTree ORDER BY (version, step)`);
      return new Set(
        (await select<{ version: number }>('SELECT version FROM schema_migrations FINAL')).map((r) => r.version),
      );
    },
    async apply(migration: Migration) {
      const done = new Set(
        (
          await select<{ step: number }>(
            `SELECT step FROM schema_migration_steps FINAL WHERE version = ${migration.version}`,
          )
        ).map((r) => r.step),
      );
      for (const [step, statement] of splitStatements(migration.body).entries()) {
        if (done.has(step)) continue;
        await run(statement);
        await client.insert({
          table: 'schema_migration_steps',
          values: [{ version: migration.version, step }],
          format: 'JSONEachRow',
        });
      }
      await client.insert({
        table: 'schema_migrations',
        values: [{ version: migration.version, name: migration.name }],
        format: 'JSONEachRow',
      });
    },
  };
}

/** Applies the migrations ClickHouse has not recorded yet; returns their file names. */
export async function migrate(client: ClickHouseClient, dir = MIGRATIONS_DIR): Promise<string[]> {
  return runMigrations(clickhouseMigrationTarget(client), await loadMigrations(dir, 'sql'));
}
