import { type IncomingMessage, type Server, type ServerResponse, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@heimdall/shared';
import type { SubgraphDirectory } from './directory.js';

/** Which subgraph owns each OTLP/HTTP signal path (SPEC §1, §4). */
export const OTLP_ROUTES: Readonly<Record<string, string>> = {
  '/v1/metrics': 'metrics',
  '/v1/logs': 'logs',
  '/v1/traces': 'traces',
};

/** Headers that belong to one hop, not to the request being forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);

function status(response: ServerResponse, code: number, message: string, retryAfterSeconds?: number): void {
  // A google.rpc.Status as OTLP/JSON; agents show the message and honour Retry-After on 429/503.
  response.writeHead(code, {
    'content-type': 'application/json',
    ...(retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) }),
  });
  response.end(JSON.stringify({ code: code === 404 ? 5 : code === 405 ? 12 : 14, message }));
}

/**
 * One OTLP/HTTP endpoint for agents: each signal's request is streamed, unchanged, to a passing instance of the
 * subgraph that owns it, and its answer streamed back, so status codes, partial successes and Retry-After reach
 * the agent as the owner gave them.
 */
export class OtlpRouter {
  private readonly server: Server;

  constructor(
    private readonly directory: SubgraphDirectory,
    private readonly logger: Logger,
  ) {
    this.server = createServer((request, response) => this.route(request, response));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private route(request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? '/').split('?')[0]!;
    const owner = OTLP_ROUTES[path];
    if (owner === undefined) return status(response, 404, `no OTLP signal at ${path}; use ${Object.keys(OTLP_ROUTES).join(', ')}`);
    if (request.method !== 'POST') return status(response, 405, 'OTLP/HTTP takes POST');
    this.forward(request, response, owner, this.directory.passing(owner).length);
  }

  /**
   * Streams to one passing instance. The body starts flowing only once the connection is up, so an instance
   * that refuses the connection (crashed, not yet marked critical) costs nothing: the next one is tried.
   */
  private forward(request: IncomingMessage, response: ServerResponse, owner: string, attemptsLeft: number): void {
    const instance = this.directory.pick(owner);
    if (instance === undefined || attemptsLeft <= 0) {
      request.resume();
      return status(response, 503, `the ${owner} service is unavailable`, 5);
    }
    const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !HOP_BY_HOP.has(name)));
    let connected = false;
    const upstream = httpRequest(
      { host: instance.address, port: instance.port, path: request.url, method: 'POST', headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, Object.fromEntries(Object.entries(answer.headers).filter(([n]) => !HOP_BY_HOP.has(n))));
        answer.pipe(response);
      },
    );
    upstream.once('socket', (socket) => {
      const start = () => {
        connected = true;
        request.pipe(upstream);
      };
      if (socket.connecting) socket.once('connect', start);
      else start();
    });
    upstream.once('error', (error) => {
      if (!connected) return this.forward(request, response, owner, attemptsLeft - 1);
      this.logger.warn({ err: error, owner, instance: instance.id }, 'OTLP forward failed');
      if (!response.headersSent) status(response, 503, `the ${owner} service did not answer`, 1);
      else response.destroy(error);
    });
  }
}
