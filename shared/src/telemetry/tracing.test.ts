import http from 'node:http';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTelemetry, type Telemetry } from './tracing.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** A telemetry whose spans land, synchronously on end, in the returned exporter. */
function makeTelemetry(): { telemetry: Telemetry; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  const telemetry = createTelemetry(
    { serviceName: 'test-service', serviceVersion: '1.2.3', instanceId: 'instance-1' },
    { spanProcessors: [new SimpleSpanProcessor(exporter)] },
  );
  cleanups.push(() => telemetry.shutdown());
  return { telemetry, exporter };
}

function makeApp(telemetry: Telemetry): FastifyInstance {
  const app = Fastify();
  telemetry.registerFastify(app);
  cleanups.push(() => app.close());
  return app;
}

/** Resolves when `app` has a request's headers (its onRequest hook ran), before any body arrived. */
function headersReceived(app: FastifyInstance): Promise<void> {
  return new Promise<void>((resolve) => {
    app.addHook('onRequest', (_request, _reply, done) => {
      resolve();
      done();
    });
  });
}

function expectChildrenOfServerSpan(exporter: InMemorySpanExporter, serverName: string, childNames: string[]): void {
  const server = spanNamed(exporter, serverName);
  for (const name of childNames) {
    const child = spanNamed(exporter, name);
    expect(child.spanContext().traceId, name).toBe(server.spanContext().traceId);
    expect(child.parentSpanContext?.spanId, name).toBe(server.spanContext().spanId);
  }
}

function spanNamed(exporter: InMemorySpanExporter, name: string): ReadableSpan {
  const span = exporter.getFinishedSpans().find((s) => s.name === name);
  if (span === undefined) {
    throw new Error(
      `no span "${name}" among: ${exporter
        .getFinishedSpans()
        .map((s) => s.name)
        .join(', ')}`,
    );
  }
  return span;
}

