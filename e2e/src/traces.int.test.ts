import { randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { create, toBinary } from '@bufbuild/protobuf';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { test as base, beforeAll, describe, expect } from 'vitest';
import { otlp } from '@heimdall/shared/otlp';
import { localStack } from '@heimdall/stack';
import { TRACE_FIELDS, comparableTrace, expectedTrace, recordTrace } from '@heimdall/testkit';
import { System } from './system.js';

const local = localStack(process.env);

/** Polls `read` until `done` holds, for at most `ms`; the last value read. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(250);
  }
}

/** Each test gets a system of its own and a service name of its own, so no test reads what another wrote. */
const it = base.extend<{ system: System; service: string }>({
  // eslint-disable-next-line no-empty-pattern -- vitest reads the fixtures a test uses from this parameter's pattern
  system: async ({}, use) => {
    const system = await System.create(local, process.env.CLICKHOUSE_URL);
    await use(system);
    await system.stop();
  },
  // eslint-disable-next-line no-empty-pattern
  service: async ({}, use) => use(`shop-${randomUUID().slice(0, 8)}`),
});

/**
 * Spans of `service` ending in the minute that starts at `minute` (ms): six SERVER spans `GET /cart` (four of 5 ms,
 * two of 30 ms in error) and one CLIENT span `SELECT`, each its own trace.
 */
function makeRedExport(service: string, minute: number): Uint8Array {
  const span = (i: number, name: string, kind: otlp.Span_SpanKind, ms: number, error: boolean) => {
    const end = BigInt(minute + 10_000 + i * 1000) * 1_000_000n;
    return create(otlp.SpanSchema, {
      traceId: new Uint8Array(randomBytes(16)),
      spanId: new Uint8Array(randomBytes(8)),
      name,
      kind,
      startTimeUnixNano: end - BigInt(ms) * 1_000_000n,
      endTimeUnixNano: end,
      ...(error ? { status: { code: otlp.Status_StatusCode.ERROR, message: 'out of stock' } } : {}),
    });
  };
  const spans = [
    ...[0, 1, 2, 3].map((i) => span(i, 'GET /cart', otlp.Span_SpanKind.SERVER, 5, false)),
    ...[4, 5].map((i) => span(i, 'GET /cart', otlp.Span_SpanKind.SERVER, 30, true)),
    span(6, 'SELECT', otlp.Span_SpanKind.CLIENT, 2, false),
  ];
  const request = create(otlp.ExportTraceServiceRequestSchema, {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { value: { case: 'stringValue', value: service } } }] },
        scopeSpans: [{ spans }],
      },
    ],
  });
  return toBinary(otlp.ExportTraceServiceRequestSchema, request);
}

interface RedAnswer {
  service: {
    red:
      | {
          timestamp: string;
          rate: number;
          errorRatio: number;
          p50: number | null;
          p95: number | null;
          p99: number | null;
        }[]
      | null;
    operations: { name: string; spanKind: string; red: { rate: number; errorRatio: number }[] | null }[] | null;
  };
}

const redQuery = (service: string, minute: number) => {
  const range = `{ from: "${new Date(minute - 60_000).toISOString()}", to: "${new Date(Date.now() + 60_000).toISOString()}" }`;
  return `{ service(name: "${service}") {
    red(range: ${range}, step: "1m") { timestamp rate errorRatio p50 p95 p99 }
    operations { name spanKind red(range: ${range}, step: "1m") { rate errorRatio } }
  } }`;
};

