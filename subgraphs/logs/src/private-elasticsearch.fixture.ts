// An Elasticsearch of a test's own, from the local stack's server definition (same install, same nori plugin) on free
// ports with a temporary state directory: tests that stop Elasticsearch or need a cluster in a given state never
// touch the shared one. Stopped by its pid file (the stack's `down`).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_DIR, SERVERS, Stack, freeTestPort, loadStackConfig } from '@heimdall/stack';

export interface PrivateElasticsearch {
  readonly url: string;
  /** Starts it again after `stop` (its data kept). */
  start(): Promise<void>;
  /** Stops it as `npm run stack -- down elasticsearch` would. */
  stop(): Promise<void>;
  /** Stops it and removes its directory. */
  remove(): Promise<void>;
}

export async function startPrivateElasticsearch(env: Record<string, string | undefined>): Promise<PrivateElasticsearch> {
  const dir = await mkdtemp(join(tmpdir(), 'heimdall-es-'));
  const [port, transportPort] = [await freeTestPort(), await freeTestPort()];
  const config = loadStackConfig(
    { ...env, HEIMDALL_STACK_DIR: dir, ES_PORT: String(port), ES_TRANSPORT_PORT: String(transportPort), ES_HEAP: '512m' },
    REPO_DIR,
  );
  const server = SERVERS.find((s) => s.name === 'elasticsearch')!;
  const stack = new Stack(config, [server]);
  const start = async () => {
    await stack.up([server]);
  };
  const stop = async () => {
    await stack.down([server]);
  };
  try {
    await start();
  } catch (error) {
    await stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    start,
    stop,
    async remove() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
