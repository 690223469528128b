import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FastifyInstance, Readiness, createHttpService } from '@heimdall/shared/http';
import { ServiceMetrics, createLogger, createTelemetry } from '@heimdall/shared/telemetry';
import { CONSOLE_CSP, loadConsoleFiles, registerConsole } from './console-files.js';

let dir: string;
let app: FastifyInstance | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'console-files-'));
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><div id="app"></div>');
  await writeFile(join(dir, 'assets', 'app-ABC123.js'), 'console.log(1)');
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function makeApp(consoleDir: string) {
  const metrics = new ServiceMetrics({ service: 'gateway', instance: 'test' });
  app = createHttpService(
    {
      logger: createLogger({ service: 'gateway', instanceId: 'test', level: 'silent' }),
      metrics,
      telemetry: createTelemetry({ serviceName: 'gateway', serviceVersion: 'test' }),
    },
    new Readiness(),
  );
  registerConsole(app, await loadConsoleFiles(consoleDir));
  app.post('/graphql', () => ({ data: {} }));
  await app.ready();
  return app;
}

describe('the console served by the gateway', () => {
  it('answers / and deep links under its routes with index.html, never cached, under a strict CSP', async () => {
    const gateway = await makeApp(dir);
    for (const url of [
      '/',
      '/logs?query=x',
      '/traces/4bf92f3577b34da6a3ce929d0e0e4736',
      '/services/checkout',
      '/alerts',
      '/signin',
    ]) {
      const response = await gateway.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type']).toContain('text/html');
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.headers['content-security-policy']).toBe(CONSOLE_CSP);
      expect(response.body).toContain('<div id="app">');
    }
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe');
  });

  it('serves hashed assets as immutable and refuses unknown ones', async () => {
    const gateway = await makeApp(dir);
    const asset = await gateway.inject({ method: 'GET', url: '/assets/app-ABC123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toContain('text/javascript');
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.body).toBe('console.log(1)');
    const zipped = await gateway.inject({
      method: 'GET',
      url: '/assets/app-ABC123.js',
      headers: { 'accept-encoding': 'gzip, br' },
    });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.rawPayload).toString()).toBe('console.log(1)');
    expect((await gateway.inject({ method: 'GET', url: '/assets/app-OLD.js' })).statusCode).toBe(404);
    expect((await gateway.inject({ method: 'GET', url: '/assets/..%2Findex.html' })).statusCode).toBe(404);
  });

  it('keeps /metrics, /health and /graphql for their callers; a browser reloading /metrics gets the console', async () => {
    const gateway = await makeApp(dir);
    const scrape = await gateway.inject({
      method: 'GET',
      url: '/metrics',
      headers: { accept: 'application/openmetrics-text; version=1.0.0, text/plain;q=0.5' },
    });
    expect(scrape.headers['content-type']).toContain('text/plain');
    expect(scrape.body).toContain('# HELP');
    const browser = await gateway.inject({
      method: 'GET',
      url: '/metrics',
      headers: { accept: 'text/html,application/xhtml+xml' },
    });
    expect(browser.headers['content-type']).toContain('text/html');
    expect((await gateway.inject({ method: 'GET', url: '/health' })).json()).toEqual({ status: 'ok' });
    expect((await gateway.inject({ method: 'POST', url: '/graphql', payload: {} })).json()).toEqual({ data: {} });
  });

  it('says how to build the console when it is not built', async () => {
    const gateway = await makeApp(join(dir, 'missing'));
    const response = await gateway.inject({ method: 'GET', url: '/logs' });
    expect(response.statusCode).toBe(404);
    expect(response.body).toContain('npm run build');
  });
});
