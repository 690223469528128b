import { afterEach, describe, expect, it } from 'vitest';
import { type FastifyInstance, Readiness, createHttpService } from '@heimdall/shared/http';
import { ServiceMetrics, createLogger, createTelemetry } from '@heimdall/shared/telemetry';
import { corsHook } from './cors.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
});

async function makeApp(origins: string[]) {
  app = createHttpService(
    {
      logger: createLogger({ service: 'gateway', instanceId: 'test', level: 'silent' }),
      metrics: new ServiceMetrics({ service: 'gateway', instance: 'test' }),
      telemetry: createTelemetry({ serviceName: 'gateway', serviceVersion: 'test' }),
    },
    new Readiness(),
  );
  app.route({
    url: '/graphql',
    method: ['GET', 'POST', 'OPTIONS'],
    onRequest: [corsHook(origins)],
    handler: () => ({ data: {} }),
  });
  await app.ready();
  return app;
}

const preflight = {
  'access-control-request-method': 'POST',
  'access-control-request-headers': 'authorization, content-type',
};

describe('CORS for browser dashboards', () => {
  it('answers a preflight from an allowed origin, allowing the credential headers', async () => {
    const response = await (
      await makeApp(['https://grafana.example'])
    ).inject({ method: 'OPTIONS', url: '/graphql', headers: { origin: 'https://grafana.example', ...preflight } });
    expect(response.statusCode).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe('https://grafana.example');
    expect(response.headers['access-control-allow-headers']).toContain('authorization');
    expect(response.headers['access-control-allow-methods']).toBe('GET, POST');
  });

  it('marks answers to an allowed origin readable, Retry-After included', async () => {
    const response = await (
      await makeApp(['https://grafana.example'])
    ).inject({ method: 'POST', url: '/graphql', headers: { origin: 'https://grafana.example' } });
    expect(response.headers['access-control-allow-origin']).toBe('https://grafana.example');
    expect(response.headers['access-control-expose-headers']).toContain('retry-after');
    expect(response.headers.vary).toBe('Origin');
  });

  it('gives other origins nothing, and nobody anything by default', async () => {
    const elsewhere = await (
      await makeApp(['https://grafana.example'])
    ).inject({ method: 'OPTIONS', url: '/graphql', headers: { origin: 'https://evil.example', ...preflight } });
    expect(elsewhere.headers['access-control-allow-origin']).toBeUndefined();
    await app?.close();
    const byDefault = await (
      await makeApp([])
    ).inject({ method: 'POST', url: '/graphql', headers: { origin: 'https://grafana.example' } });
    expect(byDefault.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('allows every origin with *', async () => {
    const response = await (
      await makeApp(['*'])
    ).inject({ method: 'POST', url: '/graphql', headers: { origin: 'https://any.example' } });
    expect(response.headers['access-control-allow-origin']).toBe('*');
  });
});
