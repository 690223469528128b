// The gateway's answer cache with real parts: two gateway instances sharing the local Redis in front of a metrics
// subgraph on embedded ClickHouse. Where an answer came from is in the `x-heimdall-cache` header.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '@heimdall/shared/auth';
import { localStack } from '@heimdall/stack';
import { System } from './system.js';

const local = localStack(process.env);
const LIVE_TTL_MS = 600;

describe('the answer cache', () => {
  let system: System;
  const service = `cache-${randomUUID().slice(0, 8)}`;
  const now = Date.now();

  const push = async (points: { ms: number; value: number }[]) => {
    const body = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'cache_probe',
                  gauge: {
                    dataPoints: points.map((p) => ({
                      timeUnixNano: String(BigInt(p.ms) * 1_000_000n),
                      asDouble: p.value,
                    })),
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const answer = await fetch(`${system.otlpUrl!}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await system.authHeaders(['agent'])) },
      body: JSON.stringify(body),
    });
    expect(answer.status).toBe(200);
  };
  const panel = (from: number, to: number) => ({
    query: `query Panel($from: String!, $to: String!, $service: String!) {
      metricQuery(input: { name: "cache_probe", matchers: [{ key: "service.name", op: EQ, value: $service }], range: { from: $from, to: $to }, step: "1m", aggregation: SUM }) {
        series { points { value } } } }`,
    variables: { from: new Date(from).toISOString(), to: new Date(to).toISOString(), service },
  });
  /** Asks gateway `instance` as a caller with `roles`: where the answer came from, and the answer. */
  const ask = async (
    instance: number,
    request: { query: string; variables?: Record<string, unknown> },
    roles: Role[] = ['viewer'],
  ) => {
    const response = await fetch(`${system.gateways[instance]!.gateway.service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await system.authHeaders(roles)) },
      body: JSON.stringify(request),
    });
    return {
      from: response.headers.get('x-heimdall-cache'),
      body: (await response.json()) as { data?: unknown; errors?: unknown[] },
    };
  };
  const total = (body: { data?: unknown }) =>
    (body.data as { metricQuery: { series: { points: { value: number }[] }[] } }).metricQuery.series
      .flatMap((s) => s.points)
      .reduce((sum, p) => sum + p.value, 0);

  beforeAll(async () => {
    await local.require('consul', 'redis');
    system = await System.create(local, process.env.CLICKHOUSE_URL);
    await system.startSubgraph('metrics');
    const cacheOn = { RESPONSE_CACHE_TTL_MS: '30000', RESPONSE_CACHE_LIVE_TTL_MS: String(LIVE_TTL_MS) };
    await system.startGateway(cacheOn);
    await system.startGateway(cacheOn);
    await push(Array.from({ length: 60 }, (_, i) => ({ ms: now - 10 * 60_000 + i * 1000, value: 1 })));
  }, 60_000);
  afterAll(() => system?.stop());

  it('serves a repeated query about the past from the first gateway’s memory, then from Redis to a second gateway', async () => {
    const past = panel(now - 20 * 60_000, now - 5 * 60_000);
    const first = await ask(0, past);
    expect(first.from).toBe('miss');
    expect(total(first.body)).toBe(60);
    expect(await ask(0, past)).toEqual({ from: 'hit-l1', body: first.body });
    expect(await ask(1, past)).toEqual({ from: 'hit-l2', body: first.body });
    expect(await ask(1, past)).toEqual({ from: 'hit-l1', body: first.body });
    const metrics = await (await fetch(`${system.gateways[0]!.gateway.service.url}/metrics`)).text();
    expect(metrics).toMatch(/heimdall_gateway_cache_requests_total\{outcome="hit-l1"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/heimdall_gateway_cache_hit_ratio\{[^}]*\} 0\.[1-9]/);
  });

  it('never answers a role from another role’s cached answer', async () => {
    const past = panel(now - 30 * 60_000, now - 6 * 60_000);
    expect((await ask(0, past, ['viewer'])).from).toBe('miss');
    expect((await ask(0, past, ['viewer'])).from).toBe('hit-l1');
    const editor = await ask(0, past, ['editor']);
    expect(editor.from).toBe('miss');
    expect(total(editor.body)).toBe(60);
  });

  it('keeps an answer whose window reaches into the last minute only briefly, and then shows what arrived since', async () => {
    const live = () => panel(now - 20 * 60_000, Date.now() + 60_000);
    const request = live();
    const before = await ask(0, request);
    expect(before.from).toBe('miss');
    expect((await ask(0, request)).from).toBe('hit-l1');
    await push([{ ms: Date.now() - 1000, value: 5 }]);
    await sleep(LIVE_TTL_MS + 200);
    const after = await ask(0, request);
    expect(after.from).toBe('miss');
    expect(total(after.body)).toBe(total(before.body) + 5);
  });

  it('never keeps errors or mutations', async () => {
    const bad = {
      query: `{ metricQuery(input: { name: "cache_probe", matchers: [{ key: "service.name", op: RE, value: "(" }], range: { from: "${new Date(now - 3_600_000).toISOString()}", to: "${new Date(now - 120_000).toISOString()}" } }) { series { points { value } } } }`,
    };
    const first = await ask(0, bad);
    expect(first.body.errors).toHaveLength(1);
    expect(first.from).toBe('bypass');
    expect((await ask(0, bad)).from).toBe('bypass');
    const mutation = { query: 'mutation { revokeApiKey(id: "00000000-0000-0000-0000-000000000000") }' };
    expect((await ask(0, mutation, ['admin'])).from).toBe('bypass');
  });
});