/** A push at the gateway's :4318 with an agent's credentials. */
async function pushOtlp(system: System, body: Uint8Array): Promise<void> {
  const response = await fetch(`${system.otlpUrl!}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', ...(await system.authHeaders(['agent'])) },
    body: Buffer.from(body),
  });
  expect(response.status).toBe(200);
}

/** The RED answer once the metrics subgraph has the points of `calls` spans (the forwarder sends them in the background). */
async function redOnce(system: System, service: string, minute: number, calls: number) {
  return eventually(
    () => system.query<RedAnswer>(redQuery(service, minute)),
    (result) => Math.abs((result.data?.service.red?.[0]?.rate ?? 0) * 60 - calls) < 1e-9,
  );
}

function expectRedOfSixRequests(answer: RedAnswer | undefined, minute: number): void {
  const [point, ...others] = answer?.service.red ?? [];
  expect(others).toEqual([]);
  expect(point).toMatchObject({ timestamp: new Date(minute).toISOString(), rate: 0.1 });
  expect(point?.errorRatio).toBeCloseTo(1 / 3, 12);
  // Quantiles are interpolated within the connector's buckets: four calls in (4, 6] ms, two in (10, 50] ms.
  expect(point?.p50).toBeGreaterThan(4);
  expect(point?.p50).toBeLessThanOrEqual(6);
  for (const quantile of [point?.p95, point?.p99]) {
    expect(quantile).toBeGreaterThan(10);
    expect(quantile).toBeLessThanOrEqual(50);
  }
  const operations = answer?.service.operations?.map((o) => ({
    ...o,
    red: o.red?.map((p) => ({ rate: Number((p.rate * 60).toFixed(9)), errorRatio: p.errorRatio })),
  }));
  expect(operations).toEqual([
    { name: 'GET /cart', spanKind: 'SERVER', red: [{ rate: 6, errorRatio: 1 / 3 }] },
    { name: 'SELECT', spanKind: 'CLIENT', red: [{ rate: 1, errorRatio: 0 }] },
  ]);
}

describe('traces through the federated system', () => {
  beforeAll(() => local.require('consul', 'elasticsearch', 'jaeger', 'postgres', 'redis'));

  for (const [encoding, Exporter] of [
    ['protobuf', ProtobufTraceExporter],
    ['JSON', JsonTraceExporter],
  ] as const) {
    it(`takes the OpenTelemetry JS exporter's ${encoding} at :4318 and answers the trace by id through the gateway, every field intact`, async ({
      system,
      service,
    }) => {
      await system.startSubgraph('traces');
      await system.startGateway({ OTLP_TRACES_URL: 'off' });
      const recorded = await recordTrace(
        new Exporter({ url: `${system.otlpUrl!}/v1/traces`, headers: await system.authHeaders(['agent']) }),
        service,
      );
      const result = await system.query<{ trace: ReturnType<typeof expectedTrace> }>(
        `{ trace(traceId: "${recorded.traceId}") { ${TRACE_FIELDS} } }`,
      );
      expect(result.errors).toBeUndefined();
      expect(comparableTrace(result.data!.trace)).toEqual(expectedTrace(recorded));
    });
  }

  it('derives RED metrics from the spans it stores, counted once when a push is retried, as Service.red and Operation.red', async ({
    system,
    service,
  }) => {
    await system.startSubgraph('metrics');
    await system.startSubgraph('traces');
    await system.startGateway({ OTLP_TRACES_URL: 'off' });
    const minute = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    const body = makeRedExport(service, minute);
    await pushOtlp(system, body);
    await pushOtlp(system, body);

    const result = await redOnce(system, service, minute, 6);
    expect(result.errors).toBeUndefined();
    expectRedOfSixRequests(result.data, minute);
  });

  it('takes traces while the metrics subgraph is down and sends their RED metrics once it is back', async ({
    system,
    service,
  }) => {
    await system.startSubgraph('traces');
    await system.startGateway({ OTLP_TRACES_URL: 'off', SUBGRAPH_RETENTION_MS: '600000' });
    const minute = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    await pushOtlp(system, makeRedExport(service, minute));
    const metrics = await (await fetch(`${system.subgraphs.get('traces')!.service.url}/metrics`)).text();
    expect(metrics).toMatch(/heimdall_red_points_pending\{[^}]*\} 6/);

    await system.startSubgraph('metrics');
    const result = await redOnce(system, service, minute, 6);
    expect(result.errors).toBeUndefined();
    expectRedOfSixRequests(result.data, minute);
  }, 90_000);

  for (const reporter of ['thrift over HTTP', 'binary thrift over UDP'] as const) {
    it(`puts a legacy jaeger-client application's spans (${reporter}) and Heimdall's own for its gateway call in one trace`, async ({
      system,
      service,
    }) => {
      await system.startSubgraph('traces');
      await system.startGateway();
      const jaeger = local.config.jaeger;
      const tracer = initJaegerTracer(
        {
          serviceName: service,
          sampler: { type: 'const', param: 1 },
          reporter:
            reporter === 'thrift over HTTP'
              ? { collectorEndpoint: `http://127.0.0.1:${jaeger.thriftHttpPort}/api/traces` }
              : { agentHost: '127.0.0.1', agentPort: jaeger.thriftBinaryPort },
        },
        { logger: { info: () => undefined, error: (message) => console.error(message) } },
      );
      const span = tracer.startSpan('checkout', { tags: { 'span.kind': 'client' } });
      const headers: Record<string, string> = {};
      tracer.inject(span, 'http_headers', headers);
      const answer = await system.query<{ services: { name: string }[] }>('{ services(limit: 1) { name } }', headers);
      expect(answer.errors).toBeUndefined();
      span.finish();
      await new Promise<void>((resolve) => tracer.close(resolve));

      const [traceId, spanId] = headers['uber-trace-id']!.split(':') as [string, string];
      const spansOf = async () =>
        (
          await system.query<{
            trace: {
              spans: {
                spanId: string;
                parentSpanId: string | null;
                operationName: string;
                service: { name: string };
              }[];
            } | null;
          }>(`{ trace(traceId: "${traceId}") { spans { spanId parentSpanId operationName service { name } } } }`)
        ).data?.trace?.spans ?? [];
      // Heimdall's services export their spans in batches (every 5 s).
      const spans = await eventually(spansOf, (found) =>
        ['gateway', 'traces', service].every((name) => found.some((s) => s.service.name === name)),
      );
      expect([...new Set(spans.map((s) => s.service.name))].sort()).toEqual([service, 'gateway', 'traces'].sort());
      const legacy = spans.find((s) => s.service.name === service);
      expect(legacy).toMatchObject({ spanId: spanId.padStart(16, '0'), parentSpanId: null, operationName: 'checkout' });
      // The gateway's server span is the child of the application's span.
      expect(spans.find((s) => s.service.name === 'gateway' && s.parentSpanId === legacy?.spanId)?.operationName).toBe(
        'POST /graphql',
      );
    });
  }
});

interface JaegerTracer {
  startSpan(name: string, options?: { tags?: Record<string, string> }): { finish(): void };
  inject(span: unknown, format: 'http_headers', carrier: Record<string, string>): void;
  close(callback: () => void): void;
}

interface JaegerClient {
  initTracer(
    config: {
      serviceName: string;
      sampler: { type: string; param: number };
      reporter: Record<string, string | number>;
    },
    options: { logger: { info(message: string): void; error(message: string): void } },
  ): JaegerTracer;
}

/** npm jaeger-client 3.19, as legacy applications use it (the package ships no type declarations). */
const initJaegerTracer: JaegerClient['initTracer'] = (config, options) =>
  (createRequire(import.meta.url)('jaeger-client') as JaegerClient).initTracer(config, options);
