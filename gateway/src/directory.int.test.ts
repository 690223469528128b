import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConsulClient } from '@heimdall/shared/discovery';
import { localStack } from '@heimdall/stack';
import { SubgraphDirectory } from './directory.js';
import { type TestServer, listen } from './http.fixtures.js';
import { makeLogger } from './logger.fixtures.js';

const local = localStack(process.env);
const consul = new ConsulClient(local.endpoints.consulUrl);
const run = randomUUID().slice(0, 8);
// A tag and a service of this run alone, so that nothing else registered in the shared Consul shows up.
const TAG = `gateway-int-${run}`;
const SERVICE = `directory-int-${run}`;

/** Polls until `check` holds, for at most `ms`; returns whether it did. */
async function eventually(check: () => boolean, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(50);
  }
  return check();
}

describe('SubgraphDirectory against Consul', () => {
  let health: TestServer;
  let directory: SubgraphDirectory | undefined;
  const registered: string[] = [];

  const register = async (id: string) => {
    registered.push(id);
    await consul.register({
      name: SERVICE,
      id,
      address: '127.0.0.1',
      port: health.port,
      tags: [TAG],
      meta: { graphql_path: '/graphql' },
      check: {
        http: `http://127.0.0.1:${health.port}/health`,
        interval: '10s',
        timeout: '1s',
        deregisterCriticalServiceAfter: '1m',
        initialStatus: 'passing',
      },
    });
  };

  beforeAll(async () => {
    await local.require('consul');
    health = await listen((_request, response) => response.end('ok'));
  });
  afterAll(async () => {
    directory?.stop();
    for (const id of registered) await consul.deregister(id);
    await health.close();
  });

  it('follows registrations and deregistrations through blocking queries', async () => {
    await register(`${SERVICE}-1`);
    directory = new SubgraphDirectory(consul, TAG, makeLogger().logger);
    const changes = vi.fn<() => void>();
    directory.onChange(changes);
    await directory.start();
    expect(directory.available()).toEqual([SERVICE]);

    await register(`${SERVICE}-2`);
    expect(await eventually(() => directory!.passing(SERVICE).length === 2)).toBe(true);
    expect(await eventually(() => changes.mock.calls.length > 0)).toBe(true);

    for (const id of registered) await consul.deregister(id);
    expect(await eventually(() => directory!.available().length === 0)).toBe(true);
  });
});