describe('propagation', () => {
  it('continues the trace of a W3C traceparent header', async () => {
    const { telemetry, exporter } = makeTelemetry();
    const parent = telemetry.extract({ traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` });
    await context.with(parent, () => telemetry.withSpan('child', {}, () => undefined));

    const child = spanNamed(exporter, 'child');
    expect(child.spanContext().traceId).toBe(TRACE_ID);
    expect(child.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
    expect(child.resource.attributes).toMatchObject({
      'service.name': 'test-service',
      'service.version': '1.2.3',
      'service.instance.id': 'instance-1',
    });
  });

  it('continues the trace of a Jaeger uber-trace-id header', async () => {
    const { telemetry, exporter } = makeTelemetry();
    const parent = telemetry.extract({ 'uber-trace-id': `${TRACE_ID}:${PARENT_SPAN_ID}:0:1` });
    await context.with(parent, () => telemetry.withSpan('child', {}, () => undefined));

    const child = spanNamed(exporter, 'child');
    expect(child.spanContext().traceId).toBe(TRACE_ID);
    expect(child.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
  });

  it('prefers traceparent when both headers are present', () => {
    const { telemetry } = makeTelemetry();
    const parent = telemetry.extract({
      'uber-trace-id': `${'1'.repeat(32)}:${'2'.repeat(16)}:0:1`,
      traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`,
    });
    expect(trace.getSpanContext(parent)).toMatchObject({ traceId: TRACE_ID, spanId: PARENT_SPAN_ID });
  });

  it('injects both traceparent and uber-trace-id for the active span', async () => {
    const { telemetry } = makeTelemetry();
    const { headers, traceId, spanId } = await telemetry.withSpan('caller', {}, (span) => ({
      headers: telemetry.inject({ accept: 'application/json' }),
      ...span.spanContext(),
    }));

    expect(headers).toEqual({
      accept: 'application/json',
      traceparent: `00-${traceId}-${spanId}-01`,
      'uber-trace-id': `${traceId}:${spanId}:0:01`,
    });
  });

  it('passes an incoming trace through unchanged when export is disabled', async () => {
    const telemetry = createTelemetry({ serviceName: 'test-service', serviceVersion: '1.2.3' });
    cleanups.push(() => telemetry.shutdown());
    const parent = telemetry.extract({ traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` });

    const headers = await context.with(parent, () => telemetry.withSpan('noop', {}, () => telemetry.inject({})));

    expect(headers.traceparent).toBe(`00-${TRACE_ID}-${PARENT_SPAN_ID}-01`);
  });
});

describe('withSpan', () => {
  it('records a thrown error, marks the span as error and rethrows', async () => {
    const { telemetry, exporter } = makeTelemetry();
    await expect(
      telemetry.withSpan('failing', { 'test.attr': 'x' }, () => Promise.reject(new Error('store down'))),
    ).rejects.toThrow('store down');

    const span = spanNamed(exporter, 'failing');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'store down' });
    expect(span.events.map((e) => e.name)).toEqual(['exception']);
    expect(span.attributes['test.attr']).toBe('x');
    expect(span.kind).toBe(SpanKind.INTERNAL);
  });
});

describe('registerFastify', () => {
  it('gives a request a SERVER span named after its route, child of the incoming trace', async () => {
    const { telemetry, exporter } = makeTelemetry();
    const app = makeApp(telemetry);
    app.get('/items/:id', () => ({ ok: true }));

    const response = await app.inject({
      url: '/items/42?verbose=1',
      headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` },
    });

    expect(response.statusCode).toBe(200);
    const server = spanNamed(exporter, 'GET /items/:id');
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.spanContext().traceId).toBe(TRACE_ID);
    expect(server.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
    expect(server.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/items/:id',
      'url.path': '/items/42',
      'http.response.status_code': 200,
    });
    expect(server.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('keeps the server span active inside hooks and the handler', async () => {
    const { telemetry, exporter } = makeTelemetry();
    const app = makeApp(telemetry);
    app.addHook('preHandler', async () => {
      await telemetry.withSpan('auth', {}, () => undefined);
    });
    app.get('/work', () => telemetry.withSpan('work', {}, () => 'done'));

    expect((await app.inject({ url: '/work' })).statusCode).toBe(200);

    expectChildrenOfServerSpan(exporter, 'GET /work', ['auth', 'work']);
  });

  it('keeps the server span active after a body that arrives later than the headers', async () => {
    const { telemetry, exporter } = makeTelemetry();
    const app = makeApp(telemetry);
    const receivedHeaders = headersReceived(app);
    app.addHook('preHandler', async () => {
      await telemetry.withSpan('auth', {}, () => undefined);
    });
    app.post('/work', (request) => telemetry.withSpan('work', {}, () => request.body));
    const base = await app.listen({ host: '127.0.0.1', port: 0 });

    // The body is read from the socket in callbacks outside the request's context; app.inject and a body sent
    // along with the headers do not show it, so send the headers alone and the body once they are in.
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const request = http.request(`${base}/work`, { method: 'POST', headers: { 'content-type': 'application/json' } });
      request.on('response', (response) => {
        response.resume();
        resolve(response.statusCode);
      });
      request.on('error', reject);
      request.flushHeaders();
      void receivedHeaders.then(() => request.end(JSON.stringify({ a: 1 })));
    });

    expect(status).toBe(200);
    expectChildrenOfServerSpan(exporter, 'POST /work', ['auth', 'work']);
  });

  it('does not trace /health, /ready and /metrics', async () => {
    const { telemetry, exporter } = makeTelemetry();
    const app = makeApp(telemetry);
    for (const path of ['/health', '/ready', '/metrics']) app.get(path, () => 'ok');

    for (const path of ['/health', '/ready', '/metrics?name=x']) {
      expect((await app.inject({ url: path })).statusCode).toBe(200);
    }

    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('marks the span as error when the handler throws', async () => {
    const { telemetry, exporter } = makeTelemetry();
    const app = makeApp(telemetry);
    app.get('/boom', () => {
      throw new Error('kaboom');
    });

    expect((await app.inject({ url: '/boom' })).statusCode).toBe(500);

    const server = spanNamed(exporter, 'GET /boom');
    expect(server.status).toEqual({ code: SpanStatusCode.ERROR, message: 'kaboom' });
    expect(server.attributes['http.response.status_code']).toBe(500);
    expect(server.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('records the error too when a custom error handler shapes the response', async () => {
    const { telemetry, exporter } = makeTelemetry();
    const app = makeApp(telemetry);
    app.setErrorHandler((_error, _request, reply) => reply.status(503).send({ code: 'UNAVAILABLE' }));
    app.get('/boom', () => {
      throw new Error('store down');
    });

    expect((await app.inject({ url: '/boom' })).statusCode).toBe(503);

    const server = spanNamed(exporter, 'GET /boom');
    expect(server.status).toEqual({ code: SpanStatusCode.ERROR, message: 'store down' });
    expect(server.attributes['error.type']).toBe('503');
  });

  it('ends the span as error when the client hangs up before sending its body', async () => {
    const { telemetry, exporter } = makeTelemetry();
    const app = makeApp(telemetry);
    const receivedHeaders = headersReceived(app);
    app.post('/upload', () => 'never');
    const base = await app.listen({ host: '127.0.0.1', port: 0 });

    const request = http.request(`${base}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': '100' },
    });
    request.on('error', () => undefined); // the hang-up below is the point
    request.flushHeaders();
    await receivedHeaders;
    request.destroy();

    await vi.waitFor(() => expect(exporter.getFinishedSpans()).toHaveLength(1));
    expect(spanNamed(exporter, 'POST /upload').status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'request aborted by the client',
    });
  });

  it('leaves client errors (4xx) unmarked and names unmatched routes by method only', async () => {
    const { telemetry, exporter } = makeTelemetry();
    const app = makeApp(telemetry);

    expect((await app.inject({ url: '/no/such/path' })).statusCode).toBe(404);

    const server = spanNamed(exporter, 'GET');
    expect(server.status.code).toBe(SpanStatusCode.UNSET);
    expect(server.attributes).toMatchObject({ 'http.response.status_code': 404, 'url.path': '/no/such/path' });
  });
});

describe('shutdown', () => {
  it('can be called more than once', async () => {
    const { telemetry } = makeTelemetry();
    await telemetry.shutdown();
    await expect(telemetry.shutdown()).resolves.toBeUndefined();
  });
});
