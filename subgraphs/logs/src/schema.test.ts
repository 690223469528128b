import { createRequire } from 'node:module';
import type * as GraphQL from 'graphql';
import { describe, expect, it } from 'vitest';
import type { HeimdallError } from '@heimdall/shared/errors';
import { DEFAULT_QUERY_LIMITS, listLogs, logFacets, logPatterns, logSearch } from './log-queries.js';
import { type LogsContext, buildSchema } from './schema.js';
import type { LogReader } from './store/index.js';

/** Arguments are checked before anything is asked: a store and a queue that fail the test if they are. */
const untouched = <T>() =>
  new Proxy({}, { get: (_, name) => () => Promise.reject(new Error(`asked for ${String(name)}`)) }) as T;
const context = {
  store: untouched<LogReader>(),
  queue: untouched(),
  traceLogs: untouched(),
  limits: DEFAULT_QUERY_LIMITS,
} as unknown as LogsContext;
// The schema is built by @apollo/subgraph, which loads graphql's CommonJS build; an ESM import would be a second copy.
const { graphql } = createRequire(import.meta.url)('graphql') as typeof GraphQL;
const HOUR = { from: '2026-11-22T10:00:00Z', to: '2026-11-22T11:00:00Z' };

describe('size arguments', () => {
  it('are whole numbers from 1 to their maximum, or BAD_USER_INPUT naming the argument', async () => {
    const store = untouched<LogReader>();
    for (const first of [0, -5, 1001]) {
      await expect(logSearch(store, { filter: { range: HOUR }, first }, DEFAULT_QUERY_LIMITS)).rejects.toMatchObject({
        code: 'BAD_USER_INPUT',
        message: `first: must be from 1 to 1000, not ${first}`,
      });
    }
    await expect(listLogs(store, { range: HOUR }, 0, DEFAULT_QUERY_LIMITS)).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { argument: 'limit', max: 1000 },
    });
    await expect(logFacets(store, { range: HOUR }, 0, DEFAULT_QUERY_LIMITS)).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { argument: 'limit', max: 100 },
    });
    await expect(logPatterns(store, { range: HOUR }, 101, DEFAULT_QUERY_LIMITS)).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { argument: 'limit', max: 100 },
    });
  });

  it('of logIngestFailures and Service.logs are refused too, not clamped', async () => {
    const run = async (source: string) =>
      (await graphql({ schema: buildSchema(), source, contextValue: context })).errors?.map((e) => [
        e.message,
        (e.originalError as HeimdallError | undefined)?.code,
      ]);
    expect(await run('{ logIngestFailures(first: 0) { id } }')).toEqual([
      ['first: must be from 1 to 1000, not 0', 'BAD_USER_INPUT'],
    ]);
    expect(await run('{ logIngestFailures(first: 100000) { id } }')).toEqual([
      ['first: must be from 1 to 1000, not 100000', 'BAD_USER_INPUT'],
    ]);
    expect(
      await run(
        '{ _entities(representations: [{ __typename: "Service", name: "checkout" }]) { ... on Service { logs(limit: 5000) { id } } } }',
      ),
    ).toEqual([['limit: must be from 1 to 1000, not 5000', 'BAD_USER_INPUT']]);
  });

  it('of filters bound service names and label keys and values', async () => {
    const store = untouched<LogReader>();
    const refused = (filter: Record<string, unknown>) =>
      listLogs(store, { range: HOUR, ...filter }, 10, DEFAULT_QUERY_LIMITS);
    await expect(refused({ services: ['ok', 's'.repeat(257)] })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { argument: 'services[1]' },
    });
    await expect(refused({ labels: [{ key: 'k'.repeat(257), op: 'EQ', value: 'v' }] })).rejects.toMatchObject({
      details: { argument: 'labels[0].key' },
    });
    await expect(refused({ labels: [{ key: 'k', op: 'EQ', value: 'v'.repeat(1025) }] })).rejects.toMatchObject({
      details: { argument: 'labels[0].value' },
    });
  });
});
