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
