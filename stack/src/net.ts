import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Sends a request over TCP and collects the answer until `complete` says it is whole. */
export function tcpRequest(
  port: number,
  payload: string,
  complete: (answer: string) => boolean,
  timeoutMs = 2000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    socket.setTimeout(timeoutMs);
    socket.once('connect', () => socket.write(payload));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('utf8');
      if (complete(answer)) {
        socket.destroy();
        resolve(answer);
      }
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`no answer on port ${port}`));
    });
    socket.once('error', reject);
  });
}

/** GET on 127.0.0.1 with a short timeout; undefined when nothing answers. */
export async function httpGet(
  port: number,
  path: string,
  timeoutMs = 2000,
): Promise<{ status: number; body: string } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: response.status, body: await response.text() };
  } catch {
    return undefined;
  }
}

/** Polls `check` until it holds or `timeoutMs` passes. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}
