import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PrivateStack, privateStack } from '../test-stacks.js';

describe('PostgreSQL', () => {
  // A server of the test's own: restarting the shared one would pull it from under the other tests.
  let own: PrivateStack;
  beforeAll(async () => {
    own = await privateStack(['postgres'], process.env);
  }, 120_000);
  afterAll(() => own.remove());

  async function withClient<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: own.endpoints.postgresUrl });
    await client.connect();
    try {
      return await use(client);
    } finally {
      await client.end();
    }
  }

  it('keeps a committed row across a server restart', async () => {
    const table = `restart_${randomUUID().replaceAll('-', '')}`;
    await withClient(async (c) => {
      await c.query(`create table ${table} (id serial primary key, note text not null)`);
      await c.query(`insert into ${table} (note) values ($1)`, ['survives restarts']);
    });

    await own.down();
    await own.up();

    const notes = await withClient(async (c) =>
      (await c.query<{ note: string }>(`select note from ${table}`)).rows.map((r) => r.note),
    );
    expect(notes).toEqual(['survives restarts']);
  });
});
