// The console as a user meets it (issue 19): the first load of /logs (bytes over the wire, time to the first rows),
// a log search to its rendered rows, opening a 2,000-span trace, a 1,000-series chart. The system runs as `npm start`
// runs it, every service a process of its own with NODE_ENV=production on a private stack, and Debian's Chromium
// drives the console built as it ships. `npm run console -w @heimdall/bench`.
import { randomBytes, randomUUID } from 'node:crypto';
import { type Browser, type Page, chromium } from 'playwright-core';
import { buildConsole } from '@heimdall/console';
import { browserPath } from '@heimdall/stack';
import { percentile } from './measure.js';
import { loadAverage, startSupervisedSystem } from './supervised-system.js';

const ORIGIN = 'http://127.0.0.1:4000';
const OTLP = 'http://127.0.0.1:4318';
const RUNS = 15;
const LOGS = 20_000;
const SPANS = 2_000;
const SERIES = 1_000;
const run = randomUUID().slice(0, 8);
const service = `console-bench-${run}`;
const metric = `console_bench_series_${run}`;
/** Fifty words of letters only, one per entry in turn: each is one token to the analyzer, so it is marked whole. */
const wordOf = (n: number) =>
  `tok${String.fromCharCode(97 + (n % 26))}${String.fromCharCode(97 + Math.floor((n % 50) / 26))}`;
const nanos = (ms: number) => String(BigInt(Math.round(ms)) * 1_000_000n);
const resource = { attributes: [{ key: 'service.name', value: { stringValue: service } }] };

async function push(agentKey: string, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${OTLP}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${agentKey}` },
    body: JSON.stringify(body),
  });
  if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`);
}

async function pushData(agentKey: string): Promise<string> {
  const now = Date.now();
  for (let batch = 0; batch < LOGS / 1_000; batch++) {
    const logRecords = Array.from({ length: 1_000 }, (_, i) => {
      const n = batch * 1_000 + i;
      return {
        timeUnixNano: nanos(now - 3_000_000 + n * 100),
        severityNumber: n % 10 === 0 ? 17 : 9,
        body: { stringValue: `order ${n} for customer c${n % 977} ${wordOf(n)} 주문 처리 완료 in ${n % 300} ms` },
      };
    });
    await push(agentKey, '/v1/logs', { resourceLogs: [{ resource, scopeLogs: [{ logRecords }] }] });
  }
  const traceId = randomBytes(16).toString('hex');
  const ids = Array.from({ length: SPANS }, () => randomBytes(8).toString('hex'));
  const t0 = now - 120_000;
  const spans = ids.map((spanId, i) => ({
    traceId,
    spanId,
    // A tree: each span's parent is the one at half its index, so depth grows with log2 of the count.
    parentSpanId: i === 0 ? '' : ids[Math.floor((i - 1) / 2)],
    name: `operation ${i % 40}`,
    kind: i === 0 ? 2 : 3,
    startTimeUnixNano: nanos(t0 + i * 5),
    endTimeUnixNano: nanos(t0 + i * 5 + 50 + (i % 17)),
    attributes: [{ key: 'http.route', value: { stringValue: `/r/${i % 13}` } }],
  }));
  for (let i = 0; i < spans.length; i += 500) {
    await push(agentKey, '/v1/traces', {
      resourceSpans: [{ resource, scopeSpans: [{ spans: spans.slice(i, i + 500) }] }],
    });
  }
  for (let minute = 60; minute > 0; minute--) {
    const at = now - minute * 60_000;
    const dataPoints = Array.from({ length: SERIES }, (_, s) => ({
      timeUnixNano: nanos(at),
      asDouble: s + Math.sin(minute / 5) * 10,
      attributes: [{ key: 'series', value: { stringValue: `s${s}` } }],
    }));
    await push(agentKey, '/v1/metrics', {
      resourceMetrics: [{ resource, scopeMetrics: [{ metrics: [{ name: metric, gauge: { dataPoints } }] }] }],
    });
  }
  return traceId;
}

