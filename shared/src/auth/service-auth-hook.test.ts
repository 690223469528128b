import { fromBinary } from '@bufbuild/protobuf';
import { afterEach, describe, expect, it } from 'vitest';
import { RpcStatusSchema } from '../otlp/schema.js';
import { SERVICE_AUTH_HEADER, ServiceTokens } from './service-token.js';
import { closeApps, graphql, makeSubgraph, person } from './subgraph-app.fixtures.js';

afterEach(closeApps);

describe('a subgraph reached without the gateway', () => {
  it('refuses GraphQL without an internal token (401)', async () => {
    const { app } = await makeSubgraph();
    const response = await graphql(app, '{ whoami }');
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({
      error: { code: 'UNAUTHENTICATED', message: 'Missing or invalid X-Service-Auth header' },
    });
  });

  it('refuses a forged internal token (401)', async () => {
    const { app } = await makeSubgraph();
    const forged = await new ServiceTokens({ service: 'gateway', secrets: ['f'.repeat(40)] }).sign(person('admin'));
    const response = await graphql(app, '{ whoami }', { [SERVICE_AUTH_HEADER]: forged });
    expect(response.statusCode).toBe(401);
    expect(response.json<{ error: { message: string } }>().error.message).toBe('Invalid token');
  });

  it('refuses OTLP ingest without a token in the OTLP error shape, and stores nothing', async () => {
    const { app, ingested } = await makeSubgraph();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/metrics',
      headers: { 'content-type': 'application/x-protobuf' },
      payload: Buffer.alloc(0),
    });
    expect(response.statusCode).toBe(401);
    expect(response.headers['content-type']).toBe('application/x-protobuf');
    expect(fromBinary(RpcStatusSchema, response.rawPayload)).toMatchObject({
      code: 16,
      message: 'Missing or invalid X-Service-Auth header',
    });
    expect(ingested).not.toHaveBeenCalled();
  });

  it('keeps the probes open', async () => {
    const { app } = await makeSubgraph();
    expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(200);
  });
});
