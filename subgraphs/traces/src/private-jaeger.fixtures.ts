import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_DIR, SERVERS, Stack, freeTestPort, loadStackConfig, stackEndpoints } from '@heimdall/stack';

/**
 * A Jaeger of a test's own, started from the stack's own server definition on free ports with its data in a temp
 * folder, so that a test may stop, pause and restart it: the shared stack's Jaeger is never touched.
 */
export interface PrivateJaeger {
  readonly queryUrl: string;
  /** The OTLP/HTTP traces receiver, `…/v1/traces`. */
  readonly otlpUrl: string;
  up(): Promise<void>;
  down(): Promise<void>;
  /** SIGSTOP: the process holds its connections but answers nothing, as a hung Jaeger would. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Stops it and removes its data. */
  remove(): Promise<void>;
}

export async function startPrivateJaeger(env: Record<string, string | undefined>): Promise<PrivateJaeger> {
  const dir = await mkdtemp(join(tmpdir(), 'heimdall-jaeger-'));
  const tcp = ['JAEGER_QUERY_PORT', 'JAEGER_QUERY_GRPC_PORT', 'JAEGER_OTLP_GRPC_PORT', 'JAEGER_OTLP_HTTP_PORT', 'JAEGER_THRIFT_HTTP_PORT', 'JAEGER_HEALTH_PORT'];
  const udp = ['JAEGER_THRIFT_COMPACT_PORT', 'JAEGER_THRIFT_BINARY_PORT'];
  const ports: Record<string, string> = {};
  for (const name of tcp) ports[name] = String(await freeTestPort());
  for (const name of udp) ports[name] = String(await freeTestPort());
  const config = loadStackConfig({ ...env, ...ports, HEIMDALL_STACK_DIR: dir }, REPO_DIR);
  const stack = new Stack(config, SERVERS.filter((s) => s.name === 'jaeger'));
  const endpoints = stackEndpoints(config);
  const signal = async (name: NodeJS.Signals) => {
    const running = await stack.process(stack.servers[0]!);
    if (running === undefined) throw new Error('the private Jaeger is not running');
    process.kill(running.pid, name);
  };
  const jaeger: PrivateJaeger = {
    queryUrl: endpoints.jaegerQueryUrl,
    otlpUrl: `${endpoints.jaegerOtlpHttpUrl}/v1/traces`,
    up: async () => void (await stack.up(stack.servers)),
    down: async () => void (await stack.down(stack.servers)),
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    remove: async () => {
      await jaeger.resume().catch(() => undefined);
      await jaeger.down();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await jaeger.up();
  return jaeger;
}
