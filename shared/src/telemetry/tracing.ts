import { randomUUID } from 'node:crypto';
import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { JaegerPropagator } from '@opentelemetry/propagator-jaeger';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Options of {@link createTelemetry}: one per service instance. */
export interface TelemetryOptions {
  /** Resource `service.name`, the name Jaeger lists the service under. */
  serviceName: string;
  /** Resource `service.version`. */
  serviceVersion: string;
  /** Resource `service.instance.id`. Default: a random UUID per call. */
  instanceId?: string;
  /**
   * OTLP/HTTP traces endpoint, e.g. `http://127.0.0.1:14318/v1/traces`. Default: undefined, which disables
   * export: spans are then no-ops that still pass incoming trace headers on to downstream calls.
   */
  otlpTracesUrl?: string;
  /**
   * Request paths (route pattern or path without query) that get no server span.
   * Default: `['/health', '/ready', '/metrics']` (probes and scrapes would drown the real traffic).
   */
  untracedPaths?: readonly string[];
}

/** Collaborators of {@link createTelemetry}; tests pass their own. */
export interface TelemetryDeps {
  /**
   * Span processors, replacing the default (one `BatchSpanProcessor` exporting to `otlpTracesUrl`, none
   * without it). Tests pass a `SimpleSpanProcessor` over an `InMemorySpanExporter`.
   */
  spanProcessors?: SpanProcessor[];
}

/** Options of {@link Telemetry.withSpan}. */
export interface WithSpanOptions {
  /** Span kind. Default: `SpanKind.INTERNAL`; use `CLIENT` around an outgoing call. */
  kind?: SpanKind;
}

/** Incoming headers as Node and fastify give them (lower-case names). */
export type IncomingHeaders = Record<string, string | string[] | undefined>;

/** One service's tracing: its own provider, never registered globally, so several services share a process. */
export interface Telemetry {
  readonly tracer: Tracer;
  /** The remote parent carried by `traceparent` (preferred) or `uber-trace-id`, plus baggage. */
  extract(headers: IncomingHeaders): Context;
  /**
   * Writes `traceparent` (+ `tracestate`, `baggage`) and `uber-trace-id` (+ `uberctx-*`) for `ctx`
   * (default: the active context) into `headers`, and returns `headers` so it can go straight into `fetch`.
   */
  inject(headers: Record<string, string>, ctx?: Context): Record<string, string>;
  /**
   * Runs `fn` in a new span, active for everything `fn` awaits, child of the active span. A throw is recorded
   * on the span, sets its status to error, and is rethrown; the span ends either way.
   */
  withSpan<T>(
    name: string,
    attributes: Attributes,
    fn: (span: Span) => Promise<T> | T,
    options?: WithSpanOptions,
  ): Promise<T>;
  /**
   * Adds hooks giving every request (except `untracedPaths`) a SERVER span, parent taken from its headers,
   * active in hooks and handler. Call it on the root instance before declaring routes.
   */
  registerFastify(app: FastifyInstance): void;
  /** Flushes pending spans and stops exporting. Idempotent. */
  shutdown(): Promise<void>;
}

const DEFAULT_UNTRACED_PATHS = ['/health', '/ready', '/metrics'];

