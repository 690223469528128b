import { type IncomingHttpHeaders, type IncomingMessage, request as httpRequest } from 'node:http';
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Caller } from '@heimdall/shared/auth';
import type { ServiceInstance } from '@heimdall/shared/discovery';
import { heimdallError } from '@heimdall/shared/errors';
import { DEFAULT_MAX_BODY_BYTES } from '@heimdall/shared/otlp';
import { sendWholeBody } from '@heimdall/testkit';
import { makeInstance } from './fake-consul.fixtures.js';
import { type Handler, type TestServer, listen, readBody } from './http.fixtures.js';
import { makeLogger } from './logger.fixtures.js';
import type { Admission } from './front-door.js';
import { type OtlpAccess, OtlpRouter } from './otlp-router.js';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';
const FORWARD_TIMEOUT_MS = 30_000;

/** google.rpc.Status from its protobuf encoding: code (field 1, varint) and message (field 2, string). */
function decodeRpcStatus(bytes: Buffer): { code: number; message: string } {
  const status = { code: 0, message: '' };
  let at = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  while (at < bytes.length) {
    const tag = varint();
    if (tag >> 3 === 1 && (tag & 7) === 0) status.code = varint();
    else if ((tag & 7) === 2) {
      const length = varint();
      if (tag >> 3 === 2) status.message = bytes.subarray(at, at + length).toString();
      at += length;
    } else throw new Error(`unexpected field in google.rpc.Status: tag ${tag}`);
  }
  return status;
}

/** Resolves when a request the owner received is over, completely read or aborted. */
function closed(request: IncomingMessage): Promise<void> {
  request.on('error', () => undefined);
  return request.closed ? Promise.resolve() : new Promise((resolve) => request.once('close', () => resolve()));
}

