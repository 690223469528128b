import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { localStack } from '../testing.js';

const local = localStack(process.env);

async function withClient<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: local.endpoints.postgresUrl });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

describe('PostgreSQL', () => {
  beforeAll(() => local.require('postgres'));

  it('keeps a committed row across a server restart', async () => {
    const table = `restart_${randomUUID().replaceAll('-', '')}`;
    await withClient(async (c) => {
      await c.query(`create table ${table} (id serial primary key, note text not null)`);
      await c.query(`insert into ${table} (note) values ($1)`, ['survives restarts']);
    });

    const [server] = local.stack.select(['postgres']);
    await local.stack.down([server!]);
    await local.stack.up([server!]);

    const notes = await withClient(async (c) => {
      const rows = (await c.query<{ note: string }>(`select note from ${table}`)).rows;
      await c.query(`drop table ${table}`);
      return rows.map((r) => r.note);
    });
    expect(notes).toEqual(['survives restarts']);
  });
});
