import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { fromBinary } from '@bufbuild/protobuf';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ExportTraceServiceRequest, hexId, otlp } from '@heimdall/shared/otlp';
import { type PrivateStack, localStack, privateStack } from '@heimdall/stack';
import { attribute, makeExport, makeSpan } from './otlp-builders.fixtures.js';
import { TRACE_FIELDS, comparableTrace, expectedTrace, recordTrace } from '@heimdall/testkit';
import { encodeForJaeger } from './span-validation.js';
import { type TracesServer, startTracesServer } from './traces-server.fixtures.js';

const local = localStack(process.env);
const uniqueService = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

type TraceAnswer = ReturnType<typeof expectedTrace>;

/** A push as the gateway forwards an agent's. */
async function push(server: TracesServer, request: ExportTraceServiceRequest): Promise<Response> {
  return fetch(`${server.url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', ...(await server.agentHeaders()) },
    body: encodeForJaeger(request),
  });
}

async function spanCount(server: TracesServer, traceId: string): Promise<number | undefined> {
  const result = await server.graphql<{ trace: { spanCount: number } | null }>(
    'query($id: ID!) { trace(traceId: $id) { spanCount } }',
    { id: traceId },
  );
  expect(result.errors).toBeUndefined();
  return result.data?.trace?.spanCount;
}

describe('OTLP traces into Jaeger through the traces subgraph', () => {
  let server: TracesServer;
  beforeAll(async () => {
    await local.require('consul', 'jaeger');
    server = await startTracesServer(local);
  });
  afterAll(() => server?.stop());

  for (const [encoding, Exporter] of [
    ['protobuf', ProtobufTraceExporter],
    ['JSON', JsonTraceExporter],
  ] as const) {
    it(`gives back a trace the OpenTelemetry JS exporter sent as ${encoding}, by id, with every field intact`, async () => {
      const recorded = await recordTrace(
        new Exporter({ url: `${server.url}/v1/traces`, headers: await server.agentHeaders() }),
        uniqueService('shop'),
      );
      const result = await server.graphql<{ trace: TraceAnswer }>(
        `query($id: ID!) { trace(traceId: $id) { ${TRACE_FIELDS} } }`,
        { id: recorded.traceId },
      );
      expect(result.errors).toBeUndefined();
      expect(comparableTrace(result.data!.trace)).toEqual(expectedTrace(recorded));
    });
  }

  it('answers a push only once its spans are readable: 50 pushes in a row, each trace read back at once', async () => {
    const service = uniqueService('steady');
    const missed: string[] = [];
    for (let i = 0; i < 50; i++) {
      const span = makeSpan({ name: `op-${i}` });
      expect((await push(server, makeExport({ service, spans: [span] }))).status).toBe(200);
      if ((await spanCount(server, hexId(span.traceId))) !== 1) missed.push(hexId(span.traceId));
    }
    expect(missed).toEqual([]);
  });

  it('shows each span once when an agent retries a push', async () => {
    const root = makeSpan({ name: 'GET /cart' });
    const child = makeSpan({ traceId: root.traceId, parentSpanId: root.spanId, name: 'SELECT' });
    const request = makeExport({ service: uniqueService('retry'), spans: [root, child] });
    for (let i = 0; i < 3; i++) expect((await push(server, request)).status).toBe(200);
    expect(await spanCount(server, hexId(root.traceId))).toBe(2);
  });

  describe('spans over the limits of what is stored', () => {
    type Answer = {
      trace: { spans: { spanId: string; operationName: string; tags: { key: string; value: string }[] }[] } | null;
    };
    const readSpans = async (traceId: string) => {
      const result = await server.graphql<Answer>(
        'query($id: ID!) { trace(traceId: $id) { spans { spanId operationName tags { key value } } } }',
        { id: traceId },
      );
      expect(result.errors).toBeUndefined();
      return result.data?.trace?.spans ?? [];
    };
    const pushAnswer = async (request: ExportTraceServiceRequest) => {
      const response = await push(server, request);
      return {
        status: response.status,
        body: fromBinary(otlp.ExportTraceServiceResponseSchema, new Uint8Array(await response.arrayBuffer())),
      };
    };
    const writeBreaker = async () =>
      (await (await fetch(`${server.url}/metrics`)).text()).match(
        /heimdall_circuit_breaker_state\{policy="jaeger_otlp"[^}]*\} (\d)/,
      )?.[1];

    it('stores spans with a 128 KB attribute, a 70,000-character name or a 1 MB key cut to the limits and counted, and takes the next push', async () => {
      const service = uniqueService('poison');
      const bigValue = () =>
        makeSpan({
          attributes: [attribute('http.request.body', { case: 'stringValue', value: 'x'.repeat(128 * 1024) })],
        });
      const longName = makeSpan({ name: 'n'.repeat(70_000) });
      const bigKey = makeSpan({ attributes: [attribute('k'.repeat(2 ** 20), { case: 'stringValue', value: 'v' })] });
      const pushes = [[bigValue(), bigValue()], [longName], [bigKey]];
      for (const spans of pushes) {
        const answer = await pushAnswer(makeExport({ service, spans }));
        expect(answer.status).toBe(200);
        expect(answer.body.partialSuccess?.rejectedSpans ?? 0n).toBe(0n);
      }
      const [valueSpan] = await readSpans(hexId(pushes[0]![0]!.traceId));
      expect(valueSpan!.tags).toEqual([
        { key: 'http.request.body', value: 'x'.repeat(16_384) },
        { key: 'heimdall.truncated', value: '1' },
      ]);
      const [nameSpan] = await readSpans(hexId(longName.traceId));
      expect(nameSpan!.operationName).toBe('n'.repeat(1024));
      expect(nameSpan!.tags).toEqual([{ key: 'heimdall.truncated', value: '1' }]);
      const [keySpan] = await readSpans(hexId(bigKey.traceId));
      expect(keySpan!.tags).toEqual([
        { key: 'k'.repeat(256), value: 'v' },
        { key: 'heimdall.truncated', value: '1' },
      ]);

      const normal = makeSpan();
      expect((await pushAnswer(makeExport({ service, spans: [normal] }))).status).toBe(200);
      expect(await spanCount(server, hexId(normal.traceId))).toBe(1);
      expect(await writeBreaker()).toBe('0');
    });

    it('rejects alone a span Jaeger still refuses for good (too large for one badger transaction), storing the others of its push', async () => {
      const attributes = (prefix: string) =>
        Array.from({ length: 128 }, (_, i) =>
          attribute(`${prefix}${i}`, { case: 'stringValue', value: 'x'.repeat(16_384) }),
        );
      const now = Date.now();
      const huge = makeSpan({
        attributes: attributes('a'),
        events: Array.from({ length: 4 }, (_, e) => ({ timeMs: now, name: `e${e}`, attributes: attributes(`e${e}.`) })),
      });
      const kept = [makeSpan(), makeSpan(), makeSpan()];
      const answer = await pushAnswer(
        makeExport({ service: uniqueService('huge'), spans: [kept[0]!, huge, kept[1]!, kept[2]!] }),
      );
      expect(answer.status).toBe(200);
      expect(answer.body.partialSuccess).toMatchObject({
        rejectedSpans: 1n,
        errorMessage: 'Jaeger: refused a span for good: Txn is too big to fit into one request',
      });
      for (const span of kept) expect(await spanCount(server, hexId(span.traceId))).toBe(1);
      expect(await spanCount(server, hexId(huge.traceId))).toBeUndefined();
      expect(await writeBreaker()).toBe('0');
    }, 60_000);
  });

  describe('answers', () => {
    const post = async (body: Uint8Array | string, headers: Record<string, string>) =>
      fetch(`${server.url}/v1/traces`, {
        method: 'POST',
        headers: { ...headers, ...(await server.agentHeaders()) },
        body: typeof body === 'string' ? body : Buffer.from(body),
      });
    const status = async (response: Response) => ({ status: response.status, body: await response.json() });

    it('200 with partialSuccess for spans it rejects, storing the others', async () => {
      const kept = makeSpan();
      const request = makeExport({
        service: uniqueService('partial'),
        spans: [
          kept,
          makeSpan({ startMs: Date.now() - 8 * 86_400_000 }),
          makeSpan({ startMs: Date.now() + 3_600_000 }),
          makeSpan({ spanId: new Uint8Array(8) }),
        ],
      });
      const response = await post(encodeForJaeger(request), { 'content-type': 'application/x-protobuf' });
      expect(response.status).toBe(200);
      const answer = fromBinary(otlp.ExportTraceServiceResponseSchema, new Uint8Array(await response.arrayBuffer()));
      expect(answer.partialSuccess).toMatchObject({
        rejectedSpans: 3n,
        errorMessage:
          'spans must be at most 7 days old and at most 10 minutes ahead; span ids must be 8 bytes and not all zero',
      });
      expect(await spanCount(server, hexId(kept.traceId))).toBe(1);
    });

    it('the same for gzip bodies and JSON, in the request’s encoding', async () => {
      const gzipped = makeSpan();
      const protobuf = await post(
        gzipSync(encodeForJaeger(makeExport({ service: uniqueService('gzip'), spans: [gzipped] }))),
        {
          'content-type': 'application/x-protobuf',
          'content-encoding': 'gzip',
        },
      );
      expect(protobuf.status).toBe(200);
      expect(await spanCount(server, hexId(gzipped.traceId))).toBe(1);

      const span = makeSpan();
      const json = JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: uniqueService('json') } }] },
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: hexId(span.traceId),
                    spanId: hexId(span.spanId),
                    name: 'GET /',
                    startTimeUnixNano: String(span.startTimeUnixNano),
                    endTimeUnixNano: String(span.endTimeUnixNano),
                  },
                ],
              },
            ],
          },
        ],
      });
      const response = await post(gzipSync(json), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      expect(await status(response)).toEqual({ status: 200, body: {} });
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await spanCount(server, hexId(span.traceId))).toBe(1);
    });

    it('400 with a google.rpc.Status for a body that is not OTLP', async () => {
      expect(
        await status(
          await post('{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}', {
            'content-type': 'application/json',
          }),
        ),
      ).toEqual({
        status: 400,
        body: {
          code: 3,
          message:
            'invalid OTLP JSON body: ExportTraceServiceRequest.resourceSpans[0].scopeSpans[0].spans[0].traceId must be a hex-encoded id, got "xyz"',
        },
      });
      const response = await post(new Uint8Array([0x0a, 0xff, 0xff]), { 'content-type': 'application/x-protobuf' });
      expect(response.status).toBe(400);
      expect(fromBinary(otlp.RpcStatusSchema, new Uint8Array(await response.arrayBuffer())).message).toMatch(
        /^invalid OTLP protobuf body: /,
      );
    });

    it('415 for a content type OTLP does not use, 413 for a body over 20 MiB', async () => {
      expect(await status(await post('{}', { 'content-type': 'text/plain' }))).toEqual({
        status: 415,
        body: { code: 3, message: 'Content-Type must be application/x-protobuf or application/json' },
      });
      expect(
        await status(
          await post(gzipSync(Buffer.alloc(21 * 2 ** 20, 0x20)), {
            'content-type': 'application/json',
            'content-encoding': 'gzip',
          }),
        ),
      ).toEqual({
        status: 413,
        body: { code: 3, message: 'decompressed body exceeds 20971520 bytes' },
      });
    });
  });
});

describe('the traces subgraph when Jaeger fails', () => {
  let jaeger: PrivateStack;
  beforeAll(async () => {
    await local.require('consul');
    jaeger = await privateStack(['jaeger'], process.env);
  }, 120_000);
  // Each test finds Jaeger running, whatever the one before it left.
  beforeEach(async () => {
    await jaeger.resume().catch(() => undefined);
    await jaeger.up();
  }, 120_000);
  afterAll(() => jaeger?.remove());

  /** A push of one single-span trace of `service`; its trace id and the answer. */
  async function pushOne(server: TracesServer, service: string) {
    const span = makeSpan({ name: 'GET /order' });
    const response = await push(server, makeExport({ service, spans: [span] }));
    await response.arrayBuffer();
    return { traceId: hexId(span.traceId), status: response.status, retryAfter: response.headers.get('retry-after') };
  }

  it('answers 503 with Retry-After while Jaeger is down, and has lost nothing it acknowledged once Jaeger is back', async () => {
    const server = await startTracesServer(local, { JAEGER_BREAKER_HALF_OPEN_MS: '1000' }, jaeger);
    try {
      const service = uniqueService('outage');
      const acknowledged: string[] = [];
      const refused: { status: number; retryAfter: string | null }[] = [];
      // An agent pushing steadily while Jaeger goes down mid-ingest, until 20 pushes have started with Jaeger gone
      // (a count of pushes alone could all be answered before Jaeger has stopped).
      let jaegerDown = false;
      const pushing = (async () => {
        for (let sinceDown = 0; sinceDown < 20;) {
          const startedDown = jaegerDown;
          const { traceId, status, retryAfter } = await pushOne(server, service);
          if (status === 200) acknowledged.push(traceId);
          else refused.push({ status, retryAfter });
          if (startedDown) sinceDown++;
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 300));
      await jaeger.down();
      jaegerDown = true;
      await pushing;
      expect(acknowledged.length).toBeGreaterThan(0);
      expect(refused.length).toBeGreaterThan(0);
      for (const answer of refused) {
        expect(answer.status).toBe(503);
        expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
      }

      await jaeger.up();
      // As an agent does: push again after Retry-After until accepted.
      let after = await pushOne(server, service);
      for (let tries = 0; after.status !== 200 && tries < 20; tries++) {
        await new Promise((resolve) => setTimeout(resolve, Number(after.retryAfter ?? 1) * 1000));
        after = await pushOne(server, service);
      }
      expect(after.status).toBe(200);
      const lost: string[] = [];
      for (const traceId of [...acknowledged, after.traceId])
        if ((await spanCount(server, traceId)) !== 1) lost.push(traceId);
      expect(lost).toEqual([]);
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('answers a read UNAVAILABLE when Jaeger hangs, once the read timeout has passed', async () => {
    const server = await startTracesServer(local, { JAEGER_READ_TIMEOUT_MS: '500' }, jaeger);
    await jaeger.pause();
    try {
      const result = await server.graphql(`{ trace(traceId: "${hexId(makeSpan().traceId)}") { traceId } }`);
      expect(result.errors).toEqual([
        expect.objectContaining({
          message: 'jaeger is unavailable: timed out after 500 ms',
          extensions: expect.objectContaining({ code: 'UNAVAILABLE' }) as unknown,
        }),
      ]);
    } finally {
      await jaeger.resume();
      await server.stop();
    }
  });

  it('answers 503 with Retry-After when Jaeger hangs, once the write timeout has passed', async () => {
    const server = await startTracesServer(local, { JAEGER_WRITE_TIMEOUT_MS: '500' }, jaeger);
    await jaeger.pause();
    try {
      const response = await push(server, makeExport({ service: uniqueService('hung'), spans: [makeSpan()] }));
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(fromBinary(otlp.RpcStatusSchema, new Uint8Array(await response.arrayBuffer()))).toMatchObject({
        code: 14,
        message: 'jaeger_otlp is unavailable: timed out after 500 ms',
      });
    } finally {
      await jaeger.resume();
      await server.stop();
    }
  });
});
