/**
 * The indexer of the API queue: reads accepted entries from the Redis stream as a member of the consumer group,
 * bulk-creates them in Elasticsearch under the ids the API answered with (so a redelivery is a conflict, never a
 * duplicate), and acknowledges a message only once every one of its entries is stored or dead-lettered.
 *
 * A message stays pending while Elasticsearch cannot take it: this indexer tries its own pending messages again
 * with a growing pause, and messages another indexer left pending for longer than `claimIdleMs` (it crashed) are
 * claimed with XAUTOCLAIM. Entries Elasticsearch refuses for good go to the dead-letter stream with the reason.
 */
import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@heimdall/shared/telemetry';
import type { IngestMetrics } from '../ingest-metrics.js';
import type { BulkDocument, BulkOutcome } from '../store/index.js';
import { INDEXER_GROUP, type QueueKeys, type QueuedMessage, parseMessage, streamIdTime } from './log-queue.js';

export interface IndexerOptions {
  /** This indexer's name in the consumer group: the instance id, so a restarted instance finds its own pending. */
  readonly consumer: string;
  /** Pending longer than this (ms), another indexer's messages are taken over. */
  readonly claimIdleMs: number;
  /** Messages read at once (a message holds up to 10,000 entries). Default 10. */
  readonly batchMessages?: number;
  /** How long one read waits for new messages, in ms. Default 1,000. */
  readonly blockMs?: number;
  /** Longest pause between tries while Elasticsearch cannot take entries, in ms. Default 10,000. */
  readonly maxBackoffMs?: number;
}

export interface IndexerDeps {
  /** A connection of its own: reads block it. */
  readonly redis: Redis;
  readonly keys: QueueKeys;
  readonly bulkCreate: (documents: readonly BulkDocument[]) => Promise<BulkOutcome[]>;
  readonly metrics: IngestMetrics;
  readonly logger: Logger;
}

type StreamEntry = [id: string, fields: string[] | null];

export class QueueIndexer {
  private readonly batchMessages: number;
  private readonly blockMs: number;
  private readonly maxBackoffMs: number;
  private running: Promise<void> | undefined;
  private stopping = false;
  private readonly stopped = new AbortController();
  private backoffMs = 0;

  constructor(
    private readonly deps: IndexerDeps,
    private readonly options: IndexerOptions,
  ) {
    this.batchMessages = options.batchMessages ?? 10;
    this.blockMs = options.blockMs ?? 1_000;
    // Below the claim time: retrying its own pending messages keeps them from looking abandoned.
    this.maxBackoffMs = Math.min(options.maxBackoffMs ?? 10_000, options.claimIdleMs / 2);
  }

