import { afterEach, describe, expect, it } from 'vitest';
import { type Caller, serviceCaller } from './caller.js';
import { as, closeApps, graphql, makeSubgraph, person } from './subgraph-app.fixtures.js';

afterEach(closeApps);

describe('roles behind the gateway', () => {
  it('answers a read for the caller the token names', async () => {
    const { app } = await makeSubgraph();
    const response = await graphql(app, '{ whoami }', await as(person('viewer')));
    expect(response.json()).toEqual({ data: { whoami: 'ana' } });
  });

  it("refuses a viewer's mutation with 403 FORBIDDEN before it runs, and runs an editor's", async () => {
    const { app, marked } = await makeSubgraph();
    const refused = await graphql(app, 'mutation { markSeries }', await as(person('viewer')));
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toEqual({
      errors: [{ message: 'Insufficient permissions', extensions: { code: 'FORBIDDEN' } }],
    });
    expect(marked).not.toHaveBeenCalled();

    const allowed = await graphql(app, 'mutation { markSeries }', await as(person('editor')));
    expect(allowed.json()).toEqual({ data: { markSeries: true } });
  });

  it('sees a root field selected through a fragment', async () => {
    const { app, marked } = await makeSubgraph();
    const response = await graphql(
      app,
      'mutation { ...M } fragment M on Mutation { markSeries }',
      await as(person('viewer')),
    );
    expect(response.statusCode).toBe(403);
    expect(marked).not.toHaveBeenCalled();
  });

  it('lets agents and Heimdall services ingest, and refuses viewers with 403', async () => {
    const { app, ingested } = await makeSubgraph();
    const push = async (caller: Caller) =>
      (
        await app.inject({
          method: 'POST',
          url: '/v1/metrics',
          headers: { 'content-type': 'application/json', ...(await as(caller)) },
          payload: '{}',
        })
      ).statusCode;
    expect(await push(person('agent'))).toBe(200);
    expect(await push(serviceCaller('traces'))).toBe(200);
    expect(await push(person('viewer'))).toBe(403);
    expect(ingested).toHaveBeenCalledTimes(2);
  });
});
