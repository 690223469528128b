/**
 * `POST /v1/logs`: OTLP log records into Elasticsearch through group commit. Concurrent requests share `_bulk`
 * writes; a request is answered once Elasticsearch has acknowledged every one of its documents (durable, searchable
 * after the next refresh). Each document is created under its content id, so a retried request stores nothing twice.
 */
import { heimdallError } from '@heimdall/shared/errors';
import type { ExportLogsServiceRequest, OtlpExportResult } from '@heimdall/shared/otlp';
import { GroupCommitBatcher } from '@heimdall/shared/resilience';
import type { IngestMetrics } from './ingest-metrics.js';
import { toLogDocuments } from './otlp-logs.js';
import { type BulkDocument, type BulkOutcome, bulkDocument } from './store/index.js';

export interface OtlpLogWriterOptions {
  /** Bytes of documents that may wait for their write; a request beyond gets 429 + Retry-After. */
  readonly maxPendingBytes: number;
  /** A write starts once this many bytes wait. Default 4 MiB. */
  readonly maxBatchBytes?: number;
  /** ...or this long after the first of them arrived, in ms. Default 10. */
  readonly maxDelayMs?: number;
}

type Stored = Exclude<BulkOutcome, { kind: 'retry' }>;

export class OtlpLogWriter {
  private readonly batcher: GroupCommitBatcher<BulkDocument, Stored>;

  constructor(
    private readonly bulkCreate: (documents: readonly BulkDocument[]) => Promise<BulkOutcome[]>,
    private readonly metrics: IngestMetrics,
    options: OtlpLogWriterOptions,
  ) {
    this.batcher = new GroupCommitBatcher((documents) => this.write(documents), {
      sizeOf: (document) => document.source.length,
      maxPendingSize: options.maxPendingBytes,
      maxBatchSize: options.maxBatchBytes ?? 4 * 1024 * 1024,
      maxDelayMs: options.maxDelayMs ?? 10,
    });
  }

  /**
   * Stores a request's records at time `now` (ms). Records outside the ingest window and documents Elasticsearch
   * refuses for good come back as rejected with the reasons; a document it could not take for now (429, 5xx, down)
   * fails the whole request with 503 + Retry-After, and the retry stores only what is missing.
   */
  async ingest(request: ExportLogsServiceRequest, now = Date.now()): Promise<OtlpExportResult> {
    const mapped = toLogDocuments(request, now);
    const outcomes = await this.batcher.add(mapped.documents.map(({ document }) => bulkDocument(document)));
    const refusals = new Map<string, number>();
    let refused = 0;
    for (const outcome of outcomes) {
      if (outcome.kind !== 'refused') continue;
      refused++;
      refusals.set(outcome.reason, (refusals.get(outcome.reason) ?? 0) + 1);
    }
    this.metrics.stored.inc({ source: 'otlp' }, outcomes.length - refused);
    if (refused > 0) this.metrics.refused.inc({ source: 'otlp' }, refused);
    const messages = [
      ...mapped.errors,
      ...[...refusals].map(([reason, count]) => `${count} ${count === 1 ? 'record' : 'records'} ${reason}`),
    ];
    return {
      rejected: mapped.rejected + refused,
      ...(messages.length === 0 ? {} : { errorMessage: messages.join('; ') }),
    };
  }

  /** Writes what waits, then refuses new requests. */
  close(): Promise<void> {
    return this.batcher.close();
  }

  private async write(documents: BulkDocument[]): Promise<(Stored | Error)[]> {
    const outcomes = await this.bulkCreate(documents);
    return outcomes.map((outcome) =>
      outcome.kind === 'retry'
        ? heimdallError('UNAVAILABLE', {
            message: 'Elasticsearch could not store every log record of the request now; send it again',
            retryAfterSeconds: outcome.retryAfterSeconds,
            service: 'elasticsearch',
          })
        : outcome,
    );
  }
}
