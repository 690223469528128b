import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A process the stack started. The kernel's start time is kept with the pid so that a pid reused by an
 * unrelated process after a reboot is never mistaken for ours (and never signalled).
 */
export interface PidRecord {
  readonly pid: number;
  readonly startTime: string;
}

export interface LaunchSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly uid?: number;
  readonly gid?: number;
  readonly logFile: string;
}

async function processStartTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing ')'.
    const afterName = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = afterName[0];
    if (state === 'Z' || state === 'X') return undefined;
    return afterName[19];
  } catch {
    return undefined;
  }
}

/** Starts a detached process that outlives this CLI, its output appended to `logFile`. */
export async function launch(spec: LaunchSpec): Promise<PidRecord> {
  const log = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...spec.env },
      detached: true,
      stdio: ['ignore', log, log],
      ...(spec.uid === undefined ? {} : { uid: spec.uid, gid: spec.gid }),
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => resolve(child.pid!));
    });
    child.unref();
    const startTime = await processStartTime(pid);
    if (startTime === undefined) throw new Error(`${spec.command} exited at once; see ${spec.logFile}`);
    return { pid, startTime };
  } finally {
    closeSync(log);
  }
}

export async function isRunning(record: PidRecord): Promise<boolean> {
  return (await processStartTime(record.pid)) === record.startTime;
}

export async function readPidFile(path: string): Promise<PidRecord | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<PidRecord>;
    if (typeof parsed.pid !== 'number' || typeof parsed.startTime !== 'string') return undefined;
    return { pid: parsed.pid, startTime: parsed.startTime };
  } catch {
    return undefined;
  }
}

export async function writePidFile(path: string, record: PidRecord): Promise<void> {
  await writeFile(path, `${JSON.stringify(record)}\n`);
}

export async function removePidFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** Signals the process and waits for it to exit; escalates to SIGKILL after `graceMs`. */
export async function stopProcess(record: PidRecord, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (!(await isRunning(record))) return;
  process.kill(record.pid, signal);
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!(await isRunning(record))) return;
    await sleep(100);
  }
  if (await isRunning(record)) process.kill(record.pid, 'SIGKILL');
  while (await isRunning(record)) await sleep(50);
}

async function children(pid: number): Promise<number[]> {
  try {
    const tasks = await readdir(`/proc/${pid}/task`);
    const lists = await Promise.all(
      tasks.map((t) => readFile(`/proc/${pid}/task/${t}/children`, 'utf8').catch(() => '')),
    );
    return lists.flatMap((list) =>
      list
        .split(' ')
        .filter((p) => p !== '')
        .map(Number),
    );
  } catch {
    return [];
  }
}

/**
 * Resident memory of a process and its descendants in bytes (0 when it is gone): Elasticsearch's launcher,
 * for one, runs the server JVM as a child. `anonymous` (`RssAnon`) is what a program allocated (heaps, stacks), the
 * part a leak grows; the rest is pages of mapped files (a store's data files, which the kernel may take back) and
 * shared memory (PostgreSQL's buffers), which grow with what a store holds and are bounded by it.
 */
export async function residentMemory(pid: number): Promise<{ readonly total: number; readonly anonymous: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  if (status === undefined) return { total: 0, anonymous: 0 };
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  const descendants = await Promise.all((await children(pid)).map(residentMemory));
  return descendants.reduce((sum, d) => ({ total: sum.total + d.total, anonymous: sum.anonymous + d.anonymous }), {
    total: kib('VmRSS'),
    anonymous: kib('RssAnon'),
  });
}

/** Resident memory of a process and its descendants in bytes (0 when it is gone). */
export async function residentBytes(pid: number): Promise<number> {
  return (await residentMemory(pid)).total;
}