  /** Creates the consumer group when it is missing and starts reading. */
  async start(): Promise<void> {
    try {
      // From 0: entries accepted before any indexer existed are read too.
      await this.deps.redis.xgroup('CREATE', this.deps.keys.stream, INDEXER_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error;
    }
    this.running = this.loop();
  }

  /** Finishes the batch under way and stops reading. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopped.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        if (this.backoffMs > 0)
          await sleep(this.backoffMs, undefined, { signal: this.stopped.signal }).catch(() => undefined);
        if (this.stopping) break;
        const messages = await this.next();
        if (messages.length === 0) continue;
        const retry = await this.index(messages);
        this.backoffMs = retry ? Math.min(Math.max(2 * this.backoffMs, 500), this.maxBackoffMs) : 0;
      } catch (error) {
        this.deps.logger.warn({ err: error }, 'log queue indexer: reading or acknowledging failed; trying again');
        this.backoffMs = Math.min(Math.max(2 * this.backoffMs, 500), this.maxBackoffMs);
      }
    }
  }

  /** Own pending messages first (tried again), then abandoned ones of other indexers, then new ones. */
  private async next(): Promise<QueuedMessage[]> {
    const { redis, keys } = this.deps;
    const own = await redis.xreadgroup(
      'GROUP',
      INDEXER_GROUP,
      this.options.consumer,
      'COUNT',
      this.batchMessages,
      'STREAMS',
      keys.stream,
      '0',
    );
    const pending = entriesOf(own);
    if (pending.length > 0) return this.messages(pending);
    const claimed = (await redis.xautoclaim(
      keys.stream,
      INDEXER_GROUP,
      this.options.consumer,
      this.options.claimIdleMs,
      '0-0',
      'COUNT',
      this.batchMessages,
    )) as [string, StreamEntry[], string[]?];
    if (claimed[1].length > 0) return this.messages(claimed[1]);
    if (this.stopping) return [];
    const fresh = await redis.xreadgroup(
      'GROUP',
      INDEXER_GROUP,
      this.options.consumer,
      'COUNT',
      this.batchMessages,
      'BLOCK',
      this.blockMs,
      'STREAMS',
      keys.stream,
      '>',
    );
    return this.messages(entriesOf(fresh));
  }

  /** Messages with their documents; entries deleted meanwhile or not ours are acknowledged and dropped. */
  private async messages(entries: readonly StreamEntry[]): Promise<QueuedMessage[]> {
    const messages: QueuedMessage[] = [];
    const unreadable: string[] = [];
    for (const [messageId, fields] of entries) {
      const documents = fields === null ? undefined : parseMessage(fields);
      if (documents === undefined) unreadable.push(messageId);
      else messages.push({ messageId, documents });
    }
    if (unreadable.length > 0) {
      this.deps.logger.error({ messageIds: unreadable }, 'log queue: dropping messages that hold no entries');
      await this.deps.redis.xack(this.deps.keys.stream, INDEXER_GROUP, ...unreadable);
    }
    return messages;
  }

  /** Stores the messages' entries; acknowledges the messages that are done. Returns whether any must be tried again. */
  private async index(messages: readonly QueuedMessage[]): Promise<boolean> {
    const documents = messages.flatMap((m) => m.documents);
    let outcomes: BulkOutcome[];
    try {
      outcomes = await this.deps.bulkCreate(documents);
    } catch (error) {
      this.deps.logger.warn(
        { err: error, entries: documents.length },
        'log queue: Elasticsearch did not take the entries; they stay queued',
      );
      return true;
    }
    const { keys, redis, metrics } = this.deps;
    const multi = redis.multi();
    const done: string[] = [];
    let offset = 0;
    let stored = 0;
    let refused = 0;
    let retry = false;
    const now = Date.now();
    for (const message of messages) {
      const mine = outcomes.slice(offset, (offset += message.documents.length));
      if (mine.some((o) => o.kind === 'retry')) {
        retry = true;
        continue;
      }
      mine.forEach((outcome, i) => {
        if (outcome.kind !== 'refused') return;
        const document = message.documents[i]!;
        multi.xadd(
          keys.dead,
          '*',
          'entryId',
          document.id,
          'reason',
          outcome.reason,
          'failedAt',
          String(now),
          'document',
          document.source,
        );
      });
      done.push(message.messageId);
      stored += mine.filter((o) => o.kind === 'stored').length;
      refused += mine.filter((o) => o.kind === 'refused').length;
    }
    if (done.length > 0) {
      const entries = messages.filter((m) => done.includes(m.messageId)).reduce((n, m) => n + m.documents.length, 0);
      multi
        .xack(keys.stream, INDEXER_GROUP, ...done)
        .xdel(keys.stream, ...done)
        .decrby(keys.backlog, entries);
      const results = await multi.exec();
      const failed = results?.find(([error]) => error !== null)?.[0];
      if (results === null || failed !== undefined) throw failed ?? new Error('the Redis transaction was discarded');
      metrics.stored.inc({ source: 'api' }, stored);
      if (refused > 0) metrics.refused.inc({ source: 'api' }, refused);
      for (const id of done) metrics.indexingLag.observe(Math.max(0, now - streamIdTime(id)) / 1000);
    }
    return retry;
  }
}

/** The entries of the one stream an XREADGROUP read. */
function entriesOf(reply: unknown): StreamEntry[] {
  const streams = reply as [key: string, entries: StreamEntry[]][] | null;
  return streams?.[0]?.[1] ?? [];
}
