import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouseClient } from './client.js';

// With CLICKHOUSE_URL the same test runs against a ClickHouse server; otherwise against the embedded engine.
const serverUrl = process.env.CLICKHOUSE_URL;

describe('ClickHouse through @clickhouse/client', () => {
  let dataDir: string;
  let client: ClickHouseClient;
  const open = () => createClickHouseClient({ url: serverUrl, dataDir });
  const database = `heimdall_test_${process.pid}`;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'heimdall-chdb-'));
    client = open();
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
    await client.command({
      query: `CREATE TABLE ${database}.samples (
        name LowCardinality(String),
        labels Map(String, String),
        timestamp DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD),
        value Float64 CODEC(Gorilla, ZSTD)
      ) ENGINE = MergeTree PARTITION BY toDate(timestamp) ORDER BY (name, labels, timestamp)
      TTL toDateTime(timestamp) + INTERVAL 90 DAY`,
    });
    await client.command({
      query: `CREATE TABLE ${database}.samples_1m (
        name LowCardinality(String),
        labels Map(String, String),
        minute DateTime('UTC'),
        avg_state AggregateFunction(avg, Float64),
        count_state AggregateFunction(count),
        max_state AggregateFunction(max, Float64)
      ) ENGINE = AggregatingMergeTree PARTITION BY toDate(minute) ORDER BY (name, labels, minute)`,
    });
    await client.command({
      query: `CREATE MATERIALIZED VIEW ${database}.samples_1m_mv TO ${database}.samples_1m AS
        SELECT name, labels, toStartOfMinute(timestamp) AS minute,
               avgState(value) AS avg_state, countState() AS count_state, maxState(value) AS max_state
        FROM ${database}.samples GROUP BY name, labels, minute`,
    });
  });

  afterAll(async () => {
    await client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await client.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('rolls raw samples up per minute through a materialized view that agrees with the raw data', async () => {
    const start = Date.UTC(2026, 10, 22, 10, 0, 0);
    const rows = Array.from({ length: 600 }, (_, i) => ({
      name: 'http_requests_total',
      labels: { service: i % 2 === 0 ? 'checkout' : 'payments', region: 'eu' },
      timestamp: start + i * 1000,
      value: (i * 7) % 100,
    }));
    // Two inserts land in two parts: the rollup must merge their partial states correctly.
    await client.insert({ table: `${database}.samples`, values: rows.slice(0, 250), format: 'JSONEachRow' });
    await client.insert({ table: `${database}.samples`, values: rows.slice(250), format: 'JSONEachRow' });

    const raw = await client.query({
      query: `SELECT labels['service'] AS service, toStartOfMinute(toDateTime(timestamp)) AS minute, avg(value) AS avg, count() AS count, max(value) AS max
              FROM ${database}.samples GROUP BY service, minute ORDER BY service, minute`,
      format: 'JSONEachRow',
    });
    const rollup = await client.query({
      query: `SELECT labels['service'] AS service, minute, avgMerge(avg_state) AS avg, countMerge(count_state) AS count, maxMerge(max_state) AS max
              FROM ${database}.samples_1m GROUP BY service, minute ORDER BY service, minute`,
      format: 'JSONEachRow',
    });
    const rawRows = await raw.json<{ service: string; count: string }>();
    expect(rawRows).toHaveLength(20);
    expect(rawRows.reduce((sum, r) => sum + Number(r.count), 0)).toBe(600);
    expect(await rollup.json()).toEqual(rawRows);
  });

  it('keeps the data after the client is closed and opened again', async () => {
    await client.insert({
      table: `${database}.samples`,
      values: [{ name: 'persisted', labels: {}, timestamp: Date.now(), value: 42 }],
      format: 'JSONEachRow',
    });
    await client.close();
    client = open();
    const result = await client.query({
      query: `SELECT value FROM ${database}.samples WHERE name = {name:String}`,
      query_params: { name: 'persisted' },
      format: 'JSONEachRow',
    });
    expect(await result.json()).toEqual([{ value: 42 }]);
  });
});
