import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { localStack } from '../test-stacks.js';
import { waitFor } from '../net.js';

const local = localStack(process.env);
const { jaegerOtlpHttpUrl, jaegerQueryUrl } = local.endpoints;

function makeTrace(service: string, operation: string) {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  const now = BigInt(Date.now()) * 1_000_000n;
  const body = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            scope: { name: 'heimdall-test' },
            spans: [
              {
                traceId,
                spanId,
                name: operation,
                kind: 2,
                startTimeUnixNano: String(now - 5_000_000n),
                endTimeUnixNano: String(now),
                attributes: [{ key: 'http.route', value: { stringValue: '/checkout' } }],
                status: { code: 1 },
              },
            ],
          },
        ],
      },
    ],
  };
  return { traceId, spanId, body };
}

async function getJson<T>(path: string): Promise<T | undefined> {
  const response = await fetch(`${jaegerQueryUrl}${path}`);
  // Unknown paths answer 200 with an HTML placeholder: only JSON counts.
  if (!response.ok || !response.headers.get('content-type')?.includes('json')) return undefined;
  return (await response.json()) as T;
}

interface JaegerTraces {
  data: { traceID: string; spans: { spanID: string; operationName: string }[] }[];
}

describe('Jaeger', () => {
  beforeAll(() => local.require('jaeger'));

  it('stores an OTLP trace and serves it by id, in services and operations', async () => {
    const service = `test-${randomUUID().slice(0, 8)}`;
    const { traceId, spanId, body } = makeTrace(service, 'GET /checkout');
    const posted = await fetch(`${jaegerOtlpHttpUrl}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(posted.status).toBe(200);

    let trace: JaegerTraces | undefined;
    expect(
      await waitFor(async () => (trace = await getJson<JaegerTraces>(`/api/traces/${traceId}`)) !== undefined, 15_000),
    ).toBe(true);
    expect(trace?.data[0]?.traceID).toBe(traceId);
    expect(trace?.data[0]?.spans).toEqual([
      expect.objectContaining({ spanID: spanId, operationName: 'GET /checkout' }),
    ]);

    const services = await getJson<{ data: string[] }>('/api/services');
    expect(services?.data).toContain(service);
    const operations = await getJson<{ data: string[] }>(`/api/services/${service}/operations`);
    expect(operations?.data).toContain('GET /checkout');
  });

  it('answers an OTLP export only once its spans are stored: each trace is readable by id as soon as its push is answered', async () => {
    const service = `test-${randomUUID().slice(0, 8)}`;
    const missed: string[] = [];
    for (let i = 0; i < 50; i++) {
      const { traceId, body } = makeTrace(service, `op-${i}`);
      const posted = await fetch(`${jaegerOtlpHttpUrl}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(posted.status).toBe(200);
      const trace = await getJson<JaegerTraces>(`/api/traces/${traceId}`);
      if (trace?.data[0]?.traceID !== traceId) missed.push(traceId);
    }
    expect(missed).toEqual([]);
  });
});
