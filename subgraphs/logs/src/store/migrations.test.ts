import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { loadMigrations } from '@heimdall/shared/migrations';
import { MIGRATIONS_DIR, TEMPLATE_FILE, migrationRequests } from './migrations.js';

describe('Elasticsearch migrations', () => {
  it('ship as lists of requests, the template read from its own file', async () => {
    const migrations = await loadMigrations(MIGRATIONS_DIR, 'json');
    expect(migrations.map((m) => m.name)).toEqual([
      '0001_logs_template_and_write_alias.json',
      '0002_sortable_id_in_the_first_index.json',
    ]);
    const [template] = await migrationRequests(migrations[0]!);
    expect(template).toMatchObject({ method: 'PUT', path: '/_index_template/heimdall-logs' });
    expect(template?.body).toEqual(JSON.parse(await readFile(TEMPLATE_FILE, 'utf8')));
  });

  it('refuse a file that is not a list of requests, naming it', async () => {
    const migration = (body: string) => ({ version: 9, name: '0009_broken.json', body });
    await expect(migrationRequests(migration('{'))).rejects.toThrow(/^0009_broken\.json: not JSON/);
    await expect(migrationRequests(migration('[{"method":"PATCH","path":"/x"}]'))).rejects.toThrow(
      /^0009_broken\.json: not a list of requests/,
    );
    await expect(migrationRequests(migration('[{"method":"PUT","path":"/x","unless":"y"}]'))).rejects.toThrow(/unless/);
  });
});
