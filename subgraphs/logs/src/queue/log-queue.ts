/**
 * The queue of `POST /api/v1/logs` in Redis: accepted entries wait in a stream until an indexer has stored them in
 * Elasticsearch; the ones Elasticsearch refuses for good wait in a dead-letter stream until someone re-drives them.
 *
 * One stream message per accepted request: `ids` (comma-separated) and `docs` (the documents' sources, one JSON per
 * line), so that accepting 10,000 entries is one XADD and indexing them needs no parsing. A counter of the entries
 * waiting (`<stream>:backlog`) moves with each XADD and each acknowledgement in the same transaction.
 */
import type { Redis } from 'ioredis';
import { HeimdallError, heimdallError } from '@heimdall/shared/errors';
import type { ResiliencePolicy } from '@heimdall/shared/resilience';
import { type AnsweredEntry, boundedEntry, withinBudget } from '../answers.js';
import type { LogDocument } from '../log-document.js';
import { type BulkDocument, bulkDocument } from '../store/index.js';

/** The Redis keys of one queue. */
export interface QueueKeys {
  readonly stream: string;
  readonly dead: string;
  readonly backlog: string;
}

export function queueKeys(stream: string): QueueKeys {
  return { stream, dead: `${stream}:dead`, backlog: `${stream}:backlog` };
}

/** The consumer group of the indexers. */
export const INDEXER_GROUP = 'logs-indexer';

/** An entry Elasticsearch refused, as `logIngestFailures` shows it. */
export interface DeadLetter {
  /** The dead-letter stream's id of the failure. */
  readonly id: string;
  readonly reason: string;
  /** Epoch ms. */
  readonly failedAt: number;
  /** Its long texts cut as in every answer. */
  readonly document: AnsweredEntry;
}

/** A queued message: its stream id and its documents. */
export interface QueuedMessage {
  readonly messageId: string;
  readonly documents: BulkDocument[];
}

/** A message's fields as XADD takes them and XREADGROUP returns them. */
export function messageFields(documents: readonly BulkDocument[]): string[] {
  return ['ids', documents.map((d) => d.id).join(','), 'docs', documents.map((d) => d.source).join('\n')];
}

/** The documents of a message's fields; undefined when they are not a message of ours. */
export function parseMessage(fields: readonly string[]): BulkDocument[] | undefined {
  const value = (name: string) => {
    const i = fields.indexOf(name);
    return i >= 0 && i % 2 === 0 ? fields[i + 1] : undefined;
  };
  const ids = value('ids')?.split(',');
  const sources = value('docs')?.split('\n');
  if (ids === undefined || sources === undefined || ids.length !== sources.length) return undefined;
  return ids.map((id, i) => ({ id, source: sources[i]! }));
}

/** The time a stream id was assigned (its first part is Unix milliseconds). */
export function streamIdTime(id: string): number {
  return Number(id.split('-', 1)[0]);
}

export interface LogQueueOptions {
  /** Entries waiting beyond which `enqueue` refuses with UNAVAILABLE. */
  readonly maxEntries: number;
}

export class LogQueue {
  readonly keys: QueueKeys;

  /**
   * `policies.ingest` serves the API's enqueue only, `policies.read` everything else (dead letters, their re-drive,
   * the gauges): a failing or slow read must not refuse entries, nor a full ingest path the reads.
   */
  constructor(
    private readonly redis: Redis,
    private readonly policies: { readonly ingest: ResiliencePolicy; readonly read: ResiliencePolicy },
    stream: string,
    private readonly options: LogQueueOptions,
  ) {
    this.keys = queueKeys(stream);
  }

  async ping(): Promise<void> {
    await this.policies.read.execute(() => this.redis.ping(), { idempotent: true });
  }

