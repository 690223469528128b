// A test's agent that keeps sending after an early answer, for the OTLP receiver's tests here and (through
// @heimdall/testkit, which shared's own tests cannot import: it depends on shared) the gateway's OTLP router's.
import { once } from 'node:events';
import { type IncomingMessage, request as httpRequest } from 'node:http';

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
  const client = httpRequest({
    host: '127.0.0.1',
    port,
    path,
    method: 'POST',
    headers: { 'content-type': contentType, 'content-length': bytes },
  });
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
