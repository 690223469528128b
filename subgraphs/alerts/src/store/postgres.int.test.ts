import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResilienceMetrics, createResiliencePolicy } from '@heimdall/shared/resilience';
import { ServiceMetrics } from '@heimdall/shared/telemetry';
import { localStack } from '@heimdall/stack';
import { PostgresStore } from './postgres.js';
import { retireInstances } from '../evaluation/finished-evaluation.js';
import { RulesStore } from './rule-store.js';
import { migrate } from './migrations.js';
import { type TestDatabase, createTestDatabase } from './test-database.fixtures.js';

const local = localStack(process.env);

describe('the alerts store on PostgreSQL', () => {
  const pools: pg.Pool[] = [];
  let database: TestDatabase;
  /** A store on a pool of one connection, so that a connection held too long shows at once. */
  const storeWith = (policyTimeoutMs: number, statementTimeoutMs: number) => {
    const pool = new pg.Pool({ connectionString: database.url, max: 1 });
    pools.push(pool);
    const policy = createResiliencePolicy(
      'postgres',
      { timeoutMs: policyTimeoutMs, breaker: { minimumRequests: 100 } },
      new ResilienceMetrics(new ServiceMetrics({ service: 't', instance: 't' }).registry),
    );
    return new PostgresStore(pool, policy, { statementTimeoutMs });
  };

  beforeAll(async () => {
    await local.require('postgres');
    database = await createTestDatabase(local.endpoints.postgresUrl);
    const pool = new pg.Pool({ connectionString: database.url, max: 1 });
    pools.push(pool);
    await migrate(pool);
  });
  afterAll(async () => {
    for (const pool of pools) await pool.end();
    await database?.drop();
  });

  it('has PostgreSQL stop a statement that runs past statement_timeout, answered UNAVAILABLE', async () => {
    const store = storeWith(10_000, 200);

    await expect(store.query('SELECT pg_sleep(5)')).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      details: { service: 'postgres' },
    });
    expect(await store.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('gives the connection back when a call times out, so the next call is not stuck behind the slow one', async () => {
    const store = storeWith(300, 10_000);

    await expect(store.query('SELECT pg_sleep(5)')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    // Within its own 300 ms: the pool's only connection is free again, not held by the statement still sleeping.
    expect(await store.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('answers a malformed rule id with BAD_USER_INPUT naming the argument, before any query', async () => {
    const rules = new RulesStore(storeWith(3000, 3000), retireInstances);

    await expect(rules.byId('not-a-uuid')).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { argument: 'id' },
    });
    expect(await rules.byId('00000000-0000-4000-8000-000000000000')).toBeUndefined();
  });
});