async function graphql<T>(token: string, query: string): Promise<T> {
  const response = await fetch(`${ORIGIN}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  return ((await response.json()) as { data: T }).data;
}

async function signedInPage(browser: Browser, token: string): Promise<Page> {
  // A new context each time: an empty cache, as at a first visit.
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.addInitScript({ content: `sessionStorage.setItem('heimdall.token', ${JSON.stringify(token)})` });
  return context.newPage();
}

/** The first run is the only one the gateway's answer cache has not seen (the later ones ask the same question). */
function summary(label: string, values: number[], unit = 'ms'): string {
  const sorted = [...values].sort((a, b) => a - b);
  return `${label}: first ${values[0]!.toFixed(0)} ${unit}, p50 ${percentile(sorted, 50).toFixed(0)} ${unit}, p90 ${percentile(sorted, 90).toFixed(0)} ${unit} (${values.length} runs)`;
}

console.log(`load average at start: ${loadAverage()}`);
await buildConsole();
const system = await startSupervisedSystem();
let browser: Browser | undefined;
try {
  browser = await chromium.launch({ executablePath: await browserPath(system.stack.config), args: ['--no-sandbox'] });
  const token = system.viewerToken;
  const traceId = await pushData(system.agentKey);
  const range = `{ from: "${new Date(Date.now() - 3_600_000).toISOString()}", to: "${new Date(Date.now() + 60_000).toISOString()}" }`;
  // Searchable once the last entry pushed is (totals stop at 10,000, as Elasticsearch counts by default).
  for (let i = 0; ; i++) {
    const { logSearch } = await graphql<{ logSearch: { total: number } }>(
      token,
      `{ logSearch(filter: { query: "order ${LOGS - 1}", services: ["${service}"], range: ${range} }) { total } }`,
    );
    if (logSearch.total >= 1) break;
    if (i > 120) throw new Error(`the last of ${LOGS} entries is not searchable after a minute`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  console.log(
    `pushed ${LOGS} log entries, a ${SPANS}-span trace and ${SERIES} series × 60 points; load average ${loadAverage()}`,
  );

  const firstRows: number[] = [];
  let staticBytes = 0;
  let graphqlBytes = 0;
  for (let i = 0; i < RUNS; i++) {
    const page = await signedInPage(browser, token);
    const started = performance.now();
    await page.goto(`${ORIGIN}/logs?service=${service}`);
    await page.getByTestId('log-row').first().waitFor();
    firstRows.push(performance.now() - started);
    if (i === 0) {
      // The first visit's bytes on the wire (headers and encoded bodies): the page and its files, then the answers.
      await page.waitForLoadState('networkidle');
      const entries = await page.evaluate<[string, number][]>(
        `[...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')].map((e) => [e.name, e.transferSize])`,
      );
      for (const [name, bytes] of entries) {
        if (name.endsWith('/graphql')) graphqlBytes += bytes;
        else staticBytes += bytes;
      }
    }
    await page.context().close();
  }

  const page = await signedInPage(browser, token);
  await page.goto(`${ORIGIN}/logs?service=${service}`);
  await page.getByTestId('log-row').first().waitFor();
  const searches: number[] = [];
  for (let i = 0; i < RUNS * 2; i++) {
    const word = wordOf(i);
    const started = performance.now();
    await page.locator('input[name="query"]').fill(word);
    await page.locator('input[name="query"]').press('Enter');
    await page.locator('[data-testid="log-row"] em', { hasText: word }).first().waitFor();
    searches.push(performance.now() - started);
  }

  const traces: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await page.goto(`${ORIGIN}/traces/${traceId}`);
    await page.getByTestId('span-row').first().waitFor();
    traces.push(performance.now() - started);
  }
  const rendered = await page.getByTestId('span-row').count();
  // Scrolling the whole waterfall: the time for 40 steps from top to bottom, each one frame's worth of work.
  const scrolled = await page.evaluate<number>(`(async () => {
    const box = document.querySelector('.span-rows');
    const started = performance.now();
    for (let step = 1; step <= 40; step++) {
      box.scrollTop = (box.scrollHeight * step) / 40;
      await new Promise((resolve) => requestAnimationFrame(resolve));
    }
    return performance.now() - started;
  })()`);

  const charts: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await page.goto(`${ORIGIN}/metrics?name=${metric}&by=series&agg=AVG&from=now-1h&i=${i}`);
    await page.locator(`[data-testid="time-chart"][data-series="${SERIES}"] canvas`).waitFor({ timeout: 60_000 });
    charts.push(performance.now() - started);
  }

  console.log('\nresults');
  console.log(
    `first load of /logs: ${(staticBytes / 1024).toFixed(1)} KiB of static files, ${(graphqlBytes / 1024).toFixed(1)} KiB of answers`,
  );
  console.log(summary('first load of /logs to the first rows (empty cache)', firstRows));
  console.log(summary('log search to rendered rows', searches));
  console.log(summary(`opening a ${SPANS}-span trace to its first rows`, traces));
  console.log(
    `the waterfall keeps ${rendered} of ${SPANS} rows in the DOM; scrolling it top to bottom in 40 frames took ${scrolled.toFixed(0)} ms (${(scrolled / 40).toFixed(1)} ms a frame)`,
  );
  console.log(summary(`a ${SERIES}-series chart, 1 h at 1 m, to its canvas`, charts));
  console.log(`load average at end: ${loadAverage()}`);
} finally {
  await browser?.close();
  await system.stop();
}
