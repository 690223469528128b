import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsulClient, ConsulError } from './consul-client.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A Consul that takes requests and never answers them, as one that hangs does. */
async function silentConsul(): Promise<string> {
  const server = createServer(() => undefined);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('ConsulClient', () => {
  it('gives up deregistering within its own short bound, not the long one of blocking queries', async () => {
    const consul = new ConsulClient(await silentConsul(), { requestTimeoutMs: 600_000, deregisterTimeoutMs: 200 });

    await expect(consul.deregister('metrics-1')).rejects.toBeInstanceOf(ConsulError);
  });
});
