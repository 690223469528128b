import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { fromBinary } from '@bufbuild/protobuf';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { heimdallError } from '../errors/heimdall-error.js';
import { sendWholeBody } from './send-whole-body.fixtures.js';
import type { OtlpExportResult, OtlpRequest } from './decode.js';
import { makeResourceMetrics, serialize, transformer } from './otel-js.fixtures.js';
import { DEFAULT_MAX_BODY_BYTES, gunzipWithLimit, type OtlpHandlerContext, registerOtlpRoute } from './receiver.js';
import { ExportMetricsServiceResponseSchema, RpcStatusSchema } from './schema.js';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

type Handle = (request: OtlpRequest<'metrics'>, ctx: OtlpHandlerContext) => Promise<OtlpExportResult>;

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function makeApp(
  handle: Handle = () => Promise.resolve({ rejected: 0 }),
  maxBodyBytes?: number,
): Promise<FastifyInstance> {
  app = Fastify();
  await registerOtlpRoute(app, { signal: 'metrics', handle, ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }) });
  // A neighbour using fastify's own JSON parsing, as the GraphQL route does.
  app.post('/echo', (request) => ({ parsed: request.body }));
  await app.ready();
  return app;
}

async function metricsProtobuf(): Promise<Uint8Array> {
  return serialize(transformer.ProtobufMetricsSerializer, await makeResourceMetrics());
}

async function metricsJson(): Promise<Uint8Array> {
  return serialize(transformer.JsonMetricsSerializer, await makeResourceMetrics());
}

function post(
  target: FastifyInstance,
  contentType: string | undefined,
  payload: Uint8Array | string | Readable,
  headers: Record<string, string> = {},
) {
  const body = payload instanceof Uint8Array ? Buffer.from(payload) : payload;
  return target.inject({
    method: 'POST',
    url: '/v1/metrics',
    headers: { ...(contentType === undefined ? {} : { 'content-type': contentType }), ...headers },
    payload: body,
  });
}

function protobufStatus(rawPayload: Buffer) {
  return fromBinary(RpcStatusSchema, rawPayload);
}

