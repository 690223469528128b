// The log store's life on an Elasticsearch of its own (the shared one is never stopped or reshaped): migrations from
// the first stacks' index, retention without ILM, refused entries and their re-drive, and Elasticsearch stopped
// while entries arrive.
import { Client, type estypes } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResilienceMetrics, createResiliencePolicy } from '@heimdall/shared/resilience';
import { ServiceMetrics } from '@heimdall/shared/telemetry';
import { type PrivateStack, localStack, privateStack } from '@heimdall/stack';
import {
  type TestLogsService,
  eventually,
  makeOtlpLogs,
  postJson,
  recentRange,
  startLogsService,
} from './logs-service.fixtures.js';
import { LogRetention, MIGRATIONS_INDEX, WRITE_ALIAS, migrate } from './store/index.js';

const local = localStack(process.env);
const DAY_MS = 86_400_000;

/** The index template of the first local stacks: no `id` keyword, labels as plain objects. */
const FIRST_TEMPLATE: Omit<estypes.IndicesPutIndexTemplateRequest, 'name'> = {
  index_patterns: ['logs-*'],
  priority: 500,
  template: {
    settings: {
      number_of_shards: 1,
      number_of_replicas: 0,
      analysis: {
        tokenizer: { korean_tokenizer: { type: 'nori_tokenizer', decompound_mode: 'discard' } },
        analyzer: {
          korean_analyzer: {
            type: 'custom',
            tokenizer: 'korean_tokenizer',
            filter: ['nori_part_of_speech', 'lowercase'],
          },
        },
      },
    },
    mappings: {
      dynamic_templates: [
        { labels_as_keywords: { path_match: 'labels.*', mapping: { type: 'keyword', ignore_above: 1024 } } },
      ],
      properties: {
        timestamp: { type: 'date_nanos' },
        level: { type: 'keyword' },
        message: { type: 'text', analyzer: 'korean_analyzer' },
        service: { type: 'keyword' },
        labels: { type: 'object' },
      },
    },
  },
};

interface Entries {
  logs: { id: string; message: string; labels: { key: string; value: string }[] }[];
}

const entriesOf = (service: TestLogsService, name: string) =>
  service.graphql<Entries>(
    'query($filter: LogFilter!) { logs(filter: $filter, limit: 1000) { id message labels { key value } } }',
    {
      filter: { services: [name], range: recentRange() },
    },
  );

const policy = () =>
  createResiliencePolicy(
    'elasticsearch_test',
    { timeoutMs: 30_000 },
    new ResilienceMetrics(new ServiceMetrics({ service: 'test', instance: 'test' }).registry),
  );

