import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterEach, describe, expect, it } from 'vitest';
import { loadMigrations } from '@heimdall/shared/migrations';
import { createClickHouseClient } from './client.js';
import { MIGRATIONS_DIR, clickhouseMigrationTarget, migrate } from './migrations.js';

const serverUrl = process.env.CLICKHOUSE_URL;

describe('ClickHouse migrations', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  /** A fresh database (embedded: a data folder of its own) with the migrations up to `version` applied. */
  async function databaseAt(version: number): Promise<ClickHouseClient> {
    const dataDir = await mkdtemp(join(tmpdir(), 'heimdall-migrate-'));
    const partial = await mkdtemp(join(tmpdir(), 'heimdall-migrations-'));
    for (const file of await readdir(MIGRATIONS_DIR)) {
      if (Number(file.slice(0, 4)) <= version) await cp(join(MIGRATIONS_DIR, file), join(partial, file));
    }
    const client = createClickHouseClient({ url: serverUrl, dataDir });
    cleanups.push(async () => {
      await client.close();
      await rm(dataDir, { recursive: true, force: true });
      await rm(partial, { recursive: true, force: true });
    });
    await migrate(client, partial);
    return client;
  }

  const rows = async <T>(client: ClickHouseClient, query: string) =>
    (await client.query({ query, format: 'JSONEachRow' })).json<T>();

  it('keeps the series of an older database when it reorders the table, and lists them by service', async () => {
    const client = await databaseAt(3);
    await client.insert({
      table: 'series',
      values: [
        {
          fingerprint: '1',
          metric: 'cpu',
          type: 'gauge',
          unit: '1',
          description: 'busy',
          service: 'api',
          labels: { pod: 'a' },
          last_seen: Date.now(),
        },
        {
          fingerprint: '2',
          metric: 'mem',
          type: 'gauge',
          unit: 'By',
          description: '',
          service: 'db',
          labels: { pod: 'b' },
          last_seen: Date.now(),
        },
      ],
      format: 'JSONEachRow',
    });

    expect(await migrate(client)).toContain('0004_series_by_metric_and_retry_dedup.sql');

    expect(await rows(client, 'SELECT metric, service FROM series FINAL ORDER BY metric')).toEqual([
      { metric: 'cpu', service: 'api' },
      { metric: 'mem', service: 'db' },
    ]);
    expect(await rows(client, 'SELECT service, metric, type FROM service_metrics FINAL ORDER BY service')).toEqual([
      { service: 'api', metric: 'cpu', type: 'gauge' },
      { service: 'db', metric: 'mem', type: 'gauge' },
    ]);
    const [table] = await rows<{ sorting_key: string }>(
      client,
      "SELECT sorting_key FROM system.tables WHERE database = currentDatabase() AND name = 'series'",
    );
    expect(table?.sorting_key).toBe('metric, service, fingerprint');
    expect(await migrate(client)).toEqual([]);
  });

  it('keeps the samples of an older database and, after it, two points less than a millisecond apart', async () => {
    const client = await databaseAt(4);
    const ms = Date.now() - 60_000;
    await client.insert({
      table: 'samples',
      values: [{ fingerprint: '1', metric: 'cpu', timestamp: ms, value: 1 }],
      format: 'JSONEachRow',
    });
    expect(await migrate(client)).toContain('0005_sample_nanoseconds.sql');
    await client.insert({
      table: 'samples',
      values: [
        { fingerprint: '1', metric: 'cpu', timestamp: ms + 1, nanos: 0, value: 2 },
        { fingerprint: '1', metric: 'cpu', timestamp: ms + 1, nanos: 100_000, value: 3 },
      ],
      format: 'JSONEachRow',
    });
    await client.command({ query: 'OPTIMIZE TABLE samples FINAL' });
    expect(await rows(client, 'SELECT value, nanos FROM samples ORDER BY timestamp, nanos')).toEqual([
      { value: 1, nanos: 0 },
      { value: 2, nanos: 0 },
      { value: 3, nanos: 100_000 },
    ]);
    expect(await rows(client, 'SELECT toUInt32(countMerge(count_state)) AS n FROM samples_1m')).toEqual([{ n: 3 }]);
    // Run again, as a start interrupted before recording it would, the statement changes nothing.
    const [migration5] = (await loadMigrations(MIGRATIONS_DIR, 'sql')).filter((m) => m.version === 5);
    await client.command({ query: migration5!.body });
    const [table] = await rows<{ sorting_key: string }>(
      client,
      "SELECT sorting_key FROM system.tables WHERE database = currentDatabase() AND name = 'samples'",
    );
    expect(table?.sorting_key).toBe('fingerprint, timestamp, nanos');
  });

  it("reads a gauge's value as its extremes and a histogram's as unknown in an older database, and rolls up the extremes sent after", async () => {
    const client = await databaseAt(5);
    const ms = Date.now() - 60_000;
    const histogram = {
      metric: 'latency',
      timestamp: ms,
      value: 100,
      bucket_bounds: [1],
      bucket_counts: ['1', '2'],
      count: '3',
      sum: 100,
    };
    await client.insert({
      table: 'samples',
      values: [
        { fingerprint: '1', metric: 'cpu', timestamp: ms, value: 5 },
        { fingerprint: '2', ...histogram },
      ],
      format: 'JSONEachRow',
    });
    expect(await migrate(client)).toContain('0006_histogram_min_max.sql');
    await client.insert({
      table: 'samples',
      values: [{ fingerprint: '3', ...histogram, min: 0.5, max: 70 }],
      format: 'JSONEachRow',
    });
    // +Inf and -Inf, the identities of min and max, come back as null in JSON.
    expect(
      await rows(client, 'SELECT toUInt32(fingerprint) AS fingerprint, min, max FROM samples ORDER BY fingerprint'),
    ).toEqual([
      { fingerprint: 1, min: 5, max: 5 },
      { fingerprint: 2, min: null, max: null },
      { fingerprint: 3, min: 0.5, max: 70 },
    ]);
    expect(
      await rows(
        client,
        'SELECT minMerge(min_state) AS min, maxMerge(max_state) AS max FROM samples_1m WHERE fingerprint = 3',
      ),
    ).toEqual([{ min: 0.5, max: 70 }]);
  });

  it('reads the series of an older database with an empty scope', async () => {
    const client = await databaseAt(6);
    await client.insert({
      table: 'series',
      values: [
        {
          fingerprint: '1',
          metric: 'cpu',
          type: 'gauge',
          unit: '1',
          description: '',
          service: 'api',
          labels: { pod: 'a' },
          last_seen: Date.now(),
        },
      ],
      format: 'JSONEachRow',
    });
    expect(await migrate(client)).toContain('0007_series_scope.sql');
    expect(await rows(client, 'SELECT labels, scope_name, scope_version, scope_attributes FROM series FINAL')).toEqual([
      { labels: { pod: 'a' }, scope_name: '', scope_version: '', scope_attributes: {} },
    ]);
  });

  it('resumes an interrupted migration at the statement that did not finish, so the swap is not undone', async () => {
    const client = await databaseAt(3);
    const [migration4] = (await loadMigrations(MIGRATIONS_DIR, 'sql')).filter((m) => m.version === 4);
    // The first start got as far as the swap (statements 0-2) and died before recording the migration.
    const interrupted = { ...migration4!, body: migration4!.body.split(/;\s*$/m).slice(0, 3).join(';\n') + ';\n' };
    const target = clickhouseMigrationTarget(client);
    await target.applied();
    await target.apply(interrupted);
    await client.command({ query: 'DELETE FROM schema_migrations WHERE version = 4' });

    expect(await migrate(client)).toContain('0004_series_by_metric_and_retry_dedup.sql');

    const [table] = await rows<{ sorting_key: string }>(
      client,
      "SELECT sorting_key FROM system.tables WHERE database = currentDatabase() AND name = 'series'",
    );
    expect(table?.sorting_key).toBe('metric, service, fingerprint');
  });
});
