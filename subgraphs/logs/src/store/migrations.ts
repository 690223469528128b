/**
 * The Elasticsearch side of the shared migration runner. A migration is a JSON file in `elasticsearch/migrations/`
 * (`NNNN_name.json`): a list of requests `{ why, method, path, body | bodyFile, ignore }` sent in order. Every request
 * must be safe to send again (a crash between two of them re-runs the migration from its start): `ignore` names the
 * error types that mean "already done", such as `resource_already_exists_exception`; `when` sends a request only to
 * an index whose field has a given type.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@elastic/elasticsearch';
import { z } from 'zod';
import { type Migration, type MigrationTarget, loadMigrations, runMigrations } from '@heimdall/shared/migrations';
import type { ResiliencePolicy } from '@heimdall/shared/resilience';
import { ElasticsearchRefusal, callElasticsearch, errorType, requestOptions } from './elasticsearch.js';

/** Index definitions shipped with Heimdall; `bodyFile`s are relative to it. */
export const ELASTICSEARCH_DIR = join(import.meta.dirname, '..', '..', '..', '..', 'elasticsearch');
export const MIGRATIONS_DIR = join(ELASTICSEARCH_DIR, 'migrations');
/** The index template's definition (its mappings and analysis), which the migrations apply. */
export const TEMPLATE_FILE = join(ELASTICSEARCH_DIR, 'logs-index-template.json');
/** Where applied migrations and the migration lock are recorded. */
export const MIGRATIONS_INDEX = 'heimdall-migrations';

/** A lock older than this was left by an instance that died while migrating. */
const STALE_LOCK_MS = 10 * 60_000;
const LOCK_ID = 'lock';

const requestSchema = z.strictObject({
  why: z.string().optional(),
  method: z.enum(['GET', 'PUT', 'POST', 'DELETE']),
  path: z.string().startsWith('/'),
  body: z.record(z.string(), z.unknown()).optional(),
  bodyFile: z.string().optional(),
  ignore: z.array(z.string()).optional(),
  /** Send the request only if `field` of `index` is mapped with `type` (an index of an older mapping). */
  when: z.strictObject({ index: z.string(), field: z.string(), type: z.string() }).optional(),
});
const migrationSchema = z.array(requestSchema).min(1);

export type MigrationRequest = z.output<typeof requestSchema>;

/** The requests of a migration, with `bodyFile`s read; throws naming the file when it is not a valid migration. */
export async function migrationRequests(migration: Migration, dir = ELASTICSEARCH_DIR): Promise<MigrationRequest[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(migration.body);
  } catch (error) {
    throw new Error(`${migration.name}: not JSON (${(error as Error).message})`, { cause: error });
  }
  const checked = migrationSchema.safeParse(parsed);
  if (!checked.success) throw new Error(`${migration.name}: not a list of requests: ${z.prettifyError(checked.error)}`);
  return Promise.all(
    checked.data.map(async (request) =>
      request.bodyFile === undefined
        ? request
        : {
            ...request,
            body: JSON.parse(await readFile(join(dir, request.bodyFile), 'utf8')) as Record<string, unknown>,
          },
    ),
  );
}

/**
 * Elasticsearch as a migration target. The lock is a document only one instance can create (`op_type: create`);
 * one older than 10 minutes is taken over. Applied versions are documents of the same index.
 */