describe('the log store on a cluster of its own', () => {
  let cluster: PrivateStack;
  let es: Client;
  const services: TestLogsService[] = [];
  const start = async (env: Record<string, string> = {}, stream?: string) => {
    const service = await startLogsService({
      elasticsearchUrl: cluster.endpoints.elasticsearchUrl,
      redisUrl: local.endpoints.redisUrl,
      env,
      ...(stream === undefined ? {} : { stream }),
    });
    services.push(service);
    return service;
  };

  beforeAll(async () => {
    await local.require('redis', 'elasticsearch');
    cluster = await privateStack(['elasticsearch'], process.env);
    es = new Client({ node: cluster.endpoints.elasticsearchUrl });
  }, 300_000);

  afterAll(async () => {
    for (const service of services) await service.stop();
    await es?.close();
    await cluster?.remove();
  }, 120_000);

  describe('migrations', () => {
    it('bring a cluster with the first stacks’ logs index to the current template: old entries stay, new writes get the new mapping', async () => {
      await es.indices.putIndexTemplate({ name: 'heimdall-logs', ...FIRST_TEMPLATE });
      await es.indices.create({ index: 'logs-000001', aliases: { logs: { is_write_index: true } } });
      // As the first stacks wrote them: `id` mapped dynamically, as text, which searches cannot sort on.
      await es.index({
        index: 'logs',
        refresh: true,
        document: {
          id: 'old-1',
          timestamp: new Date().toISOString(),
          level: 'WARN',
          message: '예전 색인의 기록',
          service: 'old-stack',
          labels: { http: 'client' },
        },
      });
      // What the old mapping refuses: `labels.http` is a keyword there, so `labels.http.method` cannot be.
      const refused = await es
        .index({ index: 'logs', document: { message: 'x', labels: { 'http.method': 'GET' } } })
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(Error);

      const service = await start();

      const aliases = await es.indices.getAlias({ name: WRITE_ALIAS });
      expect(
        Object.entries(aliases)
          .map(([index, { aliases: a }]) => [index, a.logs?.is_write_index ?? false])
          .sort(),
      ).toEqual([
        ['logs-000001', false],
        ['logs-000002', true],
      ]);
      const pushed = await postJson(
        `${service.url}/v1/logs`,
        makeOtlpLogs('old-stack', [
          { message: '새 색인의 기록', attributes: { http: 'client', 'http.method': 'GET' } },
        ]),
      );
      expect(pushed.status).toBe(200);
      expect(await pushed.json()).toEqual({});
      const found = await eventually(
        () => entriesOf(service, 'old-stack'),
        (answer) => (answer.data?.logs.length ?? 0) === 2,
      );
      expect(found.data?.logs.map((e) => e.message)).toEqual(['새 색인의 기록', '예전 색인의 기록']);
      expect(found.data?.logs[0]?.labels).toEqual([
        { key: 'http', value: 'client' },
        { key: 'http.method', value: 'GET' },
      ]);
      expect(await migrate(es, policy())).toEqual([]);
    });

    it('take over a lock left by an instance that died while migrating', async () => {
      await es.index({
        index: MIGRATIONS_INDEX,
        id: 'lock',
        refresh: true,
        document: { kind: 'lock', owner: 'dead', at: Date.now() - 11 * 60_000 },
      });
      await es.delete({ index: MIGRATIONS_INDEX, id: 'migration-1', refresh: true });

      expect(await migrate(es, policy())).toEqual(['0001_logs_template_and_write_alias.json']);

      expect((await es.get({ index: MIGRATIONS_INDEX, id: 'lock' }, { ignore: [404] })).found).toBe(false);
      // Run again, the migration found a write index with entries and no older mapping to leave: it rolled over once more, harmlessly.
      expect(Object.keys(await es.indices.getAlias({ name: WRITE_ALIAS })).sort()).toEqual([
        'logs-000001',
        'logs-000002',
        'logs-000003',
      ]);
    });
  });

  describe('retention without ILM', () => {
    it('runs in the self-managed mode here, deletes an index past the retention and keeps the write alias working across a rollover', async () => {
      const retention = new LogRetention(es, policy(), {
        shards: 1,
        replicas: 0,
        retentionDays: 90,
        maxAge: '1d',
        maxPrimaryShardSize: '50gb',
        maxDocs: 1,
      });
      expect(await retention.detectMode()).toBe('self-managed');
      const service = await start();
      const now = Date.now();
      // The write index gets entries 95 and 91 days old, rolls over and is past the retention; the next gets one
      // 10 days old and is kept when it rolls over in turn.
      await es.index({
        index: WRITE_ALIAS,
        refresh: true,
        document: {
          id: 'a',
          timestamp: new Date(now - 95 * DAY_MS).toISOString(),
          level: 'INFO',
          message: 'very old',
          service: 'retention',
        },
      });
      await es.index({
        index: WRITE_ALIAS,
        refresh: true,
        document: {
          id: 'b',
          timestamp: new Date(now - 91 * DAY_MS).toISOString(),
          level: 'INFO',
          message: 'old',
          service: 'retention',
        },
      });
      const first = await retention.run(now);
      await es.index({
        index: WRITE_ALIAS,
        refresh: true,
        document: {
          id: 'c',
          timestamp: new Date(now - 10 * DAY_MS).toISOString(),
          level: 'INFO',
          message: 'recent',
          service: 'retention',
        },
      });
      const second = await retention.run(now);

      expect(first).toEqual({ rolledOverTo: 'logs-000004', deleted: ['logs-000003'] });
      expect(second).toEqual({ rolledOverTo: 'logs-000005', deleted: [] });
      const pushed = await postJson(
        `${service.url}/v1/logs`,
        makeOtlpLogs('retention', [{ message: 'after the rollover' }]),
      );
      expect(pushed.status).toBe(200);
      const found = await eventually(
        () =>
          service.graphql<Entries>('query($filter: LogFilter!) { logs(filter: $filter) { message } }', {
            filter: {
              services: ['retention'],
              range: { from: new Date(now - 89 * DAY_MS).toISOString(), to: new Date(now + 60_000).toISOString() },
            },
          }),
        (answer) => (answer.data?.logs.length ?? 0) === 2,
      );
      expect(found.data?.logs.map((e) => e.message)).toEqual(['after the rollover', 'recent']);
      expect(Object.keys(await es.indices.getAlias({ name: WRITE_ALIAS })).sort()).toEqual([
        'logs-000001',
        'logs-000002',
        'logs-000004',
        'logs-000005',
      ]);
    });
  });

  describe('entries Elasticsearch refuses', () => {
    it('go to the dead letters with the reason, show in logIngestFailures and /metrics, and are indexed once re-driven', async () => {
      const service = await start();
      const writeIndex = Object.entries(await es.indices.getAlias({ name: WRITE_ALIAS })).find(
        ([, { aliases: a }]) => a.logs?.is_write_index,
      )![0];
      // A mapping that takes no new field any more: an entry with new labels is refused for good.
      const fields = Object.keys(
        (await es.indices.getFieldMapping({ index: writeIndex, fields: '*' }))[writeIndex]!.mappings,
      ).length;
      await es.indices.putSettings({ index: writeIndex, settings: { 'index.mapping.total_fields.limit': fields } });
      const labels = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`refused${i}`, 'x']));
      const accepted = await postJson(`${service.url}/api/v1/logs`, [
        { message: '정상 기록', service: 'dead-letters' },
        { message: '거부될 기록', service: 'dead-letters', labels },
      ]);
      expect(accepted.status).toBe(202);
      const { ids } = (await accepted.json()) as { ids: string[] };

      type Failures = {
        logIngestFailures: {
          id: string;
          reason: string;
          entry: { id: string; message: string; labels: { key: string }[] };
        }[];
      };
      const failures = await eventually(
        () => service.graphql<Failures>('{ logIngestFailures { id reason entry { id message labels { key } } } }'),
        (answer) => (answer.data?.logIngestFailures.length ?? 0) > 0,
      );
      const [failure, ...others] = failures.data?.logIngestFailures ?? [];
      expect(others).toEqual([]);
      expect(failure?.reason).toMatch(/^refused by Elasticsearch \(\w+\)/);
      expect(failure?.entry).toEqual({
        id: ids[1],
        message: '거부될 기록',
        labels: Object.keys(labels)
          .sort()
          .map((key) => ({ key })),
      });
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toMatch(/^heimdall_logs_queue_dead_letters\{[^}]*\} 1$/m);
      expect(metrics).toMatch(/^heimdall_logs_queue_depth\{[^}]*\} 0$/m);
      expect(metrics).toMatch(/^heimdall_logs_refused_total\{source="api"[^}]*\} 1$/m);

      await es.indices.putSettings({ index: writeIndex, settings: { 'index.mapping.total_fields.limit': 1000 } });
      const failureId = failure!.id;
      type Retried = { retryLogIngestFailures: { retried: string[]; notFound: string[] } };
      expect(
        (
          await service.graphql<Retried>(
            `mutation { retryLogIngestFailures(ids: ["${failureId}", "1-1"]) { retried notFound } }`,
          )
        ).data,
      ).toEqual({
        retryLogIngestFailures: { retried: [failureId], notFound: ['1-1'] },
      });
      const found = await eventually(
        () => entriesOf(service, 'dead-letters'),
        (answer) => (answer.data?.logs.length ?? 0) === 2,
      );
      expect(found.data?.logs.map((e) => e.id).sort()).toEqual([...ids].sort());
      expect((await service.graphql<Failures>('{ logIngestFailures { id } }')).data).toEqual({ logIngestFailures: [] });
    });
  });

  describe('Elasticsearch stopped while entries arrive', () => {
    it('answers OTLP with 503 + Retry-After, keeps accepting the API with 202, and stores every acknowledged or accepted entry exactly once once it is back', async () => {
      let service = await start({ LOGS_QUEUE_CLAIM_IDLE_MS: '3000' });
      const stream = service.stream;
      const otlp: { body: unknown; messages: string[]; status?: number; retryAfter?: string | null }[] = [];
      const api: { status: number; ids: string[] }[] = [];
      let sending = true;
      const otlpLoop = (async () => {
        for (let i = 0; sending; i++) {
          const messages = Array.from({ length: 5 }, (_, k) => `otlp ${i}-${k} 요청 처리`);
          const request: (typeof otlp)[number] = {
            body: makeOtlpLogs(
              'outage',
              messages.map((message) => ({ message })),
            ),
            messages,
          };
          otlp.push(request);
          const answer = await postJson(`${service.url}/v1/logs`, request.body).catch(() => undefined);
          request.status = answer?.status ?? 0;
          request.retryAfter = answer?.headers.get('retry-after');
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      })();
      const apiLoop = (async () => {
        for (let i = 0; sending; i++) {
          const answer = await postJson(
            `${service.url}/api/v1/logs`,
            Array.from({ length: 5 }, (_, k) => ({ message: `api ${i}-${k} 요청 접수`, service: 'outage' })),
          ).catch(() => undefined);
          api.push({
            status: answer?.status ?? 0,
            ids: answer?.status === 202 ? ((await answer.json()) as { ids: string[] }).ids : [],
          });
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      })();
      const until = async (check: () => boolean, ms: number) => {
        const deadline = Date.now() + ms;
        while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      };

      await until(() => otlp.filter((r) => r.status === 200).length >= 4, 10_000);
      await cluster.down();
      const stoppedAt = otlp.length;
      await until(() => otlp.slice(stoppedAt).some((r) => r.status === 503), 15_000);
      // The service restarts while Elasticsearch is down: the entries its indexer had taken are taken over.
      const restarted = api.length;
      await service.stop({ clean: false });
      service = await start({ LOGS_QUEUE_CLAIM_IDLE_MS: '3000' }, stream);
      await until(() => api.length > restarted + 4, 10_000);
      await cluster.up();
      const backAt = otlp.length;
      await until(() => otlp.slice(backAt).some((r) => r.status === 200), 60_000);
      sending = false;
      await Promise.all([otlpLoop, apiLoop]);

      // Status 0: no answer, while the service restarted; every answer to OTLP is 200 or 503 with a retry hint.
      const failedOtlp = otlp.filter((r) => r.status !== 200);
      expect(failedOtlp.filter((r) => r.status === 503).length).toBeGreaterThan(0);
      expect(failedOtlp.filter((r) => r.status !== 0).every((r) => r.status === 503 && Number(r.retryAfter) > 0)).toBe(
        true,
      );
      const answeredApi = api.filter((r) => r.status !== 0);
      expect(answeredApi.length).toBeGreaterThan(api.length - 4);
      expect(answeredApi.every((r) => r.status === 202)).toBe(true);
      // The agents retry what was not acknowledged.
      for (const request of failedOtlp) {
        const retried = await eventually(
          () => postJson(`${service.url}/v1/logs`, request.body),
          (answer) => answer.status === 200,
          60_000,
        );
        expect(retried.status).toBe(200);
      }

      const expected = [...otlp.flatMap((r) => r.messages)].sort();
      const expectedIds = api.flatMap((r) => r.ids);
      type Page = { logSearch: { entries: { id: string; message: string }[]; cursor: string | null } };
      const readAll = async () => {
        const all: { id: string; message: string }[] = [];
        let after: string | null = null;
        do {
          const page: { data?: Page } = await service.graphql<Page>(
            'query($filter: LogFilter!, $after: String) { logSearch(filter: $filter, first: 1000, after: $after) { entries { id message } cursor } }',
            { filter: { services: ['outage'], range: recentRange() }, after },
          );
          all.push(...(page.data?.logSearch.entries ?? []));
          after = page.data?.logSearch.cursor ?? null;
        } while (after !== null);
        return all;
      };
      const stored = await eventually(readAll, (all) => all.length >= expected.length + expectedIds.length, 120_000);
      expect(
        stored
          .filter((e) => e.message.startsWith('otlp'))
          .map((e) => e.message)
          .sort(),
      ).toEqual(expected);
      expect(
        stored
          .filter((e) => e.message.startsWith('api'))
          .map((e) => e.id)
          .sort(),
      ).toEqual([...expectedIds].sort());
    }, 400_000);
  });
});
