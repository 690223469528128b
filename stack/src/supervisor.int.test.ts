import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { processSupervisor } from './supervisor.js';
import { REPO_DIR } from './test-stacks.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A throwaway service: a folder whose src/main.ts is `body`, inside the checkout so that tsx resolves as for a workspace. */
async function makeService(name: string, body: string) {
  await mkdir(join(REPO_DIR, '.stack'), { recursive: true });
  const dir = await mkdtemp(join(REPO_DIR, '.stack', 'supervised-'));
  dirs.push(dir);
  await mkdir(join(dir, 'src'));
  await writeFile(join(dir, 'src', 'main.ts'), body);
  return { name, dir };
}

describe('services under the supervisor, as real processes', () => {
  it('restarts a service that crashes, and stops it for good when asked', async () => {
    const crasher = await makeService(
      'crasher',
      `console.log(JSON.stringify({ event: 'ready' })); setTimeout(() => process.exit(3), 300);`,
    );
    const supervisor = processSupervisor({ initialBackoffMs: 100, maxBackoffMs: 200 });

    expect(await supervisor.start([crasher], process.env)).toEqual(['crasher: ready']);
    for (let waited = 0; (supervisor.restartCounts().crasher ?? 0) < 2 && waited < 30_000; waited += 100)
      await sleep(100);
    await supervisor.stop();
    const restarts = supervisor.restartCounts().crasher;
    await sleep(1000);

    expect(restarts).toBeGreaterThanOrEqual(2);
    expect(supervisor.restartCounts().crasher).toBe(restarts);
  });

  it('kills a service that ignores SIGTERM once the grace period is over', async () => {
    const stubborn = await makeService(
      'stubborn',
      `process.on('SIGTERM', () => undefined); console.log(JSON.stringify({ event: 'ready' })); setInterval(() => undefined, 1000);`,
    );
    const supervisor = processSupervisor({ stopGraceMs: 500 });
    await supervisor.start([stubborn], process.env);

    await supervisor.stop();

    expect(supervisor.restartCounts()).toEqual({ stubborn: 0 });
  });
});