/** The Status in an answer, in whichever encoding the answer says it is. */
function statusOf(answer: Answer): { code: number; message: string } {
  if (answer.headers['content-type'] === PROTOBUF) return decodeRpcStatus(answer.body);
  expect(answer.headers['content-type']).toBe(JSON_TYPE);
  return JSON.parse(answer.body.toString()) as { code: number; message: string };
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

interface AgentRequest {
  readonly path?: string;
  readonly method?: string;
  readonly headers?: Record<string, string | number>;
  /** The whole body, or a body of `streamBytes` sent in 64 KiB chunks with no Content-Length (chunked). */
  readonly body?: Buffer;
  readonly streamBytes?: number;
}

/**
 * One request as an agent sends it. A streamed body stops at the answer (the router may answer before it read
 * everything); write errors after the answer are what an agent sees then, and are ignored.
 */
async function send(port: number, agent: AgentRequest): Promise<Answer> {
  const request = httpRequest({
    host: '127.0.0.1',
    port,
    path: agent.path ?? '/v1/metrics',
    method: agent.method ?? 'POST',
    headers: { 'content-type': PROTOBUF, ...agent.headers },
  });
  let answered = false;
  const answer = new Promise<Answer>((resolve, reject) => {
    request.once('response', (response: IncomingMessage) => {
      answered = true;
      readBody(response).then(
        (body) => resolve({ status: response.statusCode!, headers: response.headers, body }),
        reject,
      );
    });
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
  });
  if (agent.streamBytes === undefined) {
    request.end(agent.body);
    return answer;
  }
  const chunk = Buffer.alloc(64 * 1024, 7);
  for (let sent = 0; sent < agent.streamBytes && !answered && !request.destroyed; sent += chunk.length) {
    if (!request.write(chunk))
      await Promise.race([once(request, 'drain'), answer.catch(() => undefined), once(request, 'close')]);
  }
  if (!answered && !request.destroyed) request.end();
  return answer;
}

const AGENT: Caller = { kind: 'apiKey', subject: 'key-1', roles: ['agent'] };

/** The front door as a test wants it: admits as `admission` says; forwards carry `x-service-auth: internal-for-<subject>`. */
function makeAccess(admission: Admission = { ok: true, caller: AGENT }): OtlpAccess {
  return {
    admit: () => Promise.resolve(admission),
    headers: (caller) => Promise.resolve({ 'x-service-auth': `internal-for-${caller.subject}` }),
  };
}

function makeDirectory(instances: readonly ServiceInstance[]) {
  let next = 0;
  return {
    passing: (name: string) => instances.filter((i) => i.name === name),
    pick(name: string) {
      const list = instances.filter((i) => i.name === name);
      return list.length === 0 ? undefined : list[next++ % list.length];
    },
  };
}

describe('OtlpRouter', () => {
  let owner: TestServer | undefined;
  let router: OtlpRouter | undefined;

  async function start(handler: Handler, { extraInstances = [] as ServiceInstance[], access = makeAccess() } = {}) {
    owner = await listen(handler);
    const log = makeLogger();
    const instances = [...extraInstances, makeInstance({ name: 'metrics', id: 'metrics-1', port: owner.port })];
    router = new OtlpRouter(makeDirectory(instances), log.logger, { forwardTimeoutMs: FORWARD_TIMEOUT_MS, access });
    return { port: await router.listen('127.0.0.1', 0), ...log };
  }

  afterEach(async () => {
    vi.useRealTimers();
    await router?.close();
    await owner?.close();
    router = undefined;
    owner = undefined;
  });

  describe('who may push', () => {
    const ok: Handler = (_request, response) => void response.writeHead(200, { 'content-type': PROTOBUF }).end();

    it.each([PROTOBUF, JSON_TYPE])(
      'refuses a push without credentials with 401 in the OTLP shape (%s), and forwards nothing',
      async (contentType) => {
        const { port } = await start(ok, {
          access: makeAccess({
            ok: false,
            error: heimdallError('UNAUTHENTICATED', { message: 'Missing or invalid authorization header' }),
          }),
        });

        const answer = await send(port, { headers: { 'content-type': contentType }, body: Buffer.from([1, 2, 3]) });

        expect(answer.status).toBe(401);
        expect(answer.headers['content-type']).toBe(contentType);
        expect(answer.headers['www-authenticate']).toBe('Bearer realm="heimdall"');
        expect(statusOf(answer)).toEqual({ code: 16, message: 'Missing or invalid authorization header' });
        expect(owner!.requests).toHaveLength(0);
      },
    );

    it('refuses a caller without an ingesting role with 403 "Insufficient permissions"', async () => {
      const { port } = await start(ok, {
        access: makeAccess({ ok: true, caller: { kind: 'user', subject: 'ana', roles: ['viewer', 'editor'] } }),
      });

      const answer = await send(port, { body: Buffer.from([1, 2, 3]) });

      expect(answer.status).toBe(403);
      expect(statusOf(answer)).toEqual({ code: 7, message: 'Insufficient permissions' });
      expect(owner!.requests).toHaveLength(0);
    });

    it('answers 429 with Retry-After past the rate limit', async () => {
      const { port } = await start(ok, {
        access: makeAccess({ ok: false, error: heimdallError('RATE_LIMITED', { retryAfterSeconds: 2 }) }),
      });

      const answer = await send(port, { body: Buffer.from([1, 2, 3]) });

      expect(answer.status).toBe(429);
      expect(answer.headers['retry-after']).toBe('2');
      expect(statusOf(answer).code).toBe(8);
    });

    it("forwards an agent's push with an internal token in place of its credentials, and drops a forged one", async () => {
      const { port } = await start(ok);

      await send(port, {
        headers: { authorization: 'Bearer hmd_secret', 'x-api-key': 'hmd_secret', 'x-service-auth': 'forged' },
        body: Buffer.from([1]),
      });

      const forwarded = owner!.requests[0]!.headers;
      expect(forwarded['x-service-auth']).toBe('internal-for-key-1');
      expect(forwarded.authorization).toBeUndefined();
      expect(forwarded['x-api-key']).toBeUndefined();
    });
  });

  describe('forwarding', () => {
    it("streams the agent's request to the owner and its answer back, partial success included", async () => {
      const received: { body?: Buffer; headers?: IncomingHttpHeaders } = {};
      const partialSuccess = JSON.stringify({
        partialSuccess: { rejectedDataPoints: '2', errorMessage: '2 points older than 7 days' },
      });
      const { port } = await start((request, response) => {
        received.headers = request.headers;
        void readBody(request).then((body) => {
          received.body = body;
          response.writeHead(200, { 'content-type': JSON_TYPE }).end(partialSuccess);
        });
      });
      const body = Buffer.from(JSON.stringify({ resourceMetrics: [] }));

      const answer = await send(port, { body, headers: { 'content-type': JSON_TYPE, 'content-encoding': 'identity' } });

      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe(JSON_TYPE);
      expect(answer.body.toString()).toBe(partialSuccess);
      expect(received.body).toEqual(body);
      expect(received.headers).toMatchObject({ 'content-type': JSON_TYPE, 'content-encoding': 'identity' });
    });

    it('answers 100 Continue to an Expect: 100-continue push within the limit, and forwards its body', async () => {
      const { port } = await start((request, response) => {
        void readBody(request).then((body) => response.writeHead(200, { 'content-type': PROTOBUF }).end(body));
      });
      const body = Buffer.from([1, 2, 3]);
      const agent = httpRequest({
        host: '127.0.0.1',
        port,
        path: '/v1/metrics',
        method: 'POST',
        headers: { 'content-type': PROTOBUF, 'content-length': body.length, expect: '100-continue' },
      });
      agent.once('continue', () => agent.end(body));
      agent.flushHeaders();
      const [response] = (await once(agent, 'response')) as [IncomingMessage];

      expect(response.statusCode).toBe(200);
      expect(await readBody(response)).toEqual(body);
    });

    it("passes the owner's 503 and Retry-After through unchanged", async () => {
      const { port } = await start((request, response) => {
        request.resume();
        response.writeHead(503, { 'content-type': PROTOBUF, 'retry-after': '7' }).end(Buffer.from([0x08, 0x0e]));
      });

      const answer = await send(port, { body: Buffer.from([1, 2, 3]) });

      expect(answer.status).toBe(503);
      expect(answer.headers['retry-after']).toBe('7');
      expect(decodeRpcStatus(answer.body).code).toBe(14);
    });

    it('tries the next passing instance when one refuses the connection', async () => {
      const closed = await listen(() => undefined);
      await closed.close();
      const { port } = await start(
        (request, response) =>
          void readBody(request).then(() => response.writeHead(200, { 'content-type': PROTOBUF }).end()),
        { extraInstances: [makeInstance({ name: 'metrics', id: 'metrics-gone', port: closed.port })] },
      );

      const answer = await send(port, { body: Buffer.from([1, 2, 3]) });

      expect(answer.status).toBe(200);
    });
  });

  describe('an early answer to an agent still sending', () => {
    /**
     * A raw agent that sends the whole of a body of `bytes` whatever the answer, as many do, and says whether a
     * write failed (a reset) and what it read.
     */
    const sendWhole = (port: number, bytes: number) => sendWholeBody(port, '/v1/metrics', PROTOBUF, bytes);

    it('lets it read the 413 and close, never resetting the connection while it sends', async () => {
      owner = await listen(() => undefined);
      router = new OtlpRouter(makeDirectory([]), makeLogger().logger, {
        forwardTimeoutMs: FORWARD_TIMEOUT_MS,
        access: makeAccess(),
        maxBodyBytes: 1024,
      });
      const port = await router.listen('127.0.0.1', 0);

      const { answer, errors } = await sendWhole(port, 4 * 1024 * 1024);

      expect(errors).toEqual([]);
      expect(answer?.status).toBe(413);
    });

    it("lets it read the owner's early 413 the same way", async () => {
      const { port } = await start((request, response) => {
        request.once('data', () =>
          response.writeHead(413, { 'content-type': PROTOBUF, connection: 'close' }).end(Buffer.from([0x08, 0x03])),
        );
      });

      const { answer, errors } = await sendWhole(port, 4 * 1024 * 1024);

      expect(errors).toEqual([]);
      expect(answer?.status).toBe(413);
    });
  });

  describe('an owner that answers before reading the whole body', () => {
    it("passes the owner's 413 on, not a 503 of its own, while a 22 MB body is still streaming", async () => {
      const refusal = Buffer.from([0x08, 0x03]);
      const { port } = await start((request, response) => {
        // As fastify does past its body limit: answer, close, read no further.
        request.once('data', () =>
          response.writeHead(413, { 'content-type': PROTOBUF, connection: 'close' }).end(refusal),
        );
      });

      const answer = await send(port, { streamBytes: 22 * 1024 * 1024 });

      expect(answer.status).toBe(413);
      expect(answer.body).toEqual(refusal);
    });
  });

  describe('an owner that fails', () => {
    it('answers 503 with Retry-After when the owner drops the connection without answering', async () => {
      const { port, warn } = await start((request) => request.once('data', () => request.socket.destroy()));

      const answer = await send(port, { streamBytes: 4 * 1024 * 1024 });

      expect(answer.status).toBe(503);
      expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
      expect(statusOf(answer).code).toBe(14);
      expect(warn).toHaveBeenCalledWith(expect.objectContaining({ owner: 'metrics' }), 'OTLP forward failed');
    });
  });

  describe('time and disconnects', () => {
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    });

    it('answers 503 with Retry-After in the request encoding when the owner does not answer in time, and ends the forward', async () => {
      const { port } = await start(() => undefined);

      const pending = send(port, { body: Buffer.from([1, 2, 3]) });
      const forwarded = await owner!.nextRequest();
      await vi.advanceTimersByTimeAsync(FORWARD_TIMEOUT_MS);
      const answer = await pending;

      expect(answer.status).toBe(503);
      expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
      expect(answer.headers['content-type']).toBe(PROTOBUF);
      expect(statusOf(answer)).toMatchObject({ code: 14, message: expect.stringContaining('metrics') as unknown });
      await closed(forwarded);
      expect(forwarded.socket.destroyed).toBe(true);
    });

    it('does not time out an owner that answers in time', async () => {
      const { port } = await start(
        (request, response) =>
          void readBody(request).then(() => response.writeHead(200, { 'content-type': PROTOBUF }).end()),
      );

      const answer = await send(port, { body: Buffer.from([1, 2, 3]) });
      await vi.advanceTimersByTimeAsync(FORWARD_TIMEOUT_MS);

      expect(answer.status).toBe(200);
    });

    it('aborts the request to the owner when the agent goes away', async () => {
      const { port } = await start(() => undefined);
      const agent = httpRequest({
        host: '127.0.0.1',
        port,
        path: '/v1/metrics',
        method: 'POST',
        headers: { 'content-type': PROTOBUF, 'content-length': 1000 },
      });
      agent.on('error', () => undefined);
      agent.write(Buffer.alloc(100));
      const forwarded = await owner!.nextRequest();

      agent.destroy();

      await closed(forwarded);
      expect(forwarded.complete).toBe(false);
    });
  });

  describe("the router's own answers", () => {
    for (const contentType of [PROTOBUF, JSON_TYPE]) {
      describe(`to a ${contentType} request`, () => {
        it('answers 404 for a path that is no OTLP signal', async () => {
          const { port } = await start(() => undefined);

          const answer = await send(port, {
            path: '/v1/profiles',
            headers: { 'content-type': contentType },
            body: Buffer.from('{}'),
          });

          expect(answer.status).toBe(404);
          expect(answer.headers['content-type']).toBe(contentType);
          expect(statusOf(answer)).toEqual({ code: 5, message: expect.stringContaining('/v1/metrics') as unknown });
          expect(owner!.requests).toHaveLength(0);
        });

        it('answers 405 for a method other than POST', async () => {
          const { port } = await start(() => undefined);

          const answer = await send(port, { method: 'GET', headers: { 'content-type': contentType } });

          expect(answer.status).toBe(405);
          expect(answer.headers.allow).toBe('POST');
          expect(answer.headers['content-type']).toBe(contentType);
          expect(statusOf(answer).message).toMatch(/POST/);
        });

        it('answers 413 at once for a Content-Length over 20 MiB, without calling the owner', async () => {
          const { port } = await start(() => undefined);
          const agent = httpRequest({
            host: '127.0.0.1',
            port,
            path: '/v1/metrics',
            method: 'POST',
            headers: { 'content-type': contentType, 'content-length': DEFAULT_MAX_BODY_BYTES + 1 },
          });
          agent.on('error', () => undefined);
          agent.write(Buffer.alloc(64 * 1024));
          const [response] = (await once(agent, 'response')) as [IncomingMessage];
          const answer = { status: response.statusCode!, headers: response.headers, body: await readBody(response) };
          agent.destroy();

          expect(answer.status).toBe(413);
          expect(answer.headers['content-type']).toBe(contentType);
          expect(statusOf(answer).code).toBe(3);
          expect(owner!.requests).toHaveLength(0);
        });

        it('answers 413 instead of 100 Continue to an Expect: 100-continue request over 20 MiB', async () => {
          const { port } = await start(() => undefined);
          const agent = httpRequest({
            host: '127.0.0.1',
            port,
            path: '/v1/metrics',
            method: 'POST',
            headers: {
              'content-type': contentType,
              'content-length': DEFAULT_MAX_BODY_BYTES + 1,
              expect: '100-continue',
            },
          });
          let continued = false;
          agent.on('continue', () => (continued = true));
          agent.on('error', () => undefined);
          agent.flushHeaders();
          const [response] = (await once(agent, 'response')) as [IncomingMessage];
          await readBody(response);
          agent.destroy();

          expect(response.statusCode).toBe(413);
          expect(continued).toBe(false);
          expect(owner!.requests).toHaveLength(0);
        });

        it('answers 503 with Retry-After when the owner has no passing instance', async () => {
          owner = await listen(() => undefined);
          router = new OtlpRouter(makeDirectory([]), makeLogger().logger, {
            forwardTimeoutMs: FORWARD_TIMEOUT_MS,
            access: makeAccess(),
          });
          const port = await router.listen('127.0.0.1', 0);

          const answer = await send(port, { headers: { 'content-type': contentType }, body: Buffer.from([1, 2, 3]) });

          expect(answer.status).toBe(503);
          expect(Number(answer.headers['retry-after'])).toBeGreaterThan(0);
          expect(answer.headers['content-type']).toBe(contentType);
          expect(statusOf(answer)).toEqual({ code: 14, message: expect.stringContaining('metrics') as unknown });
        });
      });
    }
  });
});
