import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceInstance } from './consul-client.js';
import { PeerClient, type PeerClientOptions } from './peer-client.js';
import { SERVICE_AUTH_HEADER, ServiceTokens } from '../auth/service-token.js';
import { ResilienceMetrics, createResiliencePolicy } from '../resilience/policy.js';
import { ServiceMetrics } from '../telemetry/service-metrics.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/** A peer instance on 127.0.0.1 answering every POST with `status` and `body`; counts what it received. */
async function makeInstance(
  status: number,
  body: unknown,
): Promise<{ instance: ServiceInstance; received: string[]; headers: IncomingHttpHeaders[] }> {
  const received: string[] = [];
  const headers: IncomingHttpHeaders[] = [];
  const server = createServer((request, response) => {
    let text = '';
    headers.push(request.headers);
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      received.push(`${request.url} ${text}`);
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    instance: { id: `peer-${port}`, name: 'metrics', address: '127.0.0.1', port, tags: [], meta: {} },
    received,
    headers,
  };
}

function makeClient(instances: ServiceInstance[], headers?: PeerClientOptions['headers']) {
  const policy = createResiliencePolicy(
    'peer',
    { retry: { initialDelayMs: 1, maxDelayMs: 2 } },
    new ResilienceMetrics(new ServiceMetrics({ service: 't', instance: 't' }).registry),
  );
  return new PeerClient(
    { passing: () => Promise.resolve({ instances, index: '1' }) },
    { service: 'metrics', policy, ...(headers === undefined ? {} : { headers }) },
  );
}

describe('PeerClient', () => {
  it('answers a query from a passing instance, trying the next one when an instance is unavailable', async () => {
    const down = await makeInstance(503, { error: 'busy' });
    const up = await makeInstance(200, { data: { metricNames: [{ name: 'cpu' }] } });

    const data = await makeClient([down.instance, up.instance]).graphql<{ metricNames: { name: string }[] }>(
      '{ metricNames { name } }',
    );

    expect(data).toEqual({ metricNames: [{ name: 'cpu' }] });
    expect(down.received).toHaveLength(1);
    expect(up.received).toEqual([`/graphql ${JSON.stringify({ query: '{ metricNames { name } }', variables: {} })}`]);
  });

  it("passes the peer's verdict on a bad request through as that catalog error", async () => {
    const peer = await makeInstance(200, {
      data: null,
      errors: [{ message: 'step: "x" is not a duration', extensions: { code: 'BAD_USER_INPUT' } }],
    });

    await expect(makeClient([peer.instance]).graphql('{ q }')).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'step: "x" is not a duration',
    });
  });

  it("carries the service's internal token on every call", async () => {
    const peer = await makeInstance(200, { data: { ok: true } });
    const tokens = new ServiceTokens({ service: 'alerts', secrets: ['s'.repeat(40)] });

    await makeClient([peer.instance], () => tokens.headers()).graphql('{ ok }');

    const token = peer.headers[0]?.[SERVICE_AUTH_HEADER];
    expect(await tokens.verify(String(token))).toMatchObject({
      ok: true,
      caller: { kind: 'service', subject: 'service:alerts' },
    });
  });

  it('is UNAVAILABLE when Consul lists no passing instance', async () => {
    await expect(makeClient([]).graphql('{ q }')).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      details: { service: 'metrics' },
    });
  });

  it('does not repeat a mutation the peer may have applied', async () => {
    const down = await makeInstance(503, {});
    const up = await makeInstance(200, { data: { ok: true } });

    await expect(
      makeClient([down.instance, up.instance]).graphql('mutation { ok }', {}, { mutation: true }),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(up.received).toEqual([]);
  });
});