describe('registerOtlpRoute', () => {
  describe('accepted requests', () => {
    it('hands the decoded protobuf request to handle and answers an empty protobuf response', async () => {
      const handle = vi.fn<Handle>(() => Promise.resolve({ rejected: 0 }));
      const target = await makeApp(handle);
      const response = await post(target, PROTOBUF, await metricsProtobuf());
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe(PROTOBUF);
      expect(response.rawPayload).toHaveLength(0);
      expect(handle).toHaveBeenCalledOnce();
      const [request, ctx] = handle.mock.calls[0] ?? [];
      expect(request?.resourceMetrics[0]?.scopeMetrics[0]?.metrics.map((m) => m.name)).toContain('http.latency');
      expect(ctx?.encoding).toBe('protobuf');
    });

    it('accepts JSON with a charset parameter and answers JSON', async () => {
      const handle = vi.fn<Handle>(() => Promise.resolve({ rejected: 0 }));
      const target = await makeApp(handle);
      const response = await post(target, 'application/json; charset=utf-8', await metricsJson());
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.json()).toEqual({});
      expect(handle.mock.calls[0]?.[1].encoding).toBe('json');
    });

    it('gunzips a gzip body', async () => {
      const handle = vi.fn<Handle>(() => Promise.resolve({ rejected: 0 }));
      const target = await makeApp(handle);
      const response = await post(target, PROTOBUF, gzipSync(await metricsProtobuf()), { 'content-encoding': 'gzip' });
      expect(response.statusCode).toBe(200);
      expect(handle.mock.calls[0]?.[0].resourceMetrics[0]?.scopeMetrics[0]?.metrics).toHaveLength(5);
    });

    it('reports partial success in JSON', async () => {
      const target = await makeApp(() => Promise.resolve({ rejected: 2, errorMessage: '2 points older than 7 days' }));
      const response = await post(target, JSON_TYPE, await metricsJson());
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        partialSuccess: { rejectedDataPoints: '2', errorMessage: '2 points older than 7 days' },
      });
    });

    it('reports partial success in protobuf', async () => {
      const target = await makeApp(() => Promise.resolve({ rejected: 5, errorMessage: 'too far in the future' }));
      const response = await post(target, PROTOBUF, await metricsProtobuf());
      expect(response.statusCode).toBe(200);
      expect(fromBinary(ExportMetricsServiceResponseSchema, response.rawPayload).partialSuccess).toMatchObject({
        rejectedDataPoints: 5n,
        errorMessage: 'too far in the future',
      });
    });

    it('leaves JSON parsing of the app’s other routes alone', async () => {
      const target = await makeApp();
      const response = await target.inject({ method: 'POST', url: '/echo', payload: { query: '{ a }' } });
      expect(response.json()).toEqual({ parsed: { query: '{ a }' } });
    });
  });

  describe('rejected requests', () => {
    it.each([
      ['text/plain', 'Content-Type must be application/x-protobuf or application/json'],
      [undefined, 'Content-Type must be application/x-protobuf or application/json'],
    ])('answers 415 with a Status for Content-Type %s', async (contentType, message) => {
      const handle = vi.fn<Handle>();
      const target = await makeApp(handle);
      const response = await post(target, contentType, 'hello');
      expect(response.statusCode).toBe(415);
      expect(response.json()).toEqual({ code: 3, message });
      expect(handle).not.toHaveBeenCalled();
    });

    it('answers 415 for a Content-Encoding other than gzip', async () => {
      const target = await makeApp();
      const response = await post(target, PROTOBUF, await metricsProtobuf(), { 'content-encoding': 'br' });
      expect(response.statusCode).toBe(415);
      expect(protobufStatus(response.rawPayload)).toMatchObject({
        code: 3,
        message: 'Content-Encoding must be gzip or identity',
      });
    });

    it('answers 400 with a protobuf Status for malformed protobuf', async () => {
      const target = await makeApp();
      const bytes = await metricsProtobuf();
      const response = await post(target, PROTOBUF, bytes.subarray(0, bytes.length - 5));
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toBe(PROTOBUF);
      const status = protobufStatus(response.rawPayload);
      expect(status.code).toBe(3);
      expect(status.message).toMatch(/^invalid OTLP protobuf body: /);
    });

    it('answers 400 with a JSON Status for malformed JSON', async () => {
      const target = await makeApp();
      const response = await post(target, JSON_TYPE, '{"resourceMetrics": [');
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({
        code: 3,
        message: expect.stringMatching(/^invalid OTLP JSON body: /) as unknown,
      });
    });

    it('answers 400 naming a span id that is not hex', async () => {
      const target = await makeApp();
      const body = JSON.stringify({
        resourceMetrics: [
          { scopeMetrics: [{ metrics: [{ gauge: { dataPoints: [{ exemplars: [{ spanId: 'xyz' }] }] } }] }] },
        ],
      });
      const response = await post(target, JSON_TYPE, body);
      expect(response.statusCode).toBe(400);
      expect(response.json<{ message: string }>().message).toContain('exemplars[0].spanId must be a hex-encoded id');
    });

    it('answers 400 for a gzip header on a body that is not gzip', async () => {
      const target = await makeApp();
      const response = await post(target, PROTOBUF, await metricsProtobuf(), { 'content-encoding': 'gzip' });
      expect(response.statusCode).toBe(400);
      expect(protobufStatus(response.rawPayload).message).toMatch(/^invalid gzip body/);
    });
  });

  describe('body limit', () => {
    it('answers 413 to a raw body over the limit without calling handle', async () => {
      const handle = vi.fn<Handle>();
      const target = await makeApp(handle);
      const response = await post(target, PROTOBUF, Buffer.alloc(DEFAULT_MAX_BODY_BYTES + 1));
      expect(response.statusCode).toBe(413);
      expect(protobufStatus(response.rawPayload)).toMatchObject({
        code: 3,
        message: `request body exceeds the limit of ${DEFAULT_MAX_BODY_BYTES} bytes`,
      });
      expect(response.headers.connection).toBe('close');
      expect(handle).not.toHaveBeenCalled();
    });

    it('answers 413 to a streamed body without Content-Length once it passes the limit', async () => {
      const target = await makeApp(undefined, 1024);
      const chunks = Array.from({ length: 8 }, () => Buffer.alloc(512));
      const response = await post(target, JSON_TYPE, Readable.from(chunks));
      expect(response.statusCode).toBe(413);
      expect(response.json()).toEqual({ code: 3, message: `request body exceeds the limit of 1024 bytes` });
    });

    it('answers 413 to a gzip bomb, a small body that inflates past the limit', async () => {
      const handle = vi.fn<Handle>();
      const target = await makeApp(handle);
      const bomb = gzipSync(Buffer.alloc(30 * 1024 * 1024));
      expect(bomb.length).toBeLessThan(64 * 1024);
      const response = await post(target, JSON_TYPE, bomb, { 'content-encoding': 'gzip' });
      expect(response.statusCode).toBe(413);
      expect(response.json()).toEqual({
        code: 3,
        message: `decompressed body exceeds ${DEFAULT_MAX_BODY_BYTES} bytes`,
      });
      expect(handle).not.toHaveBeenCalled();
    });

    it('lets an agent still sending read its 413 and the close, never a reset it would retry', async () => {
      const target = await makeApp(undefined, 1024);
      await target.listen({ host: '127.0.0.1', port: 0 });
      const { port } = target.server.address() as AddressInfo;

      const { answer, errors } = await sendWholeBody(port, '/v1/metrics', PROTOBUF, 4 * 1024 * 1024);

      expect(errors).toEqual([]);
      expect(answer?.status).toBe(413);
    });

    it('accepts a gzip body that inflates to exactly the limit', async () => {
      const target = await makeApp(undefined, 64);
      const body = Buffer.from(JSON.stringify({ resourceMetrics: [] }).padEnd(64, ' '));
      const response = await post(target, JSON_TYPE, gzipSync(body), { 'content-encoding': 'gzip' });
      expect(response.statusCode).toBe(200);
    });
  });

  describe('handler failures', () => {
    it('answers 503 with Retry-After when the store is unavailable', async () => {
      const target = await makeApp(() =>
        Promise.reject(heimdallError('UNAVAILABLE', { retryAfterSeconds: 7, service: 'clickhouse' })),
      );
      const response = await post(target, PROTOBUF, await metricsProtobuf());
      expect(response.statusCode).toBe(503);
      expect(response.headers['retry-after']).toBe('7');
      expect(protobufStatus(response.rawPayload)).toMatchObject({
        code: 14,
        message: 'Service temporarily unavailable',
      });
    });

    it('answers 429 with Retry-After when rate limited', async () => {
      const target = await makeApp(() => Promise.reject(heimdallError('RATE_LIMITED', { retryAfterSeconds: 2.5 })));
      const response = await post(target, JSON_TYPE, await metricsJson());
      expect(response.statusCode).toBe(429);
      expect(response.headers['retry-after']).toBe('3');
      expect(response.json()).toEqual({ code: 8, message: 'Too many requests' });
    });

    it('answers 500 with a generic Status and keeps the cause to itself', async () => {
      const target = await makeApp(() => Promise.reject(new Error('password=hunter2 in connection string')));
      const response = await post(target, JSON_TYPE, await metricsJson());
      expect(response.statusCode).toBe(500);
      expect(response.json()).toEqual({ code: 13, message: 'Internal server error' });
    });
  });
});

describe('gunzipWithLimit', () => {
  it('stops inflating at the limit instead of inflating the whole bomb', async () => {
    const limit = 1024 * 1024;
    const result = await gunzipWithLimit(gzipSync(Buffer.alloc(30 * 1024 * 1024)), limit);
    expect(result.ok).toBe(false);
    if (result.ok || !result.tooLarge) throw new Error('expected tooLarge');
    // At most one zlib output chunk (16 KiB) beyond the limit, not the 30 MiB the body would inflate to.
    expect(result.inflatedBytes).toBeGreaterThan(limit);
    expect(result.inflatedBytes).toBeLessThanOrEqual(limit + 64 * 1024);
  });

  it('returns the inflated body under the limit', async () => {
    const result = await gunzipWithLimit(gzipSync(Buffer.from('hello')), 5);
    expect(result).toEqual({ ok: true, body: Buffer.from('hello') });
  });

  it('reports a corrupt stream', async () => {
    const result = await gunzipWithLimit(Buffer.from('not gzip'), 1024);
    expect(result).toMatchObject({
      ok: false,
      tooLarge: false,
      message: expect.stringMatching(/^invalid gzip body: /) as unknown,
    });
  });
});
