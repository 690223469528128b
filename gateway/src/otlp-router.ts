import {
  Agent,
  type ClientRequest,
  type ClientRequestArgs,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  createServer,
  request as httpRequest,
} from 'node:http';
import { type AddressInfo, type NetConnectOpts, Socket } from 'node:net';
import { type Duplex, pipeline } from 'node:stream';
import { type Caller, mayIngest } from '@heimdall/shared/auth';
import { type HeimdallError, heimdallError } from '@heimdall/shared/errors';
import { continueWhenBodyIsRead, lingerAfterEarlyAnswer } from '@heimdall/shared/http';
import { DEFAULT_MAX_BODY_BYTES, encodeOtlpError } from '@heimdall/shared/otlp';
import type { Logger } from '@heimdall/shared/telemetry';
import type { SubgraphDirectory } from './directory.js';
import type { Admission } from './front-door.js';

/** Which subgraph owns each OTLP/HTTP signal path (SPEC §1, §4). */
export const OTLP_ROUTES: Readonly<Record<string, string>> = {
  '/v1/metrics': 'metrics',
  '/v1/logs': 'logs',
  '/v1/traces': 'traces',
  // The log API for applications without an OTLP exporter (SPEC §4): agents' keys work here too.
  '/api/v1/logs': 'logs',
};

/** Headers that belong to one hop, not to the request being forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
]);
/** The agent's credentials stay at the gateway; the owner gets an internal token instead (and never a forged one). */
const CREDENTIALS = new Set(['authorization', 'x-api-key', 'x-service-auth']);

/**
 * Retry hint on the router's own 503s (no passing instance, no answer in time, connection dropped): about the
 * time Consul takes to mark a failed instance critical, so the retry likely reaches another one.
 */
const RETRY_AFTER_SECONDS = 5;

/** Who may push: the gateway's front door, and the internal token a forward carries. */
export interface OtlpAccess {
  /** Authentication and rate limit of one request. */
  admit(request: IncomingMessage): Promise<Admission>;
  /** Headers of a forward on behalf of `caller` (X-Service-Auth). */
  headers(caller: Caller): Promise<Record<string, string>>;
}

export interface OtlpRouterOptions {
  /**
   * How long one forward may take, from the agent's request to the end of the owner's answer; then 503 +
   * Retry-After (or, once the answer has started, the connection is cut) and the request to the owner is ended.
   */
  readonly forwardTimeoutMs: number;
  /** Largest Content-Length forwarded; a larger one is refused at once with 413. Default DEFAULT_MAX_BODY_BYTES (20 MiB). */
  readonly maxBodyBytes?: number;
  readonly access: OtlpAccess;
}

/** Write errors that mean the peer closed the connection (an owner that answered early does so). */
const PEER_GONE = new Set(['EPIPE', 'ECONNRESET']);

function keepUnlessPeerGone(callback: (error?: Error | null) => void): (error?: Error | null) => void {
  return (error) => callback(error && PEER_GONE.has((error as NodeJS.ErrnoException).code ?? '') ? null : error);
}

/**
 * A connection to an owner. An owner may answer before it has read the whole body (a 413 past its limit) and
 * close at once; the reset then fails the next write of the body, and a plain socket destroys itself on that
 * error without reading the answer already received. Here such a write only drops its data: the read side
 * still delivers the answer, then reports the reset (which also ends a forward the owner did not answer).
 */
class OwnerSocket extends Socket {
  override _write(chunk: unknown, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    super._write(chunk, encoding, keepUnlessPeerGone(callback));
  }

