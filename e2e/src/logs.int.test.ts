// Logs through the whole system: the OpenTelemetry JS logs SDK pushing to the gateway's OTLP endpoint, the JSON API,
// and everything read back through the gateway's GraphQL with its fields intact.
import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { test as base, beforeAll, describe, expect } from 'vitest';
import { type SdkEncoding, pushWithSdk } from '@heimdall/testkit';
import { localStack } from '@heimdall/stack';
import { System, recentRange } from './system.js';

const local = localStack(process.env);
const ERROR = 17;

const it = base.extend<{ system: System; service: string }>({
  // eslint-disable-next-line no-empty-pattern -- vitest reads the fixtures a test uses from this parameter's pattern
  system: async ({}, use) => {
    const system = await System.create(local, process.env.CLICKHOUSE_URL);
    await system.startSubgraph('logs');
    await system.startGateway({ OTLP_TRACES_URL: 'off' });
    await use(system);
    await system.stop();
  },
  // eslint-disable-next-line no-empty-pattern
  service: async ({}, use) => use(`shop-${randomUUID().slice(0, 8)}`),
});

interface Searched {
  logSearch: {
    total: number;
    entries: {
      id: string;
      timestamp: string;
      level: string;
      message: string;
      service: string;
      traceId: string | null;
      spanId: string | null;
      labels: { key: string; value: string }[];
      userId: string | null;
      severityText: string | null;
      scope: { name: string } | null;
      highlights: string[];
    }[];
  };
}

const searchQuery = (service: string, query = '') =>
  `{ logSearch(filter: { services: ["${service}"], query: ${JSON.stringify(query)}, range: ${recentRange()} }) {
      total entries { id timestamp level message service traceId spanId labels { key value } userId severityText scope { name } highlights } } }`;

describe('logs through the gateway', () => {
  beforeAll(() => local.require('consul', 'elasticsearch', 'redis'));

  it.for(['protobuf', 'json'] as SdkEncoding[])(
    'stores what the OpenTelemetry SDK pushes over %s to the gateway’s OTLP endpoint, and finds it in Korean with its fields',
    async (encoding, { system, service }) => {
      const traceId = randomBytes(16).toString('hex');
      const spanId = randomBytes(8).toString('hex');
      const at = Date.now() - 2000;
      await pushWithSdk(
        `${system.otlpUrl!}/v1/logs`,
        encoding,
        service,
        [
          {
            body: '주문 처리 중 데이터베이스 연결이 실패했습니다',
            severityNumber: ERROR,
            severityText: 'ERROR',
            attributes: { 'user.id': 'park', region: 'kr' },
            timestamp: at,
            span: { traceId, spanId },
          },
          { body: 'order accepted', timestamp: at + 1 },
        ],
        {},
        await system.authHeaders(['agent']),
      );

      const answer = await system.queryUntil<Searched>(
        searchQuery(service, '실패'),
        (data) => data?.logSearch.total === 1,
      );
      expect(answer.errors).toBeUndefined();
      expect(answer.data?.logSearch.entries).toEqual([
        {
          id: expect.stringMatching(/^[0-9a-f]{32}$/) as unknown,
          timestamp: `${new Date(at).toISOString().slice(0, -1)}000000Z`,
          level: 'ERROR',
          message: '주문 처리 중 데이터베이스 연결이 실패했습니다',
          service,
          traceId,
          spanId,
          labels: [
            { key: 'region', value: 'kr' },
            { key: 'user.id', value: 'park' },
          ],
          userId: 'park',
          severityText: 'ERROR',
          scope: { name: 'heimdall.sdk-test' },
          highlights: ['주문 처리 중 데이터베이스 연결이 <em>실패</em>했습니다'],
        },
      ]);
      const all = await system.query<Searched>(searchQuery(service));
      expect(all.data?.logSearch.entries.map((e) => e.message)).toEqual([
        'order accepted',
        '주문 처리 중 데이터베이스 연결이 실패했습니다',
      ]);
    },
  );

  it('finds entries an agent posted to the gateway’s /api/v1/logs under the ids the API answered, with the service’s volume', async ({
    system,
    service,
  }) => {
    const accepted = await fetch(`${system.otlpUrl!}/api/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await system.authHeaders(['agent'])) },
      body: JSON.stringify([
        { message: '사용자 로그인 성공', service, level: 'INFO', labels: { method: 'password' } },
        { message: '결제 요청이 거절되었습니다', service, level: 'WARN', user_id: 'choi' },
      ]),
    });
    expect(accepted.status).toBe(202);
    const { ids } = (await accepted.json()) as { ids: string[] };

    const answer = await system.queryUntil<Searched>(searchQuery(service), (data) => data?.logSearch.total === 2);
    expect(answer.data?.logSearch.entries.map((e) => [e.id, e.message, e.level]).sort()).toEqual(
      [
        [ids[0], '사용자 로그인 성공', 'INFO'],
        [ids[1], '결제 요청이 거절되었습니다', 'WARN'],
      ].sort(),
    );
    const volume = await system.query<{
      service: {
        logs: { message: string }[];
        logVolume: { count: number; levels: { level: string; count: number }[] }[];
      };
    }>(
      `{ service(name: "${service}") { logs(limit: 5) { message } logVolume(range: ${recentRange()}, interval: "1h") { count levels { level count } } } }`,
    );
    expect(volume.errors).toBeUndefined();
    expect(volume.data?.service.logs).toHaveLength(2);
    expect(
      volume.data?.service.logVolume.flatMap((b) => b.levels).sort((a, b) => a.level.localeCompare(b.level)),
    ).toEqual([
      { level: 'INFO', count: 1 },
      { level: 'WARN', count: 1 },
    ]);
  });

  it('passes the logs subgraph’s errors through: a query’s syntax error with its position, 413 for an oversized push plain or gzip', async ({
    system,
    service,
  }) => {
    const bad = await system.query(`{ logSearch(filter: { query: "결제 OR", range: ${recentRange()} }) { total } }`);
    expect(bad.errors).toEqual([
      expect.objectContaining({
        extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', argument: 'query', position: 5 }) as unknown,
      }),
    ]);
    const huge = JSON.stringify({
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeLogs: [
            {
              logRecords: [
                {
                  timeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
                  body: { stringValue: 'x'.repeat(21 * 1024 * 1024) },
                },
              ],
            },
          ],
        },
      ],
    });
    for (const [body, headers] of [
      [huge, { 'content-type': 'application/json' }],
      [gzipSync(huge), { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
    ] as const) {
      const answer = await fetch(`${system.otlpUrl!}/v1/logs`, {
        method: 'POST',
        headers: { ...headers, ...(await system.authHeaders(['agent'])) },
        body,
      });
      expect(answer.status).toBe(413);
    }
  });
});
