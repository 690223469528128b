import { LocalGraphQLDataSource } from '@apollo/gateway';
import type { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { toGraphQLError } from '@heimdall/shared/errors';
import type { ApiKeys } from './api-keys.js';
import { buildCatalogSchema } from './catalog.js';
import { CatalogDataSource } from './catalog-data-source.js';

const created: { name: string; createdBy: string; role: string }[] = [];
const apiKeys: ApiKeys = {
  create: (name, createdBy, role = 'agent') => {
    created.push({ name, createdBy, role });
    return Promise.resolve({
      record: { id: 'k1', name, createdAt: '2026-11-22T10:00:00.000Z', createdBy, role },
      key: 'hmd_secret',
    });
  },
  revoke: () => Promise.resolve(true),
  list: () => Promise.resolve([]),
  verify: () => Promise.resolve({ ok: false }),
};
const schema = buildCatalogSchema({ apiKeys });

const run = (source: CatalogDataSource | LocalGraphQLDataSource, query: string, variables?: Record<string, unknown>) =>
  source.process({
    request: { query, ...(variables === undefined ? {} : { variables }) },
    context: { caller: { kind: 'user', subject: 'root', roles: ['admin'] } },
  } as never);

describe('the catalog served in-process', () => {
  it("answers as Apollo's LocalGraphQLDataSource does, again and again", async () => {
    const ours = new CatalogDataSource(schema);
    const apollos = new LocalGraphQLDataSource(schema);
    const queries: [string, Record<string, unknown>?][] = [
      ['{ service(name: "checkout") { __typename name } }'],
      [
        'query($r: [_Any!]!) { _entities(representations: $r) { ... on Service { name } } }',
        { r: [{ __typename: 'Service', name: 'pay' }] },
      ],
      ['{ service(name: "x") { nope } }'],
      ['{ service(name: '],
    ];
    for (const [query, variables] of queries) {
      const expected = JSON.parse(JSON.stringify(await run(apollos, query, variables))) as unknown;
      for (let i = 0; i < 2; i++)
        expect(JSON.parse(JSON.stringify(await run(ours, query, variables)))).toEqual(expected);
    }
  });

  it('passes the request context on to the resolvers', async () => {
    const result = await run(new CatalogDataSource(schema), 'mutation { createApiKey(name: "edge") { key } }');
    expect(result).toEqual({ data: { createApiKey: { key: 'hmd_secret' } } });
    expect(created).toEqual([{ name: 'edge', createdBy: 'root', role: 'agent' }]);
  });

  it('makes a read-only key when asked for the VIEWER role, and says which role a key has', async () => {
    const result = await run(
      new CatalogDataSource(schema),
      'mutation { createApiKey(name: "grafana", role: VIEWER) { apiKey { role } } }',
    );
    expect(result).toEqual({ data: { createApiKey: { apiKey: { role: 'VIEWER' } } } });
    expect(created.at(-1)).toEqual({ name: 'grafana', createdBy: 'root', role: 'viewer' });
  });

  it('refuses a blank key name as every subgraph refuses an argument, naming it in extensions.argument', async () => {
    const result = await run(new CatalogDataSource(schema), 'mutation { createApiKey(name: "  ") { key } }');
    // In process the error is still the resolver's; the gateway's error formatting (toGraphQLError, what every
    // subgraph answers with) turns it into what the client reads.
    const [error] = (result.errors ?? []) as GraphQLError[];
    expect(toGraphQLError(error?.originalError).toJSON()).toMatchObject({
      message: expect.stringMatching(/^name: 1 to \d+ characters$/) as string,
      extensions: { code: 'BAD_USER_INPUT', argument: 'name' },
    });
  });
});