  /**
   * Queues entries; resolves once Redis has them (in its AOF when it runs with one). Not retried: a repeated XADD
   * would queue the entries twice.
   */
  async enqueue(documents: readonly LogDocument[]): Promise<void> {
    try {
      const waiting = Number(
        (await this.policies.ingest.execute(() => this.redis.get(this.keys.backlog), { idempotent: true })) ?? 0,
      );
      if (waiting + documents.length > this.options.maxEntries && waiting > 0) {
        throw heimdallError('UNAVAILABLE', {
          message: `the log queue is full (${waiting} entries wait to be indexed)`,
          retryAfterSeconds: 5,
          service: 'logs',
        });
      }
      await this.exec(this.policies.ingest, (multi) =>
        multi
          .xadd(this.keys.stream, '*', ...messageFields(documents.map(bulkDocument)))
          .incrby(this.keys.backlog, documents.length),
      );
    } catch (error) {
      // Redis down, out of memory, or too slow: the entries were not accepted, and the client should try again.
      if (error instanceof HeimdallError) throw error;
      throw heimdallError('UNAVAILABLE', {
        message: 'the log queue cannot take entries now',
        retryAfterSeconds: 5,
        service: 'logs',
        cause: error,
      });
    }
  }

  /** Entries accepted and not yet indexed (nor dead-lettered). */
  async depth(): Promise<number> {
    return Number(
      (await this.policies.read.execute(() => this.redis.get(this.keys.backlog), { idempotent: true })) ?? 0,
    );
  }

  /** How long the oldest waiting entry has waited, in ms; 0 when none waits. */
  async oldestAgeMs(now: number): Promise<number> {
    const [oldest] = await this.policies.read.execute(() => this.redis.xrange(this.keys.stream, '-', '+', 'COUNT', 1), {
      idempotent: true,
    });
    return oldest === undefined ? 0 : Math.max(0, now - streamIdTime(oldest[0]));
  }

  async deadCount(): Promise<number> {
    return this.policies.read.execute(() => this.redis.xlen(this.keys.dead), { idempotent: true });
  }

  /** Dead letters, oldest first, after the one with id `after`. */
  async deadLetters(first: number, after?: string): Promise<DeadLetter[]> {
    if (first <= 0) return [];
    const entries = await this.policies.read.execute(
      () => this.redis.xrange(this.keys.dead, after === undefined ? '-' : `(${after}`, '+', 'COUNT', first),
      {
        idempotent: true,
      },
    );
    return withinBudget(
      entries
        .flatMap(([id, fields]) => toDeadLetter(id, fields))
        .map((letter) => ({ ...letter, document: boundedEntry(letter.document) })),
    );
  }

  /** Queues the entries of these dead letters again and removes them; returns which ids were found. */
  async retry(ids: readonly string[]): Promise<{ retried: string[]; notFound: string[] }> {
    const found: { id: string; document: BulkDocument }[] = [];
    const notFound: string[] = [];
    for (const id of new Set(ids)) {
      const entries = STREAM_ID.test(id)
        ? await this.policies.read.execute(() => this.redis.xrange(this.keys.dead, id, id), { idempotent: true })
        : [];
      const fields = entries[0]?.[1];
      const document = fields === undefined ? undefined : field(fields, 'document');
      if (fields === undefined || document === undefined) notFound.push(id);
      else found.push({ id, document: { id: field(fields, 'entryId') ?? '', source: document } });
    }
    if (found.length > 0) {
      const documents = found.map((f) => f.document);
      await this.exec(this.policies.read, (multi) =>
        multi
          .xadd(this.keys.stream, '*', ...messageFields(documents))
          .incrby(this.keys.backlog, documents.length)
          .xdel(this.keys.dead, ...found.map((f) => f.id)),
      );
    }
    return { retried: found.map((f) => f.id), notFound };
  }

  private async exec(
    policy: ResiliencePolicy,
    build: (multi: ReturnType<Redis['multi']>) => ReturnType<Redis['multi']>,
  ): Promise<void> {
    const results = await policy.execute(() => build(this.redis.multi()).exec());
    const failed = results?.find(([error]) => error !== null)?.[0];
    if (results === null || failed !== undefined) throw failed ?? new Error('the Redis transaction was discarded');
  }
}

const STREAM_ID = /^\d+-\d+$/;

function field(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i < fields.length - 1; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

function toDeadLetter(id: string, fields: readonly string[]): DeadLetter[] {
  const source = field(fields, 'document');
  if (source === undefined) return [];
  // The stored source carries labelKeys for the index's facets; the entry itself does not.
  const document = JSON.parse(source) as LogDocument & { labelKeys?: string[] };
  delete document.labelKeys;
  return [
    {
      id,
      reason: field(fields, 'reason') ?? 'unknown',
      failedAt: Number(field(fields, 'failedAt') ?? streamIdTime(id)),
      document,
    },
  ];
}
