import { describe, expect, it } from 'vitest';
import { HeimdallError, ResilienceMetrics, ServiceMetrics, createResiliencePolicy } from '@heimdall/shared';
import { JaegerStore, normalizeTraceId } from './store.js';

describe('trace ids', () => {
  it('are 32 lower-case hex digits, shorter legacy ids padded with zeros', () => {
    expect(normalizeTraceId('4292A9985D03D4863F9CCE62374E8DEA')).toBe('4292a9985d03d4863f9cce62374e8dea');
    expect(normalizeTraceId('abc')).toBe('00000000000000000000000000000abc');
  });

  it('are refused as BAD_USER_INPUT before Jaeger is asked when malformed', async () => {
    // Nothing listens on port 1: had the client asked, the answer would have been UNAVAILABLE.
    const metrics = new ResilienceMetrics(new ServiceMetrics({ service: 'test', instance: 'test' }).registry);
    const policy = createResiliencePolicy('jaeger', undefined, metrics);
    const client = new JaegerStore({ queryUrl: 'http://127.0.0.1:1', otlpUrl: 'http://127.0.0.1:1/v1/traces', readPolicy: policy, searchPolicy: policy, dependenciesPolicy: policy, writePolicy: policy });
    for (const bad of ['xyz', '', '0'.repeat(32), 'a'.repeat(33), '4292a998-5d03']) {
      const error: unknown = await client.trace(bad).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HeimdallError);
      expect((error as HeimdallError).code).toBe('BAD_USER_INPUT');
    }
  });
});
