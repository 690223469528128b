// Ingest on the local stack's Elasticsearch and Redis: OTLP from the OpenTelemetry SDK and by hand, the JSON API, and
// every error path with its status and message. Each test writes under service names of its own.
import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otlp } from '@heimdall/shared/otlp';
import { localStack } from '@heimdall/stack';
import {
  type TestLogsService,
  agentHeaders,
  eventually,
  makeOtlpLogs,
  postJson,
  recentRange,
  startLogsService,
} from './logs-service.fixtures.js';
import { pushWithSdk } from '@heimdall/testkit';

const local = localStack(process.env);
const run = randomUUID().slice(0, 8);
const serviceName = (what: string) => `${what}-${run}`;

interface Entry {
  id: string;
  timestamp: string;
  level: string;
  message: string;
  service: string;
  traceId: string | null;
  spanId: string | null;
  labels: { key: string; value: string }[];
  stackTrace: string | null;
  userId: string | null;
  requestId: string | null;
  severityText: string | null;
  severityNumber: number | null;
  resource: { key: string; value: string }[];
  scope: { name: string; version: string | null } | null;
  body: string | null;
}

const ENTRY_FIELDS =
  'id timestamp level message service traceId spanId labels { key value } stackTrace userId requestId severityText severityNumber resource { key value } scope { name version } body';

