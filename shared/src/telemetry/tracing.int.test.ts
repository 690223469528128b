import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SpanKind, trace } from '@opentelemetry/api';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createTelemetry, type Telemetry } from './tracing.js';

// Found as the stack CLI finds them: defaults of the local stack, overridable by the environment.
const otlpTracesUrl = `http://127.0.0.1:${process.env.JAEGER_OTLP_HTTP_PORT ?? 14318}/v1/traces`;
const queryUrl = `http://127.0.0.1:${process.env.JAEGER_QUERY_PORT ?? 16686}`;
const START_STACK = 'start the stack with `npm run stack -- up`';

/** The subset of Jaeger's query API (`/api/traces/{id}`) this test reads. */
interface JaegerTrace {
  spans: { spanID: string; references: { refType: string; spanID: string }[]; processID: string }[];
  processes: Record<string, { serviceName: string }>;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  // Services first (they may still be sending spans), telemetry after; shutdown is idempotent.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A JSON GET or POST that fails with a message naming the stack when Jaeger is absent or answers HTML. */
async function jaegerJson(url: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new Error(`Jaeger is not reachable at ${url} (${String(error)}): ${START_STACK}`, { cause: error });
  }
  const text = await response.text();
  // Jaeger answers unknown paths with 200 and its UI page, and a missing trace with 404 and JSON as text/plain.
  if (response.headers.get('content-type')?.includes('text/html') === true) {
    throw new Error(`${url} answered HTML, not Jaeger's API (wrong port?): ${START_STACK}`);
  }
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch {
    throw new Error(`${url} answered ${response.status} with non-JSON "${text.slice(0, 200)}": ${START_STACK}`);
  }
}

function startTelemetry(serviceName: string): Telemetry {
  const telemetry = createTelemetry({ serviceName, serviceVersion: '0.0.0-test', otlpTracesUrl });
  cleanups.push(() => telemetry.shutdown());
  return telemetry;
}

async function startApp(telemetry: Telemetry, declareRoutes: (app: FastifyInstance) => void): Promise<string> {
  const app = Fastify();
  telemetry.registerFastify(app);
  declareRoutes(app);
  cleanups.push(() => app.close());
  return app.listen({ host: '127.0.0.1', port: 0 });
}

/** Fails (inside the test, so it is reported as failed, not skipped) unless both halves of Jaeger answer. */
async function expectJaegerUp(): Promise<void> {
  await jaegerJson(`${queryUrl}/api/services`);
  // The ingest side too: export failures are silent by design (a service never fails for its tracing).
  const ingest = await jaegerJson(otlpTracesUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ resourceSpans: [] }),
  });
  if (ingest.status !== 200)
    throw new Error(`OTLP receiver ${otlpTracesUrl} answered ${ingest.status}: ${START_STACK}`);
}

/** Polls until `accept` finds what it needs in the trace, since Jaeger stores batches as they arrive. */
async function waitForTrace(traceId: string, accept: (trace: JaegerTrace) => boolean): Promise<JaegerTrace> {
  const deadline = Date.now() + 30_000;
  let last = 'nothing yet';
  while (Date.now() < deadline) {
    const { status, body } = await jaegerJson(`${queryUrl}/api/traces/${traceId}`);
    if (status === 200) {
      const found = (body as { data: JaegerTrace[] }).data[0];
      if (found !== undefined && accept(found)) return found;
      last = JSON.stringify(found).slice(0, 500);
    } else if (status !== 404) {
      throw new Error(`Jaeger answered ${status} for trace ${traceId}: ${JSON.stringify(body).slice(0, 500)}`);
    }
    await sleep(250);
  }
  throw new Error(`trace ${traceId} incomplete in Jaeger after 30 s; last seen: ${last}`);
}

describe('telemetry against Jaeger', () => {
  it('exports one trace across two services that call each other over HTTP', async () => {
    await expectJaegerUp();
    const suffix = randomUUID().slice(0, 8);
    const [nameA, nameB] = [`test-a-${suffix}`, `test-b-${suffix}`];
    const telemetryA = startTelemetry(nameA);
    const telemetryB = startTelemetry(nameB);
    const baseB = await startApp(telemetryB, (app) => app.get('/b', () => ({ from: 'b' })));
    const baseA = await startApp(telemetryA, (app) =>
      app.get('/a', async () => {
        const traceId = trace.getActiveSpan()?.spanContext().traceId;
        const fromB = await telemetryA.withSpan(
          'GET /b',
          { 'server.address': '127.0.0.1' },
          async () => (await fetch(`${baseB}/b`, { headers: telemetryA.inject({}) })).json(),
          { kind: SpanKind.CLIENT },
        );
        return { traceId, fromB };
      }),
    );

    const response = await fetch(`${baseA}/a`);
    const { traceId, fromB } = (await response.json()) as { traceId?: string; fromB: unknown };
    expect(response.status).toBe(200);
    expect(fromB).toEqual({ from: 'b' });
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    // Flushes both batch processors now rather than after their 5 s schedule.
    await Promise.all([telemetryA.shutdown(), telemetryB.shutdown()]);

    const serviceOf = (t: JaegerTrace, spanId: string): string | undefined => {
      const span = t.spans.find((s) => s.spanID === spanId);
      return span === undefined ? undefined : t.processes[span.processID]?.serviceName;
    };
    const found = await waitForTrace(String(traceId), (t) =>
      t.spans.some(
        (s) =>
          serviceOf(t, s.spanID) === nameB &&
          s.references.some((r) => r.refType === 'CHILD_OF' && serviceOf(t, r.spanID) === nameA),
      ),
    );

    const services = new Set(found.spans.map((s) => serviceOf(found, s.spanID)));
    expect(services).toEqual(new Set([nameA, nameB]));
    // A: SERVER GET /a → CLIENT GET /b; B: SERVER GET /b.
    expect(found.spans).toHaveLength(3);
  });
});
