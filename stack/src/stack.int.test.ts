import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { isListening } from './net.js';
import { REPO_DIR, localStack } from './test-stacks.js';

const run = promisify(execFile);
const cli = (args: string[], env: Record<string, string | undefined>) =>
  run(process.execPath, ['--import', 'tsx', join(REPO_DIR, 'stack', 'src', 'cli.ts'), ...args], {
    cwd: REPO_DIR,
    env: { ...process.env, ...env },
    timeout: 180_000,
  });

describe('the stack CLI', () => {
  it('leaves a running stack alone when asked to bring it up again', async () => {
    const local = localStack(process.env);
    await local.require();
    const pids = async () => (await local.stack.status(local.stack.servers)).map((s) => [s.name, s.pid]);
    const before = await pids();

    const { stdout } = await cli(['up'], {});

    expect(stdout).toContain('already up');
    expect(await pids()).toEqual(before);
  });

  describe('on a stack of its own', () => {
    // Separate data and ports, so stopping it does not disturb the stack the other tests use.
    const ports = {
      CONSUL_PORT: '18500',
      CONSUL_SERVER_PORT: '18300',
      CONSUL_SERF_LAN_PORT: '18301',
      POSTGRES_PORT: '15432',
      REDIS_PORT: '16379',
    };
    let env: Record<string, string>;
    afterAll(async () => {
      await cli(['down'], env);
      await rm(env.HEIMDALL_STACK_DIR!, { recursive: true, force: true });
    });

    it('starts once, is a no-op the second time, and stops leaving nothing listening', async () => {
      env = { ...ports, HEIMDALL_STACK_DIR: await mkdtemp(join(tmpdir(), 'heimdall-stack-')) };
      const servers = ['consul', 'postgres', 'redis'];

      const first = await cli(['up', ...servers], env);
      expect(first.stdout).toContain('started consul, postgres, redis');
      for (const port of Object.values(ports)) expect(await isListening(Number(port))).toBe(true);

      const second = await cli(['up', ...servers], env);
      expect(second.stdout).toContain('already up');

      const status = await cli(['status'], env);
      expect(status.stdout).toMatch(/^redis\s+up\s+16379\s+7\.\d+\.\d+\s+\d+/m);
      expect(status.stdout).toMatch(/^consul\s+up\s+18500\s+1\.22\.7\s+\d+/m);

      const down = await cli(['down'], env);
      expect(down.stdout).toContain('stopped consul, postgres, redis');
      for (const port of Object.values(ports)) expect(await isListening(Number(port))).toBe(false);
    });
  });
});
