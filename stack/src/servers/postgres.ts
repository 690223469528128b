import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { accountWhenRoot, chownTree, runRecipe } from '../install.js';
import type { Server } from './server.js';

/** The database the alerts subgraph uses; created on first start. */
export const POSTGRES_DATABASE = 'heimdall';
export const POSTGRES_USER = 'postgres';

async function query<T>(port: number, database: string, sql: string): Promise<T[] | undefined> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: POSTGRES_USER,
    database,
    connectionTimeoutMillis: 2000,
  });
  // A server shutting down (a restart during its first start) ends the connection with an 'error' event; unheard,
  // it would end this process. The query's own failure is answered below.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.query(sql)).rows as T[];
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const postgres: Server = {
  name: 'postgres',
  // SIGINT is PostgreSQL's "fast" shutdown: SIGTERM would wait for every client to disconnect.
  stopSignal: 'SIGINT',
  startTimeoutMs: 60_000,
  port: (config) => config.postgres.port,
  ports: (config) => [{ port: config.postgres.port, variable: 'POSTGRES_PORT' }],
  install: async (config) => ({ path: await runRecipe(config, 'debian', ['postgres']) }),
  async prepare(config, installed, dir) {
    const account = accountWhenRoot('postgres');
    const data = join(dir, 'data');
    const sockets = join(dir, 'run');
    await mkdir(sockets, { recursive: true });
    if (!existsSync(join(data, 'PG_VERSION'))) {
      await mkdir(data, { recursive: true });
      chownTree(dir, account);
      // Trust on loopback only: this cluster listens on 127.0.0.1 and holds local development data.
      const init = spawnSync(
        join(installed.path, 'initdb'),
        ['-D', data, '-U', POSTGRES_USER, '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8'],
        { ...account, encoding: 'utf8' },
      );
      if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
      await writeFile(join(data, 'postgresql.auto.conf'), "shared_buffers = '128MB'\nmax_connections = 200\n");
    }
    chownTree(dir, account);
    return {
      command: join(installed.path, 'postgres'),
      args: ['-D', data, '-p', String(config.postgres.port), '-k', sockets, '-c', 'listen_addresses=127.0.0.1'],
      ...account,
    };
  },
  async ready(config) {
    const rows = await query(config.postgres.port, 'postgres', 'select 1');
    if (rows === undefined) return false;
    const exists = await query(
      config.postgres.port,
      'postgres',
      `select 1 from pg_database where datname = '${POSTGRES_DATABASE}'`,
    );
    if (exists?.length === 0) await query(config.postgres.port, 'postgres', `create database ${POSTGRES_DATABASE}`);
    return (await query(config.postgres.port, POSTGRES_DATABASE, 'select 1')) !== undefined;
  },
  async version(config) {
    const rows = await query<{ server_version: string }>(config.postgres.port, 'postgres', 'show server_version');
    return rows?.[0]?.server_version.split(' ')[0];
  },
};
