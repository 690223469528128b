import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { ConsulClient } from '../discovery/consul-client.js';
import { fromHttpLayerError, toHttpError } from '../errors/heimdall-error.js';
import type { Logger } from '../telemetry/logger.js';
import type { ServiceMetrics } from '../telemetry/service-metrics.js';
import type { Telemetry } from '../telemetry/tracing.js';

/** Who a service instance is, as Consul and the logs know it. */
export interface ServiceIdentity {
  readonly name: string;
  readonly version: string;
  /** Unique per process, so several instances of one service register side by side. */
  readonly instanceId: string;
}

export function makeInstanceId(service: string, given?: string): string {
  return given ?? `${service}-${randomUUID().slice(0, 8)}`;
}

/** A store (or other dependency) that must answer for the instance to be ready; throws with the reason. */
export interface ReadinessCheck {
  readonly name: string;
  check(signal: AbortSignal): Promise<void>;
}

/** What /ready checks: registration plus each store a service adds once its client exists. */
export class Readiness {
  readonly checks: ReadinessCheck[] = [];
  /** Set by RunningService while the instance is registered in Consul. */
  registered = false;

  add(check: ReadinessCheck): void {
    this.checks.push(check);
  }
}

export interface HttpServiceDeps {
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  readonly telemetry: Telemetry;
}

/**
 * How much of a body an early answer (a 413, say, before the body was read) still reads and drops, and for how
 * long, before the connection closes. Within them the client finishes sending and the close resets nothing.
 */
export const EARLY_ANSWER_LINGER = { bytes: 64 * 1024 * 1024, ms: 10_000 } as const;

/**
 * For an answer given before the request's body was read, with `Connection: close`: Node would close at once
 * after it, with the client's data unread, which resets the connection, and a client still sending often reads
 * the reset instead of the answer (and retries). Here the answer goes out, our side of the connection is
 * half-closed, and what the client still sends is read and dropped until it ends, or up to `bounds`; then the
 * connection closes. A no-op once the body is complete.
 */
export function lingerAfterEarlyAnswer(
  request: IncomingMessage,
  response: ServerResponse,
  bounds: { bytes: number; ms: number } = EARLY_ANSWER_LINGER,
): void {
  if (request.complete) return;
  const socket = request.socket;
  const closeForGood = socket.destroySoon.bind(socket);
  // Node ends a `Connection: close` exchange with destroySoon: end, and destroy once the answer is flushed.
  socket.destroySoon = () => void socket.end();
  const timer = setTimeout(() => socket.destroy(), bounds.ms).unref();
  socket.once('close', () => clearTimeout(timer));
  const close = () => {
    clearTimeout(timer);
    if (response.writableFinished) closeForGood();
    else response.once('finish', closeForGood);
  };
  // Read only once the answer is out (Node's own clean-up drops the request's data listeners then).
  response.once('finish', () => {
    let dropped = 0;
    request.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > bounds.bytes) socket.destroy();
    });
    request.resume();
  });
  request.once('end', close);
  request.once('error', close);
  socket.once('end', close);
}

/**
 * `Expect: 100-continue` answered only once something starts reading the body (a `data` listener or a pipe, as
 * fastify's parsers do): a request refused before (a body over the
 * limit, which the parser refuses on its Content-Length; bad credentials; a content type nobody reads) gets its
 * answer instead of 100 Continue, and the client does not send a body for nothing. Node otherwise answers 100
 * Continue to every such request as soon as its headers arrive.
 */
export function continueWhenBodyIsRead(server: Server): void {
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    request.once('resume', () => {
      if (!response.headersSent) response.writeContinue();
    });
    server.emit('request', request, response);
  });
}

/** Routes open to probes and scrapers, with no credentials and no request metrics. */
export const PROBES: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics']);

/**
 * The HTTP side every service shares: /health (process alive), /ready (registered and every store reachable,
 * 503 with the reasons otherwise), /metrics (Prometheus text), request metrics and traces, and one error mapper
 * from the catalog so handlers throw instead of shaping error responses themselves.
 */
