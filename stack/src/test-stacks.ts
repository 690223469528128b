import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createSocket } from 'node:dgram';
import { createServer as createNetServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type StackConfig, loadStackConfig } from './config.js';
import { type StackEndpoints, stackEndpoints } from './endpoints.js';
import { SERVERS } from './servers/index.js';
import { Stack } from './stack.js';

export const REPO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface LocalStack {
  readonly config: StackConfig;
  readonly endpoints: StackEndpoints;
  readonly stack: Stack;
  /** Fails (never skips) with how to start the server when it is not up and ready. */
  require(...names: string[]): Promise<void>;
}

/** The local stack as integration tests see it, configured by the same variables as the stack CLI. */
export function localStack(env: Record<string, string | undefined>): LocalStack {
  const config = loadStackConfig(env, REPO_DIR);
  const stack = new Stack(config, SERVERS);
  return {
    config,
    endpoints: stackEndpoints(config),
    stack,
    async require(...names) {
      for (const server of stack.select(names)) {
        if (!(await server.ready(config))) {
          throw new Error(
            `${server.name} is not ready on 127.0.0.1:${server.port(config)}. ` +
              'Start the local stack with `npm run stack -- up` (or run everything with `npm test`).',
          );
        }
      }
    },
  };
}

/**
 * A port free on 127.0.0.1 for TCP and UDP alike, for a server a test stops and starts again. It is taken below the
 * kernel's ephemeral range (32768 and up), never from it: a port the kernel hands out for `listen(0)` is freed when
 * the server stops, and any other test's listener could be given it before the server starts again (a private
 * Jaeger restarted on its ports then finds another test's server answering there).
 */
export async function freeTestPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if ((await bindable(port, 'tcp')) && (await bindable(port, 'udp'))) return port;
  }
}

async function bindable(port: number, protocol: 'tcp' | 'udp'): Promise<boolean> {
  return new Promise((resolve) => {
    if (protocol === 'tcp') {
      const server = createNetServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    } else {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    }
  });
}

export interface PrivateStack {
  readonly config: StackConfig;
  readonly endpoints: StackEndpoints;
  readonly stack: Stack;
  /** Starts its servers again after `down`, their data kept. */
  up(): Promise<void>;
  /** Stops its servers as `npm run stack -- down` would (by their pid files). */
  down(): Promise<void>;
  /** SIGSTOP to each server: the process holds its connections but answers nothing, as a hung server would. */
  pause(): Promise<void>;
  /** SIGCONT after `pause`. */
  resume(): Promise<void>;
  /** Stops the servers (paused or not) and removes their state. */
  remove(): Promise<void>;
}

/**
 * Servers of the stack of a test's own, on free ports with a state directory of their own, for a test (or a bench)
 * that stops, pauses, restarts or breaks them, or needs a server in a given state: the shared stack the other tests
 * use is never touched. Installs are the shared cache's. `settings` are stack variables (`ES_HEAP`, …) over `env`'s
 * and over the private default of a 512m Elasticsearch heap; the ports are always the private stack's own.
 */
export async function privateStack(
  names: readonly string[],
  env: Record<string, string | undefined>,
  settings: Record<string, string> = {},
): Promise<PrivateStack> {
  await mkdir(join(REPO_DIR, '.stack'), { recursive: true });
  const stackDir = await mkdtemp(join(REPO_DIR, '.stack', 'private-'));
  const overrides: Record<string, string> = { ES_HEAP: '512m', ...settings, HEIMDALL_STACK_DIR: stackDir };
  const servers = SERVERS.filter((s) => names.includes(s.name));
  for (const server of servers) {
    const defaults = loadStackConfig({ ...env, ...overrides }, REPO_DIR);
    for (const use of [...server.ports(defaults), ...(server.udpPorts?.(defaults) ?? [])])
      overrides[use.variable] = String(await freeTestPort());
  }
  const config = loadStackConfig({ ...env, ...overrides }, REPO_DIR);
  const stack = new Stack(config, servers);
  const signal = async (name: NodeJS.Signals) => {
    for (const server of servers) {
      const running = await stack.process(server);
      if (running === undefined) throw new Error(`the private ${server.name} is not running`);
      process.kill(running.pid, name);
    }
  };
  const remove = async () => {
    await signal('SIGCONT').catch(() => undefined);
    await stack.down(servers);
    await rm(stackDir, { recursive: true, force: true });
  };
  try {
    await stack.up(servers);
  } catch (error) {
    await remove().catch(() => undefined);
    throw error;
  }
  return {
    config,
    endpoints: stackEndpoints(config),
    stack,
    up: async () => void (await stack.up(servers)),
    down: async () => void (await stack.down(servers)),
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    remove,
  };
}
