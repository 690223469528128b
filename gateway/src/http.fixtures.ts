import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** A real HTTP server on 127.0.0.1 with an ephemeral port, playing a subgraph or an OTLP owner in a test. */
export interface TestServer {
  readonly port: number;
  /** Requests received so far (their bodies may still be arriving). */
  readonly requests: IncomingMessage[];
  /** Resolves with the next request to arrive (or the latest, if one arrived since the last call). */
  nextRequest(): Promise<IncomingMessage>;
  close(): Promise<void>;
}

export async function listen(handler: Handler): Promise<TestServer> {
  const requests: IncomingMessage[] = [];
  let seen = 0;
  let waiting: ((request: IncomingMessage) => void) | undefined;
  const server = createServer((request, response) => {
    requests.push(request);
    handler(request, response);
    if (waiting !== undefined) {
      seen = requests.length;
      const wake = waiting;
      waiting = undefined;
      wake(request);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    nextRequest() {
      if (requests.length > seen) {
        seen = requests.length;
        return Promise.resolve(requests.at(-1)!);
      }
      return new Promise((resolve) => (waiting = resolve));
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The whole body of a request or response. */
export async function readBody(message: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of message) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
