import { once } from 'node:events';
import { type IncomingMessage, type Server, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { mountGraphQL } from '../graphql/mount-graphql.js';
import { ServiceMetrics } from '../telemetry/service-metrics.js';
import { ConsulClient } from '../discovery/consul-client.js';
import { Readiness, RunningService, createHttpService } from './http-service.js';
import { createTelemetry } from '../telemetry/tracing.js';

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A service app as every Heimdall service builds it, with a GraphQL endpoint and its log lines captured. */
async function makeService() {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const metrics = new ServiceMetrics({ service: 'test', instance: 'test-1' });
  const app = createHttpService(
    { logger, metrics, telemetry: createTelemetry({ serviceName: 'test', serviceVersion: '0' }) },
    new Readiness(),
    {
      bodyLimitBytes: 1024,
    },
  );
  const schema = buildSubgraphSchema([
    { typeDefs: parse('type Query { hello: String }'), resolvers: { Query: { hello: () => 'world' } } },
  ]);
  await mountGraphQL(app, { schema }, { metrics, logger, context: () => Promise.resolve({}) });
  return { app, lines };
}

const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

describe('client errors raised by the HTTP layer itself', () => {
  it.each([
    ['a malformed JSON body', { 'content-type': 'application/json' }, '{"query": ', 400, 'BAD_USER_INPUT', /JSON/i],
    [
      'a body over the limit',
      { 'content-type': 'application/json' },
      JSON.stringify({ query: `{ hello } #${'x'.repeat(2000)}` }),
      413,
      'PAYLOAD_TOO_LARGE',
      /exceeds the limit of 1024 bytes/,
    ],
    [
      'a content type the endpoint does not read',
      { 'content-type': 'text/xml' },
      '<query/>',
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      /text\/xml/,
    ],
  ])(
    'answers %s with a 4xx naming the problem, logged at info',
    async (_case, headers, payload, status, code, message) => {
      const { app, lines } = await makeService();
      apps.push(app);

      const response = await app.inject({ method: 'POST', url: '/graphql', headers, payload });

      expect(response.statusCode).toBe(status);
      const body = response.json<{ error: { code: string; message: string } }>();
      expect(body.error.code).toBe(code);
      expect(body.error.message).toMatch(message);
      expect(lines.filter((l) => l.level >= 50)).toEqual([]);
      // One line saying what was refused, without the stack of an error that is the client's.
      const refused = lines.filter((l) => /request refused/.test(l.msg));
      expect(refused).toEqual([
        expect.objectContaining({ level: 30, status, code, route: '/graphql', method: 'POST' }),
      ]);
      expect(JSON.stringify(refused)).not.toMatch(/stack|"err"/);
    },
  );

  it('still answers a well-formed request', async () => {
    const { app } = await makeService();
    apps.push(app);

    const response = await app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json' },
      payload: '{"query":"{ hello }"}',
    });

    expect(response.json()).toEqual({ data: { hello: 'world' } });
  });

  it('answers an unexpected failure with 500 and logs it as an error, without its text', async () => {
    const { app, lines } = await makeService();
    apps.push(app);
    app.get('/boom', () => {
      throw new Error('password=hunter2');
    });

    const response = await app.inject({ url: '/boom' });

    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('hunter2');
    expect(lines.some((l) => l.level === 50)).toBe(true);
  });
});

describe('a body over the limit, on a real connection', () => {
  /** The service listening on 127.0.0.1, and a raw POST /graphql to it with `headers` (its body is the caller's to send). */
  async function post(headers: Record<string, string | number>) {
    const { app } = await makeService();
    apps.push(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const request = httpRequest({
      host: '127.0.0.1',
      port,
      path: '/graphql',
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
    });
    const errors: string[] = [];
    request.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message));
    let continued = false;
    request.on('continue', () => (continued = true));
    const response = once(request, 'response').then(async (args) => {
      const message = args[0] as IncomingMessage;
      const chunks: Buffer[] = [];
      for await (const chunk of message) chunks.push(chunk as Buffer);
      return { status: message.statusCode, headers: message.headers, body: Buffer.concat(chunks).toString() };
    });
    return { request, response, errors, continued: () => continued };
  }

  it('answers 413 instead of 100 Continue when Expect: 100-continue comes with a Content-Length over the limit', async () => {
    const { request, response, continued } = await post({ 'content-length': 1_000_000, expect: '100-continue' });
    request.flushHeaders();

    const answer = await response;
    request.destroy();

    expect(answer.status).toBe(413);
    expect(continued()).toBe(false);
  });

  it('answers 100 Continue to Expect: 100-continue within the limit, then the request', async () => {
    const body = JSON.stringify({ query: '{ hello }' });
    const { request, response, continued } = await post({
      'content-length': Buffer.byteLength(body),
      expect: '100-continue',
    });
    request.once('continue', () => request.end(body));
    request.flushHeaders();

    const answer = await response;

    expect(continued()).toBe(true);
    expect(JSON.parse(answer.body)).toEqual({ data: { hello: 'world' } });
  });

  it('lets a client still sending read its early 413, and closes the connection after it', async () => {
    const { request, response, errors } = await post({ 'content-length': 4 * 1024 * 1024 });
    const closed = once(request, 'close');
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    for (let sent = 0; sent < 4 * 1024 * 1024 && !request.destroyed; sent += chunk.length) {
      if (!request.write(chunk)) await Promise.race([once(request, 'drain'), closed]);
    }
    if (!request.destroyed) request.end();

    const answer = await response;
    await closed;

    expect(errors).toEqual([]);
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe('close');
  });
});

describe('stopping a service', () => {
  let silent: Server | undefined;
  afterEach(async () => {
    silent?.closeAllConnections();
    await new Promise((resolve) => silent?.close(resolve) ?? resolve(undefined));
  });

  it('stops when Consul does not answer its deregistration, and says so', async () => {
    // A Consul that takes the request and never answers.
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent!.listen(0, '127.0.0.1', resolve));
    const consul = new ConsulClient(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`, {
      deregisterTimeoutMs: 200,
    });
    const { app, lines } = await makeService();
    const readiness = new Readiness();
    readiness.registered = true;
    const service = new RunningService(
      app,
      readiness,
      {
        consul,
        identity: { name: 'metrics', version: '0', instanceId: 'metrics-1' },
        advertiseAddress: '127.0.0.1',
        tags: [],
        meta: {},
        check: { interval: '30s', timeout: '10s', deregisterCriticalAfter: '90s' },
      },
      pino(
        { level: 'info' },
        new Writable({
          write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString()) as LogLine), done()),
        }),
      ),
      () => Promise.resolve(),
    );

    await service.stop();

    expect(service.isRegistered).toBe(false);
    expect(lines.map((l) => l.msg)).toEqual([
      'deregistration failed; Consul reaps the instance once its check fails',
      'metrics stopped',
    ]);
  });
});