export function elasticsearchMigrationTarget(
  es: Client,
  policy: ResiliencePolicy,
  dir = ELASTICSEARCH_DIR,
): MigrationTarget {
  const call = <T>(fn: (signal: AbortSignal) => Promise<T>) => callElasticsearch(policy, fn, { idempotent: true });
  const owner = randomUUID();

  const ensureIndex = async () => {
    try {
      await call((signal) =>
        es.indices.create(
          {
            index: MIGRATIONS_INDEX,
            settings: { number_of_shards: 1, auto_expand_replicas: '0-1' },
            mappings: {
              dynamic: false,
              properties: {
                kind: { type: 'keyword' },
                version: { type: 'integer' },
                name: { type: 'keyword' },
                at: { type: 'date' },
              },
            },
          },
          requestOptions(signal),
        ),
      );
    } catch (error) {
      if (errorType(error) !== 'resource_already_exists_exception') throw error;
    }
  };

  /** Takes the lock; resolves with what releasing it needs, or undefined when another holder has it. */
  const tryLock = async (): Promise<{ seqNo: number; primaryTerm: number } | undefined> => {
    try {
      const created = await call((signal) =>
        es.create(
          { index: MIGRATIONS_INDEX, id: LOCK_ID, document: { kind: 'lock', owner, at: Date.now() } },
          requestOptions(signal),
        ),
      );
      return { seqNo: created._seq_no ?? 0, primaryTerm: created._primary_term ?? 0 };
    } catch (error) {
      if (errorType(error) !== 'version_conflict_engine_exception') throw error;
    }
    const held = await call((signal) =>
      es.get<{ at: number }>({ index: MIGRATIONS_INDEX, id: LOCK_ID }, { ...requestOptions(signal), ignore: [404] }),
    );
    if (held.found && held._source !== undefined && Date.now() - held._source.at > STALE_LOCK_MS) {
      // Only the stale lock we read: a fresh one taken meanwhile has another sequence number.
      await call((signal) =>
        es.delete(
          { index: MIGRATIONS_INDEX, id: LOCK_ID, if_seq_no: held._seq_no, if_primary_term: held._primary_term },
          { ...requestOptions(signal), ignore: [404, 409] },
        ),
      );
    }
    return undefined;
  };

  const mappedAs = async ({ index, field, type }: { index: string; field: string; type: string }) => {
    const found = await call((signal) =>
      es.indices.getFieldMapping({ index, fields: field }, { ...requestOptions(signal), ignore: [404] }),
    );
    const mapping = (
      found as Record<
        string,
        { mappings?: Record<string, { mapping?: Record<string, { type?: string }> }> } | undefined
      >
    )[index];
    const leaf = field.split('.').at(-1)!;
    return mapping?.mappings?.[field]?.mapping?.[leaf]?.type === type;
  };

  return {
    async withLock(fn) {
      await ensureIndex();
      let lock = await tryLock();
      while (lock === undefined) {
        await sleep(500);
        lock = await tryLock();
      }
      const held = lock;
      try {
        return await fn();
      } finally {
        await call((signal) =>
          es.delete(
            { index: MIGRATIONS_INDEX, id: LOCK_ID, if_seq_no: held.seqNo, if_primary_term: held.primaryTerm },
            { ...requestOptions(signal), ignore: [404, 409] },
          ),
        );
      }
    },

    async applied() {
      await call((signal) => es.indices.refresh({ index: MIGRATIONS_INDEX }, requestOptions(signal)));
      const found = await call((signal) =>
        es.search<{ version: number }>(
          { index: MIGRATIONS_INDEX, size: 10_000, query: { term: { kind: 'migration' } } },
          requestOptions(signal),
        ),
      );
      return new Set(found.hits.hits.flatMap((hit) => (hit._source === undefined ? [] : [hit._source.version])));
    },

    async apply(migration) {
      for (const [i, request] of (await migrationRequests(migration, dir)).entries()) {
        if (request.when !== undefined && !(await mappedAs(request.when))) continue;
        try {
          await call((signal) =>
            es.transport.request(
              {
                method: request.method,
                path: request.path,
                ...(request.body === undefined ? {} : { body: request.body }),
              },
              requestOptions(signal),
            ),
          );
        } catch (error) {
          const type = errorType(error);
          if (type !== undefined && request.ignore?.includes(type)) continue;
          const detail = error instanceof ElasticsearchRefusal ? error.detail : (error as Error).message;
          throw new Error(`${migration.name}, request ${i} (${request.method} ${request.path}) failed: ${detail}`, {
            cause: error,
          });
        }
      }
      await call((signal) =>
        es.index(
          {
            index: MIGRATIONS_INDEX,
            id: `migration-${migration.version}`,
            document: { kind: 'migration', version: migration.version, name: migration.name, at: Date.now() },
            refresh: true,
          },
          requestOptions(signal),
        ),
      );
    },
  };
}

/** Applies the migrations the cluster has not recorded yet; returns their file names. */
export async function migrate(
  es: Client,
  policy: ResiliencePolicy,
  dir = MIGRATIONS_DIR,
  filesDir = ELASTICSEARCH_DIR,
): Promise<string[]> {
  return runMigrations(elasticsearchMigrationTarget(es, policy, filesDir), await loadMigrations(dir, 'json'));
}