  override _writev(
    chunks: { chunk: unknown; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    super._writev!(chunks, keepUnlessPeerGone(callback));
  }
}

/** Keep-alive connections to the owners, over OwnerSockets. */
class OwnerAgent extends Agent {
  override createConnection(options: ClientRequestArgs): Duplex {
    return new OwnerSocket().connect(options as NetConnectOpts);
  }
}

function withoutHopByHop(headers: IncomingMessage['headers']): IncomingMessage['headers'] {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

function forwardedHeaders(
  headers: IncomingMessage['headers'],
  internal: Record<string, string>,
): IncomingMessage['headers'] {
  return {
    ...Object.fromEntries(Object.entries(withoutHopByHop(headers)).filter(([name]) => !CREDENTIALS.has(name))),
    ...internal,
  };
}

/**
 * One OTLP/HTTP endpoint for agents: each signal's request is streamed, unchanged, to a passing instance of the
 * subgraph that owns it, and its answer streamed back, so status codes, partial successes and Retry-After reach
 * the agent as the owner gave them. Only agents and admins may push (401/403/429 first, from the front door); the
 * forward carries an internal token in place of their credentials. What the router answers itself (unknown
 * signal, wrong method, credentials, rate limit, too large, no instance, timeout) is an OTLP error from the
 * catalog, in the request's encoding.
 */
export class OtlpRouter {
  private readonly server: Server;
  private readonly agent = new OwnerAgent({ keepAlive: true });
  private readonly forwardTimeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly access: OtlpAccess;

  constructor(
    private readonly directory: Pick<SubgraphDirectory, 'pick' | 'passing'>,
    private readonly logger: Logger,
    options: OtlpRouterOptions,
  ) {
    this.forwardTimeoutMs = options.forwardTimeoutMs;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.access = options.access;
    this.server = createServer((request, response) => {
      this.route(request, response).catch((error: unknown) => {
        this.logger.error({ err: error }, 'OTLP request failed');
        this.refuse(request, response, heimdallError('INTERNAL', { cause: error }));
      });
    });
    continueWhenBodyIsRead(this.server);
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  close(): Promise<void> {
    this.agent.destroy();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0]!;
    const owner = OTLP_ROUTES[path];
    if (owner === undefined) {
      const message = `no OTLP signal at ${path}; use ${Object.keys(OTLP_ROUTES).join(', ')}`;
      return this.refuse(request, response, heimdallError('NOT_FOUND', { message }));
    }
    if (request.method !== 'POST') {
      // The catalog has no code for a wrong method: its body says INVALID_ARGUMENT, its status stays HTTP's 405.
      return this.refuse(request, response, heimdallError('BAD_USER_INPUT', { message: 'OTLP/HTTP takes POST' }), {
        status: 405,
        allow: 'POST',
      });
    }
    const admission = await this.access.admit(request);
    if (!admission.ok) return this.refuse(request, response, admission.error);
    if (!mayIngest(admission.caller)) return this.refuse(request, response, heimdallError('FORBIDDEN'));
    if (Number(request.headers['content-length'] ?? 0) > this.maxBodyBytes) {
      const message = `body exceeds ${this.maxBodyBytes} bytes`;
      return this.refuse(request, response, heimdallError('PAYLOAD_TOO_LARGE', { message }));
    }
    let internal: Record<string, string>;
    try {
      internal = await this.access.headers(admission.caller);
    } catch (error) {
      this.logger.error({ err: error }, 'could not sign the internal token of an OTLP forward');
      return this.refuse(request, response, heimdallError('INTERNAL', { cause: error }));
    }
    this.forward(request, response, owner, internal);
  }

  /**
   * Streams to one passing instance. The body starts flowing only once the connection is up, so an instance
   * that refuses the connection (crashed, not yet marked critical) costs nothing: the next one is tried.
   */
  private forward(
    request: IncomingMessage,
    response: ServerResponse,
    owner: string,
    internal: Record<string, string>,
  ): void {
    let upstream: ClientRequest | undefined;
    let answered = false;
    let ended = false;

    /** Ends the exchange with the router's own answer, or cuts off an answer already under way. */
    const fail = (error: HeimdallError) => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      upstream?.destroy();
      if (response.headersSent) response.destroy();
      else this.refuse(request, response, error);
    };
    const timer = setTimeout(() => {
      this.logger.warn({ owner, timeoutMs: this.forwardTimeoutMs }, 'OTLP forward timed out');
      fail(
        heimdallError('UNAVAILABLE', {
          message: `the ${owner} service did not answer within ${this.forwardTimeoutMs} ms`,
          retryAfterSeconds: RETRY_AFTER_SECONDS,
          service: owner,
        }),
      );
    }, this.forwardTimeoutMs);
    response.once('close', () => {
      clearTimeout(timer);
      ended = true;
      // The agent went away before its answer was complete: the owner need not go on reading or answering.
      if (!response.writableFinished) upstream?.destroy();
    });

    const attempt = (attemptsLeft: number): void => {
      const instance = this.directory.pick(owner);
      if (instance === undefined || attemptsLeft <= 0) {
        return fail(
          heimdallError('UNAVAILABLE', {
            message: `the ${owner} service is unavailable`,
            retryAfterSeconds: RETRY_AFTER_SECONDS,
            service: owner,
          }),
        );
      }
      let connected = false;
      const forwarded = httpRequest(
        {
          agent: this.agent,
          host: instance.address,
          port: instance.port,
          path: request.url,
          method: 'POST',
          headers: forwardedHeaders(request.headers, internal),
        },
        (answer) => {
          answered = true;
          if (ended) return void answer.resume();
          const bodyStillComing = !request.complete;
          // The owner decided without the rest of the body (an early 413, say): stop sending it, and close the
          // agent's connection after the answer rather than read what is left.
          if (bodyStillComing) request.unpipe(forwarded);
          response.writeHead(answer.statusCode ?? 502, {
            ...withoutHopByHop(answer.headers),
            ...(bodyStillComing ? { connection: 'close' } : {}),
          });
          if (bodyStillComing) lingerAfterEarlyAnswer(request, response);
          pipeline(answer, response, (error) => {
            clearTimeout(timer);
            if (!forwarded.writableFinished) forwarded.destroy();
            if (error !== undefined && error !== null)
              this.logger.warn({ err: error, owner, instance: instance.id }, 'OTLP answer cut off');
          });
        },
      );
      upstream = forwarded;
      forwarded.once('socket', (socket) => {
        const start = () => {
          connected = true;
          request.pipe(forwarded);
        };
        if (socket.connecting) socket.once('connect', start);
        else start();
      });
      forwarded.on('error', (error) => {
        // Once the owner answered, its closing the connection is no failure (it may answer early and close); an
        // answer cut off shows in the pipeline.
        if (answered || ended) return;
        if (!connected) return attempt(attemptsLeft - 1);
        this.logger.warn({ err: error, owner, instance: instance.id }, 'OTLP forward failed');
        fail(
          heimdallError('UNAVAILABLE', {
            message: `the ${owner} service did not answer`,
            retryAfterSeconds: RETRY_AFTER_SECONDS,
            service: owner,
          }),
        );
      });
    };
    attempt(this.directory.passing(owner).length);
  }

  /**
   * Answers with an error of the router's own. A body not read yet is not forwarded: the connection closes after
   * the answer, once the client has sent what it was sending (up to a bound), so that it reads the answer rather
   * than a reset. An `Expect: 100-continue` request refused here never gets 100 Continue: the body is not sent.
   */
  private refuse(
    request: IncomingMessage,
    response: ServerResponse,
    error: HeimdallError,
    override?: { status: number; allow: string },
  ): void {
    // The agent may have gone while its credentials were checked.
    if (response.destroyed || response.headersSent) return;
    const { status, headers, body } = encodeOtlpError(error, request.headers['content-type']);
    response.writeHead(override?.status ?? status, {
      ...headers,
      ...(error.code === 'UNAUTHENTICATED' ? { 'www-authenticate': 'Bearer realm="heimdall"' } : {}),
      ...(override === undefined ? {} : { allow: override.allow }),
      ...(request.complete ? {} : { connection: 'close' }),
    });
    response.end(body);
    lingerAfterEarlyAnswer(request, response);
  }
}
