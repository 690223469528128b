/**
 * Writes of log entries: documents created under their ids in `_bulk` requests of bounded size, each request
 * through the write policy, each document's outcome reported (stored, refused for good, or to be tried again).
 */
import type { Client, estypes } from '@elastic/elasticsearch';
import { HeimdallError, heimdallError } from '@heimdall/shared/errors';
import type { ResiliencePolicy } from '@heimdall/shared/resilience';
import type { LogDocument } from '../log-document.js';
import { ElasticsearchRefusal, callElasticsearch, requestOptions } from './elasticsearch.js';
import { WRITE_ALIAS } from './retention.js';

/** One document ready for `_bulk`: its id and its source as JSON, serialised once when it arrived. */
export interface BulkDocument {
  readonly id: string;
  readonly source: string;
}

/**
 * What became of one document of a bulk write: stored (created now or before: a conflict on its id means a
 * retry of something stored), refused for good (it does not fit the mapping) or to be tried again later.
 */
export type BulkOutcome =
  | { readonly kind: 'stored' }
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'retry'; readonly retryAfterSeconds: number };

export interface LogWriterOptions {
  /** The alias written. Default `logs`. */
  readonly alias?: string;
  /** Documents per `_bulk` request. Default 1,000. */
  readonly bulkDocs?: number;
  /** Bytes per `_bulk` request. Default 5 MiB. */
  readonly bulkBytes?: number;
  /** `_bulk` requests of one write in flight at once: Elasticsearch indexes one request on one thread. Default 4. */
  readonly bulkConcurrency?: number;
}

/** Statuses of a `_bulk` refused as a whole for what it holds: 400 (a line it cannot parse) and 413 (too large). */
const WHOLE_REQUEST_REFUSALS = new Set([400, 413]);

/** The source of a document as stored, plus the list of its label keys that `logFacets` aggregates on. */
export function bulkDocument(document: LogDocument): BulkDocument {
  return { id: document.id, source: JSON.stringify({ ...document, labelKeys: Object.keys(document.labels) }) };
}

export class LogWriter {
  private readonly alias: string;
  private readonly bulkDocs: number;
  private readonly bulkBytes: number;
  private readonly bulkConcurrency: number;

  constructor(
    private readonly es: Client,
    private readonly policy: ResiliencePolicy,
    options: LogWriterOptions = {},
  ) {
    this.alias = options.alias ?? WRITE_ALIAS;
    this.bulkDocs = options.bulkDocs ?? 1_000;
    this.bulkBytes = options.bulkBytes ?? 5 * 1024 * 1024;
    this.bulkConcurrency = options.bulkConcurrency ?? 4;
  }

  /**
   * Creates each document under its id (`op_type: create`), in `_bulk` requests of bounded size sent side by side.
   * Resolves once Elasticsearch has acknowledged every request, with each document's outcome in order. Nothing is
   * refreshed: an acknowledged document is durable (its shard's translog is synced before the answer) and becomes
   * searchable with the index's next refresh (5 s).
   */
  async bulkCreate(documents: readonly BulkDocument[]): Promise<BulkOutcome[]> {
    const outcomes: BulkOutcome[] = new Array<BulkOutcome>(documents.length);
    const chunks = this.chunks(documents);
    for (let i = 0; i < chunks.length; i += this.bulkConcurrency) {
      await Promise.all(
        chunks.slice(i, i + this.bulkConcurrency).map((chunk) => this.bulkChunk(documents, chunk, outcomes)),
      );
    }
    return outcomes;
  }

  private chunks(documents: readonly BulkDocument[]): { start: number; end: number }[] {
    const chunks: { start: number; end: number }[] = [];
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < documents.length; i++) {
      bytes += documents[i]!.source.length;
      if (i + 1 - start >= this.bulkDocs || bytes >= this.bulkBytes) {
        chunks.push({ start, end: i + 1 });
        start = i + 1;
        bytes = 0;
      }
    }
    if (start < documents.length) chunks.push({ start, end: documents.length });
    return chunks;
  }

  private async bulkChunk(
    documents: readonly BulkDocument[],
    { start, end }: { start: number; end: number },
    outcomes: BulkOutcome[],
  ): Promise<void> {
    const operations: string[] = [];
    for (let i = start; i < end; i++)
      operations.push(`{"create":{"_id":${JSON.stringify(documents[i]!.id)}}}`, documents[i]!.source);
    let response: estypes.BulkResponse;
    try {
      // Idempotent: a repeated create of the same id is a conflict, which counts as stored.
      // require_alias: a missing alias must fail the write, not become an index of that name that no rollover can follow.
      response = await callElasticsearch(
        this.policy,
        (signal) => this.es.bulk({ index: this.alias, require_alias: true, operations }, requestOptions(signal)),
        { idempotent: true },
      );
    } catch (error) {
      // Elasticsearch down, slow or shedding load: these documents wait for another try.
      if (error instanceof HeimdallError && error.code === 'UNAVAILABLE') {
        for (let i = start; i < end; i++)
          outcomes[i] = { kind: 'retry', retryAfterSeconds: error.retryAfterSeconds ?? 1 };
        return;
      }
      // The whole request refused for what it holds (too large, a line the cluster cannot parse): its halves are sent
      // apart, so that only a document refused on its own is refused, with the reason, and the others are stored.
      if (error instanceof ElasticsearchRefusal && WHOLE_REQUEST_REFUSALS.has(error.status)) {
        if (end - start === 1) {
          outcomes[start] = {
            kind: 'refused',
            reason: `refused by Elasticsearch (HTTP ${error.status}${error.type === undefined ? '' : ` ${error.type}`})`,
          };
          return;
        }
        const middle = start + Math.ceil((end - start) / 2);
        await this.bulkChunk(documents, { start, end: middle }, outcomes);
        await this.bulkChunk(documents, { start: middle, end }, outcomes);
        return;
      }
      // Anything else is a bug of ours or a cluster set up wrongly (401, 403), whose text must not reach a client.
      throw heimdallError('INTERNAL', { cause: error });
    }
    response.items.forEach((item, k) => {
      outcomes[start + k] = itemOutcome(item.create);
    });
  }
}

function itemOutcome(result: estypes.BulkResponseItem | undefined): BulkOutcome {
  const status = result?.status ?? 500;
  if (status === 201 || status === 200 || status === 409) return { kind: 'stored' };
  // 404: the write alias is missing (a cluster being set up again); the document itself is fine.
  if (status === 429 || status === 404 || status >= 500) return { kind: 'retry', retryAfterSeconds: 1 };
  return { kind: 'refused', reason: refusalReason(result?.error) };
}

/**
 * Why a document was refused, in our words: the error type and the field at fault, never Elasticsearch's text
 * (which quotes the value).
 */
export function refusalReason(error: estypes.ErrorCause | undefined): string {
  const field = /field \[([^\]]+)\]/.exec(error?.reason ?? '')?.[1];
  return `refused by Elasticsearch (${error?.type ?? 'unknown error'})${field === undefined ? '' : ` at field ${field}`}`;
}
