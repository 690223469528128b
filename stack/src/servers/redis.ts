import { mkdir } from 'node:fs/promises';
import { runRecipe } from '../install.js';
import { tcpRequest } from '../net.js';
import type { Server } from './server.js';

/** A RESP reply is whole once its line ends, or for a bulk string ($n), once n bytes followed. */
function isWholeReply(answer: string): boolean {
  const headerEnd = answer.indexOf('\r\n');
  if (headerEnd < 0) return false;
  if (!answer.startsWith('$')) return true;
  const length = Number(answer.slice(1, headerEnd));
  return length < 0 || Buffer.byteLength(answer.slice(headerEnd + 2)) >= length + 2;
}

async function redisCommand(port: number, command: string): Promise<string | undefined> {
  try {
    return await tcpRequest(port, `${command}\r\n`, isWholeReply);
  } catch {
    return undefined;
  }
}

export const redis: Server = {
  name: 'redis',
  stopSignal: 'SIGTERM',
  startTimeoutMs: 30_000,
  port: (config) => config.redis.port,
  ports: (config) => [{ port: config.redis.port, variable: 'REDIS_PORT' }],
  install: async (config) => ({ path: await runRecipe(config, 'debian', ['redis']) }),
  async prepare(config, installed, dir) {
    await mkdir(dir, { recursive: true });
    return {
      command: installed.path,
      args: [
        '--bind',
        '127.0.0.1',
        '--port',
        String(config.redis.port),
        '--dir',
        dir,
        // BullMQ jobs must survive a restart: append-only file, fsync every second.
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--save',
        '',
        '--maxmemory',
        config.redis.maxMemory,
        // BullMQ requires that Redis never evicts its keys.
        '--maxmemory-policy',
        'noeviction',
        '--daemonize',
        'no',
      ],
    };
  },
  async ready(config) {
    return (await redisCommand(config.redis.port, 'PING'))?.startsWith('+PONG') ?? false;
  },
  async version(config) {
    const info = await redisCommand(config.redis.port, 'INFO server');
    return info === undefined ? undefined : /redis_version:([^\r\n]+)/.exec(info)?.[1];
  },
};