describe('log ingest', () => {
  let service: TestLogsService;
  const entries = (name: string, limit = 1000) =>
    service.graphql<{ logs: Entry[] }>(
      `query($filter: LogFilter!) { logs(filter: $filter, limit: ${limit}) { ${ENTRY_FIELDS} } }`,
      {
        filter: { services: [name], range: recentRange() },
      },
    );
  const total = async (name: string) =>
    (
      await service.graphql<{ logSearch: { total: number } }>(
        'query($filter: LogFilter!) { logSearch(filter: $filter, first: 1) { total } }',
        {
          filter: { services: [name], range: recentRange() },
        },
      )
    ).data?.logSearch.total;
  /** Waits until `name` has `count` entries (the index refreshes every 5 s), then lets another refresh pass. */
  const settled = async (name: string, count: number) => {
    await eventually(
      () => total(name),
      (n) => n !== undefined && n >= count,
    );
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    return total(name);
  };

  beforeAll(async () => {
    await local.require('elasticsearch', 'redis');
    service = await startLogsService({
      elasticsearchUrl: local.endpoints.elasticsearchUrl,
      redisUrl: local.endpoints.redisUrl,
    });
  });
  afterAll(async () => {
    await service?.stop();
  });

  describe('OTLP from the OpenTelemetry JS SDK', () => {
    it.each(['protobuf', 'json'] as const)('keeps every field of what the SDK exports over %s', async (encoding) => {
      const name = serviceName(`sdk-${encoding}`);
      const traceId = randomBytes(16).toString('hex');
      const spanId = randomBytes(8).toString('hex');
      const at = Date.now() - 1000;
      await pushWithSdk(
        `${service.url}/v1/logs`,
        encoding,
        name,
        [
          {
            body: '데이터베이스에서 연결이 실패했습니다',
            severityNumber: SeverityNumber.ERROR2,
            severityText: 'Err',
            attributes: {
              'http.method': 'POST',
              'user.id': 'kim',
              'request.id': 'req-7',
              'exception.stacktrace': 'Error: refused\n    at connect (db.ts:10)',
            },
            timestamp: at,
            span: { traceId, spanId },
          },
          { body: { order: 42, items: ['a', 'b'] }, severityText: 'Information', timestamp: at + 1 },
        ],
        { 'host.name': 'web-1' },
        await agentHeaders(),
      );

      const found = await eventually(
        () => entries(name),
        (answer) => (answer.data?.logs.length ?? 0) === 2,
      );
      const resource = [
        { key: 'host.name', value: 'web-1' },
        { key: 'service.name', value: name },
      ];
      const [structured, failed] = found.data!.logs;
      expect(failed).toMatchObject({
        timestamp: `${new Date(at).toISOString().slice(0, -1)}000000Z`,
        level: 'ERROR',
        message: '데이터베이스에서 연결이 실패했습니다',
        service: name,
        traceId,
        spanId,
        labels: [
          { key: 'http.method', value: 'POST' },
          { key: 'request.id', value: 'req-7' },
          { key: 'user.id', value: 'kim' },
        ],
        stackTrace: 'Error: refused\n    at connect (db.ts:10)',
        userId: 'kim',
        requestId: 'req-7',
        severityText: 'Err',
        severityNumber: 18,
        scope: { name: 'heimdall.sdk-test', version: '1.0.0' },
        body: null,
      });
      expect([...failed!.resource].sort((a, b) => a.key.localeCompare(b.key))).toEqual(
        expect.arrayContaining(resource),
      );
      expect(structured).toMatchObject({
        level: 'INFO',
        severityText: 'Information',
        severityNumber: null,
        traceId: null,
        message: '{"order":42,"items":["a","b"]}',
      });
      expect(JSON.parse(structured!.body!)).toEqual({ order: 42, items: ['a', 'b'] });
    });
  });

  describe('OTLP by hand', () => {
    it('stores a retried request once, and all of many concurrent requests', async () => {
      const name = serviceName('concurrent');
      const at = Date.now() - 5000;
      const bodies = Array.from({ length: 20 }, (_, r) =>
        makeOtlpLogs(
          name,
          Array.from({ length: 50 }, (_, i) => ({ message: `주문 ${r}-${i} 처리 완료` })),
          at + r,
        ),
      );
      const answers = await Promise.all(bodies.map((body) => postJson(`${service.url}/v1/logs`, body)));
      expect(answers.map((a) => a.status)).toEqual(bodies.map(() => 200));
      // Agents retry what they think was lost: the same requests again, some of them twice at once.
      const retries = await Promise.all(
        [...bodies.slice(0, 5), ...bodies.slice(0, 5)].map((body) => postJson(`${service.url}/v1/logs`, body)),
      );
      expect(retries.map((a) => a.status)).toEqual(retries.map(() => 200));

      expect(await settled(name, 1000)).toBe(1000);
    });

    it('gives back the observed time it was sent, also when it equals the time or stands in for a missing one', async () => {
      const name = serviceName('observed');
      const at = BigInt(Date.now() - 3000) * 1_000_000n + 123_456n;
      const record = (message: string, timeUnixNano: bigint, observedTimeUnixNano: bigint) => ({
        timeUnixNano: String(timeUnixNano),
        observedTimeUnixNano: String(observedTimeUnixNano),
        body: { stringValue: message },
      });
      const body = {
        resourceLogs: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: name } }] },
            scopeLogs: [{ logRecords: [record('equal', at, at), record('untimed', 0n, at + 1_000n)] }],
          },
        ],
      };
      expect((await postJson(`${service.url}/v1/logs`, body)).status).toBe(200);

      const found = await eventually(
        () =>
          service.graphql<{ logs: { message: string; timestamp: string; observedTimestamp: string | null }[] }>(
            'query($filter: LogFilter!) { logs(filter: $filter) { message timestamp observedTimestamp } }',
            { filter: { services: [name], range: recentRange() } },
          ),
        (answer) => (answer.data?.logs.length ?? 0) === 2,
      );
      const iso = (nanos: bigint) =>
        `${new Date(Number(nanos / 1_000_000n)).toISOString().slice(0, -1)}${String(nanos % 1_000_000n).padStart(6, '0')}Z`;
      expect(found.data?.logs).toEqual([
        { message: 'untimed', timestamp: iso(at + 1_000n), observedTimestamp: iso(at + 1_000n) },
        { message: 'equal', timestamp: iso(at), observedTimestamp: iso(at) },
      ]);
    });

    it('gives back the scope with its attributes, apart from the labels, also a scope without a name', async () => {
      const name = serviceName('scope');
      const at = String(BigInt(Date.now() - 3000) * 1_000_000n);
      const scopeLogs = (scope: Record<string, unknown>, message: string) => ({
        scope,
        logRecords: [
          {
            timeUnixNano: at,
            body: { stringValue: message },
            attributes: [{ key: 'region', value: { stringValue: 'kr' } }],
          },
        ],
      });
      const languageGo = [{ key: 'library.language', value: { stringValue: 'go' } }];
      const body = {
        resourceLogs: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: name } }] },
            scopeLogs: [
              scopeLogs({ name: 'app.logger', version: '1.2.0', attributes: languageGo }, 'named'),
              scopeLogs({ attributes: languageGo }, 'nameless'),
            ],
          },
        ],
      };
      expect((await postJson(`${service.url}/v1/logs`, body)).status).toBe(200);

      const found = await eventually(
        () =>
          service.graphql<{ logs: { message: string; labels: unknown[]; scope: unknown }[] }>(
            'query($filter: LogFilter!) { logs(filter: $filter) { message labels { key value } scope { name version attributes { key value } } } }',
            { filter: { services: [name], range: recentRange() } },
          ),
        (answer) => (answer.data?.logs.length ?? 0) === 2,
      );
      const labels = [{ key: 'region', value: 'kr' }];
      const attributes = [{ key: 'library.language', value: 'go' }];
      expect(new Map(found.data?.logs.map((e) => [e.message, e]))).toEqual(
        new Map([
          ['named', { message: 'named', labels, scope: { name: 'app.logger', version: '1.2.0', attributes } }],
          ['nameless', { message: 'nameless', labels, scope: { name: '', version: null, attributes } }],
        ]),
      );
    });

    it('stores a record over the ingest limits cut and counted instead of refusing it', async () => {
      const name = serviceName('limits');
      const body = makeOtlpLogs(
        name,
        [{ message: `big ${'x'.repeat(1024 * 1024)}`, attributes: { payload: 'p'.repeat(128 * 1024), region: 'kr' } }],
        Date.now() - 2000,
      );
      const answer = await postJson(`${service.url}/v1/logs`, body);
      expect(answer.status).toBe(200);
      expect(await answer.json()).toEqual({});
      const found = await eventually(
        () =>
          service.graphql<{
            logs: { message: string; truncated: boolean; labels: { key: string; value: string }[] }[];
          }>('query($filter: LogFilter!) { logs(filter: $filter) { message truncated labels { key value } } }', {
            filter: { services: [name], range: recentRange() },
          }),
        (a) => (a.data?.logs.length ?? 0) === 1,
      );
      const [entry] = found.data!.logs;
      expect(entry!.truncated).toBe(true);
      expect(entry!.message.startsWith('big xxx')).toBe(true);
      expect(new Map(entry!.labels.map((l) => [l.key, l.value.length]))).toEqual(
        new Map([
          ['heimdall.truncated', 1],
          ['payload', 16_384],
          ['region', 2],
        ]),
      );
      expect(entry!.labels.find((l) => l.key === 'heimdall.truncated')?.value).toBe('2');
    });

    it('answers protobuf in protobuf, takes gzip, and reports stale records and refused documents as partial success', async () => {
      const name = serviceName('partial');
      const request = create(otlp.ExportLogsServiceRequestSchema, {
        resourceLogs: [
          {
            resource: { attributes: [{ key: 'service.name', value: { value: { case: 'stringValue', value: name } } }] },
            scopeLogs: [
              {
                logRecords: [
                  {
                    timeUnixNano: BigInt(Date.now()) * 1_000_000n,
                    body: { value: { case: 'stringValue', value: '정상' } },
                  },
                  {
                    timeUnixNano: BigInt(Date.now() - 8 * 86_400_000) * 1_000_000n,
                    body: { value: { case: 'stringValue', value: '8일 전' } },
                  },
                  {
                    timeUnixNano: BigInt(Date.now()) * 1_000_000n,
                    body: { value: { case: 'stringValue', value: '너무 긴 사용자' } },
                    // Cut to 16,384 characters, still a keyword longer than Lucene takes (32,766 bytes in UTF-8):
                    // Elasticsearch refuses the document for good.
                    attributes: [
                      { key: 'user.id', value: { value: { case: 'stringValue', value: '유'.repeat(40_000) } } },
                    ],
                  },
                ],
              },
            ],
          },
        ],
      });
      const answer = await fetch(`${service.url}/v1/logs`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip', ...(await agentHeaders()) },
        body: gzipSync(toBinary(otlp.ExportLogsServiceRequestSchema, request)),
      });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toBe('application/x-protobuf');
      const response = fromBinary(otlp.ExportLogsServiceResponseSchema, new Uint8Array(await answer.arrayBuffer()));
      expect(response.partialSuccess?.rejectedLogRecords).toBe(2n);
      expect(response.partialSuccess?.errorMessage).toBe(
        'log records must be at most 7 days old and 10 minutes ahead; 1 record refused by Elasticsearch (document_parsing_exception) at field userId',
      );
      expect(
        (
          await eventually(
            () => entries(name),
            (a) => (a.data?.logs.length ?? 0) > 0,
          )
        ).data?.logs.map((e) => e.message),
      ).toEqual(['정상']);
    });

    it('refuses what is not OTLP with the status and google.rpc.Status the contract names', async () => {
      const post = async (body: string | Buffer, headers: Record<string, string>) =>
        fetch(`${service.url}/v1/logs`, { method: 'POST', headers: { ...headers, ...(await agentHeaders()) }, body });
      const malformed = await post('{"resourceLogs": 7}', { 'content-type': 'application/json' });
      expect(malformed.status).toBe(400);
      expect(await malformed.json()).toMatchObject({ code: 3 });

      const garbage = await post(Buffer.from([0xff, 0xff, 0xff]), { 'content-type': 'application/x-protobuf' });
      expect(garbage.status).toBe(400);
      expect(fromBinary(otlp.RpcStatusSchema, new Uint8Array(await garbage.arrayBuffer())).code).toBe(3);

      const text = await post('hello', { 'content-type': 'text/plain' });
      expect(text.status).toBe(415);
      expect(await text.json()).toEqual({
        code: 3,
        message: 'Content-Type must be application/x-protobuf or application/json',
      });

      const huge = JSON.stringify(makeOtlpLogs(serviceName('huge'), [{ message: 'x'.repeat(21 * 1024 * 1024) }]));
      expect((await post(huge, { 'content-type': 'application/json' })).status).toBe(413);
      const bomb = await post(gzipSync(huge), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      expect(bomb.status).toBe(413);
      expect(await bomb.json()).toEqual({ code: 3, message: `decompressed body exceeds ${20 * 1024 * 1024} bytes` });
    });
  });

  describe('POST /api/v1/logs', () => {
    it('answers 202 with an id per entry, and the entries are indexed under those ids with their fields', async () => {
      const name = serviceName('api');
      const traceId = randomBytes(16).toString('hex');
      const accepted = await postJson(`${service.url}/api/v1/logs`, [
        {
          timestamp: new Date(Date.now() - 2000).toISOString(),
          level: 'warning',
          message: '결제 요청이 실패했습니다 payment declined',
          service: name,
          trace_id: traceId.toUpperCase(),
          span_id: '00f067aa0ba902b7',
          labels: { region: 'kr' },
          stack_trace: 'PaymentError\n  at pay()',
          user_id: 'lee',
          request_id: 'r-1',
        },
        { message: '두 번째', service: name },
      ]);
      expect(accepted.status).toBe(202);
      const { ids } = (await accepted.json()) as { ids: string[] };
      expect(ids).toHaveLength(2);

      const found = await eventually(
        () => entries(name),
        (answer) => (answer.data?.logs.length ?? 0) === 2,
      );
      const byId = new Map(found.data!.logs.map((e) => [e.id, e]));
      expect(byId.get(ids[0]!)).toMatchObject({
        level: 'WARN',
        message: '결제 요청이 실패했습니다 payment declined',
        traceId,
        spanId: '00f067aa0ba902b7',
        labels: [{ key: 'region', value: 'kr' }],
        stackTrace: 'PaymentError\n  at pay()',
        userId: 'lee',
        requestId: 'r-1',
        resource: [],
        scope: null,
      });
      expect(byId.get(ids[1]!)).toMatchObject({ level: 'INFO', message: '두 번째' });
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toMatch(/^heimdall_logs_queue_indexing_lag_seconds_count\{[^}]*\} [1-9]/m);
      expect(metrics).toMatch(/^heimdall_logs_stored_total\{source="api"[^}]*\} [1-9]/m);
    });

    it('refuses a bad entry with 400 naming the field and the entry, and accepts nothing of the request', async () => {
      const name = serviceName('api-bad');
      const refusals: [unknown, number, { message: string; field?: string; index?: number }][] = [
        [
          [
            { message: 'ok', service: name },
            { message: 'x', service: name, labels: { region: 7 } },
          ],
          400,
          { message: 'entry 1: labels.region must be a string', field: 'labels.region', index: 1 },
        ],
        [
          { message: 'x', service: name, level: 'LOUD' },
          400,
          {
            message: 'entry 0: level must be one of DEBUG, INFO, WARN, WARNING, ERROR, FATAL',
            field: 'level',
            index: 0,
          },
        ],
        [{ service: name }, 400, { message: 'entry 0: message is required', field: 'message', index: 0 }],
        [
          { message: 'x', service: name, severity: 'high' },
          400,
          { message: 'entry 0: severity is not a field of a log entry', field: 'severity', index: 0 },
        ],
        [
          { message: 'x', service: name, timestamp: '2020-01-01T00:00:00Z' },
          400,
          {
            message: 'entry 0: timestamp must be at most 7 days old and 10 minutes ahead',
            field: 'timestamp',
            index: 0,
          },
        ],
        [[], 400, { message: 'expected at least one log entry' }],
        [
          Array.from({ length: 10_001 }, () => ({ message: 'x', service: name })),
          400,
          { message: 'expected at most 10000 log entries, got 10001' },
        ],
      ];
      for (const [body, status, error] of refusals) {
        const answer = await postJson(`${service.url}/api/v1/logs`, body);
        expect(answer.status).toBe(status);
        expect(await answer.json()).toEqual({ error: { code: 'BAD_USER_INPUT', ...error } });
      }
      const notJson = await fetch(`${service.url}/api/v1/logs`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', ...(await agentHeaders()) },
        body: 'hello',
      });
      expect(notJson.status).toBe(415);
      const tooLarge = await postJson(`${service.url}/api/v1/logs`, {
        message: 'x'.repeat(21 * 1024 * 1024),
        service: name,
      });
      expect(tooLarge.status).toBe(413);
      expect(await tooLarge.json()).toEqual({
        error: { code: 'PAYLOAD_TOO_LARGE', message: `request body exceeds the limit of ${20 * 1024 * 1024} bytes` },
      });
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      expect(await total(name)).toBe(0);
    });
  });
});
