import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRunning, launch, readPidFile, stopProcess, writePidFile } from './processes.js';

describe('processes the stack starts', () => {
  let dir: string;
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('recognises its own process by pid and start time, never a reused pid', async () => {
    dir = await mkdtemp(join(tmpdir(), 'heimdall-proc-'));
    const record = await launch({
      command: 'sleep',
      args: ['30'],
      env: { PATH: '/usr/bin:/bin' },
      logFile: join(dir, 'log'),
    });
    await writePidFile(join(dir, 'pid.json'), record);

    expect(await readPidFile(join(dir, 'pid.json'))).toEqual(record);
    expect(await isRunning(record)).toBe(true);
    expect(await isRunning({ pid: record.pid, startTime: '1' })).toBe(false);

    await stopProcess({ pid: record.pid, startTime: '1' }, 'SIGTERM', 1000);
    expect(await isRunning(record)).toBe(true);

    await stopProcess(record, 'SIGTERM', 5000);
    expect(await isRunning(record)).toBe(false);
  });

  it('escalates to SIGKILL when a process ignores the stop signal', async () => {
    const record = await launch({
      command: 'bash',
      args: ['-c', 'trap "" TERM; sleep 30 & wait; sleep 30'],
      env: { PATH: '/usr/bin:/bin' },
      logFile: join(dir, 'log'),
    });
    await stopProcess(record, 'SIGTERM', 300);
    expect(await isRunning(record)).toBe(false);
  });
});
