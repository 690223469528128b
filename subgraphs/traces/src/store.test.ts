import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { HeimdallError } from '@heimdall/shared/errors';
import { otlp } from '@heimdall/shared/otlp';
import { ResilienceMetrics, createResiliencePolicy } from '@heimdall/shared/resilience';
import { ServiceMetrics } from '@heimdall/shared/telemetry';
import { makeExport, makeSpan } from './otlp-builders.fixtures.js';
import { JAEGER_ANSWER_MAX_BYTES, JaegerStore, MAX_ISOLATION_WRITES, normalizeTraceId } from './store.js';

describe('trace ids', () => {
  it('are 32 lower-case hex digits, shorter legacy ids padded with zeros', () => {
    expect(normalizeTraceId('4292A9985D03D4863F9CCE62374E8DEA')).toBe('4292a9985d03d4863f9cce62374e8dea');
    expect(normalizeTraceId('abc')).toBe('00000000000000000000000000000abc');
  });

  it('are refused as BAD_USER_INPUT before Jaeger is asked when malformed', async () => {
    // Nothing listens on port 1: had the client asked, the answer would have been UNAVAILABLE.
    const metrics = new ResilienceMetrics(new ServiceMetrics({ service: 'test', instance: 'test' }).registry);
    const policy = createResiliencePolicy('jaeger', undefined, metrics);
    const client = new JaegerStore({
      queryUrl: 'http://127.0.0.1:1',
      otlpUrl: 'http://127.0.0.1:1/v1/traces',
      readPolicy: policy,
      searchPolicy: policy,
      dependenciesPolicy: policy,
      writePolicy: policy,
    });
    for (const bad of ['xyz', '', '0'.repeat(32), 'a'.repeat(33), '4292a998-5d03']) {
      const error: unknown = await client.trace(bad).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HeimdallError);
      expect(error).toMatchObject({ code: 'BAD_USER_INPUT', details: { argument: 'traceId' } });
    }
  });
});

describe('writes Jaeger refuses for good', () => {
  /** An OTLP receiver that refuses every write as badger does a span too large for one transaction, counting them. */
  async function refusingJaeger() {
    const writes: number[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        writes.push(
          fromBinary(otlp.ExportTraceServiceRequestSchema, Buffer.concat(chunks)).resourceSpans.flatMap((rs) =>
            rs.scopeSpans.flatMap((ss) => ss.spans),
          ).length,
        );
        response
          .writeHead(503, { 'content-type': 'application/x-protobuf' })
          .end(
            toBinary(
              otlp.RpcStatusSchema,
              create(otlp.RpcStatusSchema, { code: 14, message: 'Txn is too big to fit into one request' }),
            ),
          );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}/v1/traces`,
      writes,
      close: () => new Promise((resolve) => server.close(resolve)),
    };
  }

  it('are isolated by halves within a bounded number of writes, rejected with the reason, and never open the breaker', async () => {
    const jaeger = await refusingJaeger();
    try {
      const metrics = new ResilienceMetrics(new ServiceMetrics({ service: 'test', instance: 'test' }).registry);
      const writePolicy = createResiliencePolicy('jaeger_otlp', undefined, metrics);
      const store = new JaegerStore({
        queryUrl: 'http://127.0.0.1:1',
        otlpUrl: jaeger.url,
        readPolicy: writePolicy,
        searchPolicy: writePolicy,
        dependenciesPolicy: writePolicy,
        writePolicy,
      });
      const spans = Array.from({ length: 100 }, () => makeSpan());
      expect(
        await store.write(
          makeExport(
            { service: 'checkout', spans: spans.slice(0, 50) },
            { service: 'payments', spans: spans.slice(50) },
          ),
        ),
      ).toEqual({
        rejected: 100,
        errorMessage:
          'refused a span for good: Txn is too big to fit into one request; refused spans for good: Txn is too big to fit into one request',
      });
      // The whole push, then MAX_ISOLATION_WRITES halves; no write retried.
      expect(jaeger.writes).toHaveLength(1 + MAX_ISOLATION_WRITES);
      expect(jaeger.writes.slice(0, 3)).toEqual([100, 50, 50]);
      expect(writePolicy.state).toBe('closed');
    } finally {
      await jaeger.close();
    }
  });
});

describe('answers of Jaeger past the read limit', () => {
  it('are LIMIT_EXCEEDED once JAEGER_ANSWER_MAX_BYTES have come, read no further, and never open the breaker', async () => {
    let written = 0;
    // A trace answered in chunks without a length, as Jaeger streams one, and without an end.
    const server = createServer((_, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      const more = () => {
        while (sent <= 4 * JAEGER_ANSWER_MAX_BYTES && !response.destroyed) {
          sent += chunk.length;
          written += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', more);
        }
      };
      response.write('{"result":');
      more();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const metrics = new ResilienceMetrics(new ServiceMetrics({ service: 'test', instance: 'test' }).registry);
      const policy = createResiliencePolicy('jaeger', { timeoutMs: 10_000 }, metrics);
      const { port } = server.address() as AddressInfo;
      const store = new JaegerStore({
        queryUrl: `http://127.0.0.1:${port}`,
        otlpUrl: 'http://127.0.0.1:1/v1/traces',
        readPolicy: policy,
        searchPolicy: policy,
        dependenciesPolicy: policy,
        writePolicy: policy,
      });
      for (let i = 0; i < 6; i++) {
        const error: unknown = await store.trace('abc').catch((e: unknown) => e);
        expect(error).toMatchObject({
          code: 'LIMIT_EXCEEDED',
          message: 'the trace is more than 64 MiB in Jaeger, more than Heimdall reads',
        });
      }
      expect(policy.state).toBe('closed');
      expect(written).toBeLessThan(6 * (JAEGER_ANSWER_MAX_BYTES + 16 * 1024 * 1024));
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }, 60_000);
});
