import { randomUUID } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConsulClient } from '@heimdall/shared/discovery';
import { localStack } from '../test-stacks.js';
import { waitFor } from '../net.js';

const local = localStack(process.env);
const consul = new ConsulClient(local.endpoints.consulUrl);

/** A /health endpoint whose answer the test switches. */
async function healthEndpoint(): Promise<{ server: Server; port: number; setHealthy(ok: boolean): void }> {
  let healthy = true;
  const server = createServer((_req, res) => {
    res.writeHead(healthy ? 200 : 503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, setHealthy: (ok) => (healthy = ok) };
}

describe('Consul', () => {
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(() => local.require('consul'));
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('lists a service as passing while its /health answers, drops it when it fails, forgets it when deregistered', async () => {
    const health = await healthEndpoint();
    const name = `test-${randomUUID().slice(0, 8)}`;
    const id = `${name}-1`;
    cleanups.push(async () => {
      await consul.deregister(id);
      health.server.close();
    });
    await consul.register({
      name,
      id,
      address: '127.0.0.1',
      port: health.port,
      tags: ['test'],
      meta: { version: '0.1.0', graphql_path: '/graphql' },
      check: {
        http: `http://127.0.0.1:${health.port}/health`,
        interval: '1s',
        timeout: '1s',
        deregisterCriticalServiceAfter: '1m',
      },
    });
    const ids = async () => (await consul.passing(name)).instances.map((i) => i.id);

    expect(await waitFor(async () => (await ids()).includes(id), 15_000)).toBe(true);
    const [instance] = (await consul.passing(name)).instances;
    expect(instance).toMatchObject({ address: '127.0.0.1', port: health.port, meta: { graphql_path: '/graphql' } });

    health.setHealthy(false);
    expect(await waitFor(async () => (await ids()).length === 0, 15_000)).toBe(true);

    health.setHealthy(true);
    expect(await waitFor(async () => (await ids()).includes(id), 15_000)).toBe(true);

    await consul.deregister(id);
    expect(await ids()).toEqual([]);
  });

  it('wakes a blocking query when an instance becomes passing', async () => {
    const health = await healthEndpoint();
    const name = `test-${randomUUID().slice(0, 8)}`;
    const id = `${name}-1`;
    let { index, instances } = await consul.passing(name);
    expect(instances).toEqual([]);
    cleanups.push(async () => {
      await consul.deregister(id);
      health.server.close();
    });
    const registered = consul.register({
      name,
      id,
      address: '127.0.0.1',
      port: health.port,
      check: {
        http: `http://127.0.0.1:${health.port}/health`,
        interval: '1s',
        timeout: '1s',
        deregisterCriticalServiceAfter: '1m',
      },
    });
    const indexes = [index];
    // A new check starts critical, so the first wake-up may still list nothing; each answer carries a new index.
    while (instances.length === 0 && indexes.length < 5) {
      ({ index, instances } = await consul.passing(name, { index, wait: '20s' }));
      indexes.push(index);
    }
    await registered;
    expect(instances.map((i) => i.id)).toEqual([id]);
    expect(new Set(indexes).size).toBe(indexes.length);
  });
});
