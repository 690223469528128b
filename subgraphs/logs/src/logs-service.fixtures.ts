// The logs service as integration tests run it: in this process, on a given Elasticsearch, with a Redis queue of its
// own (so no other indexer takes its entries), listening on a free port without registering in Consul.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@elastic/elasticsearch';
import { Redis } from 'ioredis';
import { loadConfig } from '@heimdall/shared/config';
import { ConsulClient } from '@heimdall/shared/discovery';
import type { Platform } from '@heimdall/shared/http';
import { makeCaller, serviceAuthHeaders, testServiceAuthEnv } from '@heimdall/testkit';
import { logsEnvSchema } from './config.js';
import { queueKeys } from './queue/log-queue.js';
import { createServer } from './server.js';

export interface GraphQLAnswer<T> {
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface TestLogsService {
  readonly platform: Platform;
  readonly url: string;
  readonly elasticsearch: Client;
  readonly redis: Redis;
  readonly stream: string;
  graphql<T>(query: string, variables?: Record<string, unknown>): Promise<GraphQLAnswer<T>>;
  /** Stops the service (its indexer included) and closes its clients; the queue's keys are kept unless `clean`. */
  stop(options?: { clean?: boolean }): Promise<void>;
}

export async function startLogsService(options: {
  readonly elasticsearchUrl: string;
  readonly redisUrl: string;
  /** The queue's stream; a new one unless given (a restarted service takes its predecessor's). */
  readonly stream?: string;
  readonly env?: Record<string, string>;
}): Promise<TestLogsService> {
  const stream = options.stream ?? `heimdall:logs:test-${randomUUID().slice(0, 8)}`;
  const elasticsearch = new Client({ node: options.elasticsearchUrl });
  const redis = new Redis(options.redisUrl);
  const config = loadConfig(logsEnvSchema, {
    LOG_LEVEL: 'error',
    OTLP_TRACES_URL: 'off',
    ELASTICSEARCH_URL: options.elasticsearchUrl,
    REDIS_URL: options.redisUrl,
    LOGS_QUEUE_STREAM: stream,
    ...testServiceAuthEnv(),
    ...options.env,
  });
  const platform = await createServer(config, { consul: new ConsulClient('http://127.0.0.1:1'), elasticsearch, redis });
  await platform.app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(platform.app.server.address() as { port: number }).port}`;
  let stopped = false;
  return {
    platform,
    url,
    elasticsearch,
    redis,
    stream,
    async graphql<T>(query: string, variables?: Record<string, unknown>) {
      const response = await platform.app.inject({
        method: 'POST',
        url: '/graphql',
        headers: await serviceAuthHeaders(),
        payload: { query, ...(variables === undefined ? {} : { variables }) },
      });
      return response.json<GraphQLAnswer<T>>();
    },
    async stop({ clean = true } = {}) {
      if (stopped) return;
      stopped = true;
      await platform.app.close();
      if (clean) {
        const keys = queueKeys(stream);
        await redis.del(keys.stream, keys.dead, keys.backlog);
      }
      redis.disconnect();
      await elasticsearch.close();
    },
  };
}

/** Polls `read` until `done` holds of its result, for at most `ms`; the last result either way. */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await sleep(250);
    value = await read();
  }
  return value;
}

/** A range around now that every entry of a test falls in. */
export function recentRange(): { from: string; to: string } {
  const now = Date.now();
  return { from: new Date(now - 3_600_000).toISOString(), to: new Date(now + 5 * 60_000).toISOString() };
}

/** An OTLP/JSON logs request from `service`: one record per message, at `at` ms plus its index in ns. */
export function makeOtlpLogs(
  service: string,
  records: {
    message: string;
    severityNumber?: number;
    attributes?: Record<string, string>;
    traceId?: string;
    spanId?: string;
  }[],
  at = Date.now(),
) {
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeLogs: [
          {
            scope: { name: 'heimdall.test' },
            logRecords: records.map((record, i) => ({
              timeUnixNano: String(BigInt(at) * 1_000_000n + BigInt(i)),
              severityNumber: record.severityNumber ?? 9,
              body: { stringValue: record.message },
              attributes: Object.entries(record.attributes ?? {}).map(([key, value]) => ({
                key,
                value: { stringValue: value },
              })),
              ...(record.traceId === undefined ? {} : { traceId: record.traceId }),
              ...(record.spanId === undefined ? {} : { spanId: record.spanId }),
            })),
          },
        ],
      },
    ],
  };
}

/** The headers the gateway's OTLP router sends a logs service on behalf of an agent. */
export function agentHeaders(): Promise<Record<string, string>> {
  return serviceAuthHeaders(makeCaller(['agent'], 'test-agent'));
}

/** Posts `body` as JSON on behalf of an agent, as the gateway forwards an agent's push. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await agentHeaders()), ...headers },
    body: JSON.stringify(body),
  });
}
