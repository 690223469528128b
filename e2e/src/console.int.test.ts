import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { buildConsole } from '@heimdall/console';
import { REPO_DIR, browserPath, localStack } from '@heimdall/stack';
import { checkoutTraceBody, nanos, serviceResource } from './checkout-trace.fixtures.js';
import { System } from './system.js';

/**
 * The console in a real browser (Debian's Chromium driven by playwright-core) against the whole system: data pushed
 * over OTLP through the gateway, read back the way a person reads it. Every page is watched for console errors and
 * for requests leaving the gateway's origin; a failing test leaves a screenshot in .stack/screenshots/.
 */
const local = localStack(process.env);
const SCREENSHOTS = join(REPO_DIR, '.stack', 'screenshots');
/** Where each view's picture goes when set (the README's: CONSOLE_SCREENSHOTS=docs/console). */
const VIEW_SHOTS = process.env.CONSOLE_SCREENSHOTS;

async function pictureOf(name: string): Promise<void> {
  if (VIEW_SHOTS === undefined) return;
  await mkdir(VIEW_SHOTS, { recursive: true });
  await page.screenshot({ path: join(VIEW_SHOTS, `${name}.png`) });
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

let system: System;
let browser: Browser;
let origin: string;
let consoleDir: string;
const run = randomUUID().slice(0, 8);
const shop = `shop-${run}`;
const payments = `payments-${run}`;
const metric = `console_test_queue_depth_${run}`;
const word = `주문처리${run}`;
const traceId = hex(16);
const spanIds = { checkout: hex(8), charge: hex(8), pay: hex(8) };

async function push(path: string, body: unknown): Promise<void> {
  const response = await fetch(`${system.otlpUrl!}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await system.authHeaders(['agent'])) },
    body: JSON.stringify(body),
  });
  expect(response.status, `${path}: ${await response.clone().text()}`).toBe(200);
}

const resource = serviceResource;

async function pushTelemetry(): Promise<void> {
  const t0 = Date.now() - 30_000;
  await push('/v1/traces', checkoutTraceBody({ traceId, spanIds, t0, shop, payments }));
  const record = (ms: number, severityNumber: number, text: string, spanId?: string) => ({
    timeUnixNano: nanos(t0 + ms),
    severityNumber,
    body: { stringValue: text },
    ...(spanId === undefined ? {} : { traceId, spanId }),
  });
  await push('/v1/logs', {
    resourceLogs: [
      {
        resource: resource(shop),
        scopeLogs: [
          {
            logRecords: [
              record(1, 9, `${word} 요청을 받았습니다 order accepted`, spanIds.checkout),
              record(
                2,
                9,
                `<script>window.__injected = true</script><img src=x onerror="window.__injected=true"> ${word} rendered as text`,
              ),
              {
                ...record(3, 17, 'connection refused by the payments service', spanIds.charge),
                attributes: [{ key: 'region', value: { stringValue: `kr-seoul-${run}` } }],
              },
              record(4, 13, 'payment retried once'),
            ],
          },
        ],
      },
    ],
  });
  const point = (ms: number, value: number, queue: string) => ({
    timeUnixNano: nanos(ms),
    asDouble: value,
    attributes: [{ key: 'queue', value: { stringValue: queue } }],
  });
  const now = Date.now();
  await push('/v1/metrics', {
    resourceMetrics: [
      {
        resource: resource(shop),
        scopeMetrics: [
          {
            metrics: [
              {
                name: metric,
                gauge: {
                  dataPoints: [1, 2, 3, 4, 5].flatMap((i) => [
                    point(now - i * 60_000, 10 * i, 'orders'),
                    point(now - i * 60_000, 3 * i, 'emails'),
                  ]),
                },
              },
            ],
          },
        ],
      },
    ],
  });
}

/** A page of its own for each test, watched for console errors and for requests to other origins. */
let page: Page;
let opened: Page | undefined;
let problems: string[];

async function signIn(roles: ('viewer' | 'editor')[], path = '/logs'): Promise<void> {
  await page.goto(`${origin}${path}`);
  await page.locator('input[name="token"]').fill(await system.token(roles, { subject: `console-${roles.join('-')}` }));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('header.top').waitFor();
}

describe('the console', () => {
  beforeAll(async () => {
    await local.require('consul', 'elasticsearch', 'jaeger', 'postgres', 'redis');
    const executablePath = await browserPath(local.config);
    consoleDir = await mkdtemp(join(tmpdir(), 'heimdall-console-'));
    await buildConsole(consoleDir);
    system = await System.create(local, process.env.CLICKHOUSE_URL);
    for (const name of ['metrics', 'logs', 'traces', 'alerts'] as const) await system.startSubgraph(name);
    const gateway = await system.startGateway({ CONSOLE_DIR: consoleDir });
    origin = gateway.service.url;
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    await pushTelemetry();
    const found = await system.queryUntil<{ logSearch: { total: number } }>(
      `{ logSearch(filter: { query: "${word}", services: ["${shop}"], range: { from: "${new Date(Date.now() - 3_600_000).toISOString()}", to: "${new Date(Date.now() + 60_000).toISOString()}" } }) { total } }`,
      (data) => (data?.logSearch.total ?? 0) >= 2,
    );
    expect(found.data?.logSearch.total).toBe(2);
  }, 240_000);

  afterAll(async () => {
    await opened?.close();
    await browser?.close();
    await system?.stop();
    if (consoleDir !== undefined) await rm(consoleDir, { recursive: true, force: true });
  });

  beforeEach(async (context) => {
    // The previous test's page is closed here, not after it, so that a failure can still be photographed.
    await opened?.close();
    problems = [];
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    opened = page;
    page.on('console', (message) => message.type() === 'error' && problems.push(`console error: ${message.text()}`));
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => {
      if (!request.url().startsWith(origin) && !request.url().startsWith('data:'))
        problems.push(`request off the origin: ${request.url()}`);
    });
    onTestFailed(async () => {
      await mkdir(SCREENSHOTS, { recursive: true });
      const path = join(SCREENSHOTS, `console-${context.task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 80)}.png`);
      await page.screenshot({ path, fullPage: true });
      console.error(`the console at ${page.url()} (screenshot ${path}):\n${await page.locator('body').innerText()}`);
    });
  });

  it('refuses a bad token saying why, then signs in with a good one and keeps the view in the URL', async () => {
    await page.goto(`${origin}/logs?query=abc`);
    await page.locator('input[name="token"]').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/\S/);
    await signIn(['viewer'], `/logs?query=${encodeURIComponent(word)}`);
    expect(new URL(page.url()).searchParams.get('query')).toBe(word);
    await page.getByRole('link', { name: 'Traces' }).click();
    await page.waitForURL(/\/traces/);
    await page.goBack();
    expect(new URL(page.url()).pathname).toBe('/logs');
    expect(await page.locator('input[name="query"]').inputValue()).toBe(word);
    expect(problems.filter((p) => !p.includes('401'))).toEqual([]);
  });

  it('finds a Korean word pushed over OTLP, highlighted, with a <script> in a message shown as text', async () => {
    await signIn(['viewer'], `/logs?query=${encodeURIComponent(word)}&service=${shop}`);
    const rows = page.getByTestId('log-row');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(2);
    // nori splits the word (주문, 처리, the run's suffix): each part is marked.
    const marked = await page.locator('[data-testid="log-row"] em').allTextContents();
    expect(marked).toEqual(expect.arrayContaining(['주문', '처리']));
    const script = rows.filter({ hasText: 'rendered as text' });
    expect(await script.textContent()).toContain('<script>window.__injected = true</script>');
    expect(await page.evaluate('window.__injected')).toBeUndefined();
    await rows.first().locator('button.row-line').click();
    await pictureOf('logs');
    expect(problems).toEqual([]);
  });

  it('filters by a label when its facet is clicked, the filter kept in the URL', async () => {
    await signIn(['viewer'], `/logs?service=${shop}`);
    await expect.poll(() => page.getByTestId('log-row').count(), { timeout: 15_000 }).toBe(4);
    await page.getByRole('button', { name: new RegExp(`kr-seoul-${run}`) }).click();
    await expect.poll(() => page.getByTestId('log-row').count()).toBe(1);
    expect(new URL(page.url()).searchParams.getAll('label')).toEqual([`region=kr-seoul-${run}`]);
    expect(await page.getByTestId('log-row').textContent()).toContain('connection refused');
    expect(problems).toEqual([]);
  });

  it("shows a query's syntax error where it is, and searches nothing", async () => {
    await signIn(['viewer'], '/logs');
    await page.locator('input[name="query"]').fill('level:error AND (timeout');
    await page.locator('input[name="query"]').press('Enter');
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/at position \d+/);
    expect(new URL(page.url()).searchParams.get('query')).toBeNull();
    expect(problems).toEqual([]);
  });

  it('draws a histogram whose total is the number of hits', async () => {
    await signIn(['viewer'], `/logs?service=${shop}`);
    const histogram = page.getByTestId('log-histogram');
    await expect.poll(() => histogram.getAttribute('data-total'), { timeout: 15_000 }).toBe('4');
    await expect.poll(() => page.getByTestId('log-total').getAttribute('data-total')).toBe('4');
    // Once shown, a view asks nothing more by itself: a render never starts a query.
    const asked: string[] = [];
    page.on('request', (request) => request.url().endsWith('/graphql') && asked.push(request.url()));
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(asked).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('opens a trace as a waterfall with the right nesting and its critical path', async () => {
    await signIn(['viewer'], `/traces/${traceId}`);
    const rows = page.getByTestId('span-row');
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(3);
    const shape: (string | null)[][] = [];
    for (const row of await rows.all()) {
      shape.push([
        await row.getAttribute('data-span-id'),
        await row.getAttribute('data-depth'),
        await row.getAttribute('data-critical'),
      ]);
    }
    expect(shape.map(([id, depth]) => [id, depth])).toEqual([
      [spanIds.checkout, '0'],
      [spanIds.charge, '1'],
      [spanIds.pay, '2'],
    ]);
    expect(shape.filter(([, , critical]) => critical === 'true').length).toBeGreaterThan(0);
    await rows.nth(2).click();
    await expect
      .poll(() => page.getByRole('complementary', { name: 'Span details' }).textContent())
      .toContain('card declined');
    await pictureOf('trace');
    expect(problems).toEqual([]);
  });

  it('shows the pushed call from one service to the other on the service map', { timeout: 120_000 }, async () => {
    await signIn(['viewer'], '/services');
    const edge = page.locator(`[data-testid="service-edge"][data-parent="${shop}"][data-child="${payments}"]`);
    await expect
      .poll(
        async () => {
          if ((await edge.count()) === 0) await page.reload();
          return edge.count();
        },
        { timeout: 60_000, interval: 3_000 },
      )
      .toBe(1);
    await pictureOf('services');
    expect(problems).toEqual([]);
  });

  it('charts a metric, one series per group, drawn on a canvas', async () => {
    await signIn(['viewer'], `/metrics?name=${metric}&by=queue&agg=MAX&from=now-15m`);
    const chart = page.getByTestId('time-chart');
    await expect.poll(() => chart.getAttribute('data-series'), { timeout: 20_000 }).toBe('2');
    expect(await chart.locator('canvas').count()).toBe(1);
    await pictureOf('metrics');
    expect(problems).toEqual([]);
  });

  it('lets an editor create a rule and a silence', async () => {
    await signIn(['editor'], '/alerts');
    const editor = page.getByRole('form', { name: 'New alert rule' });
    await editor.locator('input[name="name"]').fill(`queue too deep ${run}`);
    await editor.locator('input[name="metric"]').fill(metric);
    await editor.locator('input[name="threshold"]').fill('oops');
    await editor.getByRole('button', { name: 'Create rule' }).click();
    await expect.poll(() => editor.locator('[data-field="threshold"]').count()).toBe(1);
    await editor.locator('input[name="threshold"]').fill('100');
    await editor.getByRole('button', { name: 'Create rule' }).click();
    await expect
      .poll(
        () =>
          page
            .getByTestId('alert-rule')
            .filter({ hasText: `queue too deep ${run}` })
            .count(),
        { timeout: 15_000 },
      )
      .toBe(1);

    await page.getByRole('button', { name: 'Silences' }).click();
    const form = page.getByRole('form', { name: 'New silence' });
    await form.locator('input[name="matchers"]').fill(`service="${shop}"`);
    await form.locator('input[name="comment"]').fill(`maintenance ${run}`);
    await form.getByRole('button', { name: 'Create silence' }).click();
    await expect
      .poll(
        () =>
          page
            .getByTestId('silence')
            .filter({ hasText: `maintenance ${run}` })
            .count(),
        { timeout: 15_000 },
      )
      .toBe(1);
    await pictureOf('alerts');
    expect(problems.filter((p) => !p.includes('400'))).toEqual([]);
  });

  it('offers a viewer no edit control', async () => {
    await signIn(['viewer'], '/alerts');
    await page.getByTestId('alert-rules').waitFor();
    expect(await page.getByRole('form', { name: 'New alert rule' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /Disable|Enable|Create/ }).count()).toBe(0);
    await page.getByRole('button', { name: 'Silences' }).click();
    await page.getByTestId('silences').waitFor();
    expect(await page.getByRole('button', { name: /Expire|Create silence/ }).count()).toBe(0);
    expect(problems).toEqual([]);
  });
});