export function createHttpService(
  deps: HttpServiceDeps,
  readiness: Readiness,
  options: { readonly bodyLimitBytes?: number } = {},
): FastifyInstance {
  // Fastify logs through the service's logger (request.log in handlers); one line per request would drown the rest.
  const loggerInstance: FastifyBaseLogger = deps.logger;
  const bodyLimitBytes = options.bodyLimitBytes ?? 1024 * 1024;
  const app = Fastify({
    loggerInstance,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: bodyLimitBytes,
  });
  deps.telemetry.registerFastify(app);
  continueWhenBodyIsRead(app.server);

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (!PROBES.has(route)) {
      deps.metrics.httpDuration.observe(
        { method: request.method, route, status_code: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    }
    done();
  });

  app.setErrorHandler((error, request, reply) => {
    const mapped = toHttpError(
      fromHttpLayerError(error, {
        contentType: request.headers['content-type'],
        bodyLimitBytes: request.routeOptions.bodyLimit ?? bodyLimitBytes,
      }),
    );
    const route = request.routeOptions.url ?? 'unmatched';
    if (mapped.status === 500)
      deps.logger.error(
        { err: error, method: request.method, url: request.url, status: mapped.status },
        'request failed',
      );
    else if (mapped.status >= 500)
      deps.logger.warn(
        { err: error, method: request.method, url: request.url, status: mapped.status },
        'request unavailable',
      );
    // A refused request is the client's mistake: one line saying what, no stack.
    else
      deps.logger.info(
        { status: mapped.status, code: mapped.body.error.code, route, method: request.method },
        `request refused: ${mapped.body.error.message}`,
      );
    // Refused before its body was read (over the limit, say): the connection ends after the answer, not before it.
    // (`complete` is false only on a real socket's request; app.inject's has none.)
    if (mapped.status < 500 && request.raw.complete === false) {
      void reply.header('connection', 'close');
      lingerAfterEarlyAnswer(request.raw, reply.raw);
    }
    void reply.status(mapped.status).headers(mapped.headers).send(mapped.body);
  });

  app.get('/health', () => ({ status: 'ok' }));

  app.get('/ready', async (_request, reply) => {
    const reasons: string[] = [];
    if (!readiness.registered) reasons.push('not registered in Consul');
    const results = await Promise.allSettled(readiness.checks.map((c) => c.check(AbortSignal.timeout(2000))));
    results.forEach((result, i) => {
      if (result.status === 'rejected') {
        const reason = result.reason instanceof Error ? result.reason.message : String(result.reason);
        reasons.push(`${readiness.checks[i]!.name}: ${reason}`);
      }
    });
    if (reasons.length > 0) return reply.status(503).send({ status: 'unavailable', reasons });
    return { status: 'ready' };
  });

  app.get('/metrics', async (_request, reply) => {
    return reply.header('content-type', deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  return app;
}

export interface RegistrationOptions {
  readonly consul: ConsulClient;
  readonly identity: ServiceIdentity;
  /** The address other processes reach this instance at (what Consul hands out). */
  readonly advertiseAddress: string;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
  /** Consul's HTTP check on /health. SPEC §1: every 30 s, timeout 10 s, reaped after 90 s critical. */
  readonly check: { readonly interval: string; readonly timeout: string; readonly deregisterCriticalAfter: string };
}

/**
 * A running service: listening, then registered in Consul; `stop` deregisters first so that discovery drops it
 * before its port closes.
 */
export class RunningService {
  private stopping: Promise<void> | undefined;

  constructor(
    readonly app: FastifyInstance,
    private readonly readiness: Readiness,
    private readonly registration: RegistrationOptions,
    private readonly logger: Logger,
    private readonly onStop: () => Promise<void>,
  ) {}

  get isRegistered(): boolean {
    return this.readiness.registered;
  }

  /** The port actually bound (0 in the options asks the system for a free one). */
  get port(): number {
    const address = this.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('service is not listening');
    return address.port;
  }

  get url(): string {
    return `http://${this.registration.advertiseAddress}:${this.port}`;
  }

  async start(listen: { host: string; port: number }): Promise<void> {
    await this.app.listen(listen);
    const { consul, identity, advertiseAddress, tags, meta, check } = this.registration;
    await consul.register({
      name: identity.name,
      id: identity.instanceId,
      address: advertiseAddress,
      port: this.port,
      tags,
      meta: { version: identity.version, ...meta },
      check: {
        http: `${this.url}/health`,
        interval: check.interval,
        timeout: check.timeout,
        deregisterCriticalServiceAfter: check.deregisterCriticalAfter,
        // It is listening and answering already: passing from the start, not after the first 30 s interval.
        initialStatus: 'passing',
      },
    });
    this.readiness.registered = true;
    this.logger.info(
      { event: 'ready', url: this.url, instanceId: identity.instanceId },
      `${identity.name} ready at ${this.url}`,
    );
  }

  /** Deregisters, stops accepting requests, flushes traces; safe to call more than once. The store clients are the caller's. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.readiness.registered) {
        await this.registration.consul.deregister(this.registration.identity.instanceId).catch((error: unknown) => {
          this.logger.warn({ err: error }, 'deregistration failed; Consul reaps the instance once its check fails');
        });
        this.readiness.registered = false;
      }
      await this.app.close();
      await this.onStop();
      this.logger.info({ event: 'stopped' }, `${this.registration.identity.name} stopped`);
    })();
    return this.stopping;
  }
}