/** Builds one service's telemetry. Installs the process-wide async context manager if none is yet. */
export function createTelemetry(options: TelemetryOptions, deps: TelemetryDeps = {}): Telemetry {
  ensureContextManager();
  const spanProcessors =
    deps.spanProcessors ??
    (options.otlpTracesUrl === undefined
      ? []
      : [new BatchSpanProcessor(new OTLPTraceExporter({ url: options.otlpTracesUrl }))]);
  const untracedPaths = new Set(options.untracedPaths ?? DEFAULT_UNTRACED_PATHS);

  const provider =
    spanProcessors.length === 0
      ? undefined
      : new BasicTracerProvider({
          // Merged over the default so the SDK's telemetry.sdk.* attributes stay.
          resource: defaultResource().merge(
            resourceFromAttributes({
              [ATTR_SERVICE_NAME]: options.serviceName,
              [ATTR_SERVICE_VERSION]: options.serviceVersion,
              [ATTR_SERVICE_INSTANCE_ID]: options.instanceId ?? randomUUID(),
            }),
          ),
          spanProcessors,
        });
  // Without export, the API's no-op tracer (a proxy with no delegate): its spans record nothing and reuse the
  // parent's span context, so a caller's trace passes through this service to the next one unbroken.
  const tracer = (provider ?? new ProxyTracerProvider()).getTracer('heimdall', options.serviceVersion);

  // Jaeger first: the composite applies extractors in order and the last header found wins, so a request
  // carrying both keeps the W3C parent.
  const propagator = new CompositePropagator({
    propagators: [new JaegerPropagator(), new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  });

  function extract(headers: IncomingHeaders): Context {
    // From the root, not the active context: in a process hosting several services, a request must not
    // inherit the span of whatever in-process caller happens to be active.
    return propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
  }

  function inject(headers: Record<string, string>, ctx: Context = context.active()): Record<string, string> {
    propagator.inject(ctx, headers, defaultTextMapSetter);
    return headers;
  }

  function withSpan<T>(
    name: string,
    attributes: Attributes,
    fn: (span: Span) => Promise<T> | T,
    spanOptions: WithSpanOptions = {},
  ): Promise<T> {
    return tracer.startActiveSpan(name, { kind: spanOptions.kind ?? SpanKind.INTERNAL, attributes }, async (span) => {
      try {
        return await fn(span);
      } catch (error) {
        recordError(span, error);
        throw error;
      } finally {
        span.end();
      }
    });
  }

  function registerFastify(app: FastifyInstance): void {
    registerFastifyHooks(app, { tracer, extract, untracedPaths });
  }

  let stopped: Promise<void> | undefined;
  function shutdown(): Promise<void> {
    stopped ??= provider?.shutdown() ?? Promise.resolve();
    return stopped;
  }

  return { tracer, extract, inject, withSpan, registerFastify, shutdown };
}

interface RequestTrace {
  span: Span;
  /** The error fastify reported for this request, if any. */
  error?: unknown;
}

function registerFastifyHooks(
  app: FastifyInstance,
  { tracer, extract, untracedPaths }: { tracer: Tracer; extract: Telemetry['extract']; untracedPaths: Set<string> },
): void {
  // Keyed by request rather than a request decoration: no typing augmentation, and two telemetry instances
  // (or two apps) never see each other's spans.
  const traces = new WeakMap<FastifyRequest, RequestTrace>();

  // Callback-style hook on purpose: fastify runs the rest of the request's lifecycle from inside `done()`, so
  // `context.with(ctx, done)` makes the span active in every later hook and the handler, and in whatever they
  // await (this is how @fastify/otel starts its request span). `context.with` around an async hook's body
  // would end with the hook. A body read from the socket does not break the chain: fastify's content-type
  // parser resumes in an AsyncResource created in this context (tested with a body sent after the headers).
  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    const path = request.url.split('?', 1)[0] ?? request.url;
    if (untracedPaths.has(route ?? path)) {
      done();
      return;
    }
    const parent = extract(request.headers);
    // Unmatched requests are named by method alone (OTel HTTP semconv): raw paths would make one Jaeger
    // operation per URL a scanner tries.
    const span = tracer.startSpan(
      route === undefined ? request.method : `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: request.method,
          [ATTR_URL_PATH]: path,
          ...(route === undefined ? {} : { [ATTR_HTTP_ROUTE]: route }),
        },
      },
      parent,
    );
    traces.set(request, { span });
    context.with(trace.setSpan(parent, span), done);
  });

  app.addHook('onError', (request, _reply, error, done) => {
    // Kept until onResponse: a 4xx error (validation, auth) is the client's, not a server span error.
    const current = traces.get(request);
    if (current !== undefined) current.error = error;
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    const current = traces.get(request);
    if (current !== undefined) {
      traces.delete(request);
      const { span, error } = current;
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, reply.statusCode);
      if (reply.statusCode >= 500) {
        span.setAttribute(ATTR_ERROR_TYPE, String(reply.statusCode));
        if (error === undefined) span.setStatus({ code: SpanStatusCode.ERROR });
        else recordError(span, error);
      }
      span.end();
    }
    done();
  });

  // A client that hangs up before its request is complete may never get a response, hence no onResponse.
  app.addHook('onRequestAbort', (request, done) => {
    const current = traces.get(request);
    if (current !== undefined) {
      traces.delete(request);
      current.span.setStatus({ code: SpanStatusCode.ERROR, message: 'request aborted by the client' });
      current.span.end();
    }
    done();
  });
}

function recordError(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  span.recordException(error instanceof Error ? error : message);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

const probeKey = createContextKey('heimdall.telemetry.context-manager-probe');

/**
 * Installs the AsyncLocalStorage context manager unless a working one is installed (by an earlier call, or by
 * another copy of this module as test runners load per file). The API's default manager is a no-op whose
 * `with` does not change the active context, which is what the probe detects.
 */
function ensureContextManager(): void {
  const probe = ROOT_CONTEXT.setValue(probeKey, true);
  if (context.with(probe, () => context.active() === probe)) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}
