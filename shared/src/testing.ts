/**
 * For tests of every workspace (`@heimdall/shared/testing`; services never import it): the service-trust secret
 * of this test process and internal tokens signed with it, so a test can call a subgraph directly as the gateway
 * would. The secret is random per process: nothing here is a credential anywhere else.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type IncomingMessage, request as httpRequest } from 'node:http';
import type { Caller, Role } from './auth/caller.js';
import { ServiceTokens } from './auth/service-token.js';

const secret = randomBytes(32).toString('base64url');
const tokens = new ServiceTokens({ service: 'test', secrets: [secret] });

/** `{ SERVICE_AUTH_SECRET }` for a service config built in this process (spread it into the env given to `loadConfig`). */
export function testServiceAuthEnv(): { SERVICE_AUTH_SECRET: string } {
  return { SERVICE_AUTH_SECRET: secret };
}

/** A person with these roles, as the gateway forwards them. */
export function makeCaller(roles: readonly Role[] = ['admin'], subject = 'test-user'): Caller {
  return { kind: 'user', subject, roles };
}

/**
 * `{ 'x-service-auth': token }` for a direct call to a subgraph of this process's services, on behalf of `caller`
 * (by default an admin, who may do everything).
 */
export function serviceAuthHeaders(caller: Caller = makeCaller()): Promise<Record<string, string>> {
  return tokens.headers(caller);
}

/**
 * Posts a body of `bytes` as a client that keeps sending after an early answer would (in 64 KiB writes, stopping
 * only once the server closes its side): the answer it read, if any, and the socket errors it met (ECONNRESET,
 * EPIPE), which a refused agent would take for an outage and retry.
 */
export async function sendWholeBody(
  port: number,
  path: string,
  contentType: string,
  bytes: number,
): Promise<{ answer: { status: number; body: Buffer } | undefined; errors: string[] }> {
  const client = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': contentType, 'content-length': bytes } });
  const errors: string[] = [];
  client.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message));
  let answer: { status: number; body: Buffer } | undefined;
  const answered = new Promise<void>((resolve) => {
    client.once('response', (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('end', () => {
        answer = { status: response.statusCode!, body: Buffer.concat(chunks) };
        resolve();
      });
    });
  });
  const closed = once(client, 'close');
  const chunk = Buffer.alloc(64 * 1024, 7);
  for (let sent = 0; sent < bytes && !client.destroyed; sent += chunk.length) {
    if (!client.write(chunk)) await Promise.race([once(client, 'drain'), closed]);
  }
  if (!client.destroyed) client.end();
  await closed;
  await Promise.race([answered, Promise.resolve()]);
  return { answer, errors };
}
