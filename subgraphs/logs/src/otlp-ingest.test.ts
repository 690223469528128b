import { create } from '@bufbuild/protobuf';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HeimdallError } from '@heimdall/shared/errors';
import { otlp } from '@heimdall/shared/otlp';
import type { IngestMetrics } from './ingest-metrics.js';
import { OtlpLogWriter } from './otlp-ingest.js';
import type { BulkDocument, BulkOutcome } from './store/index.js';
import { msToNanos } from './timestamps.js';

const NOW = Date.UTC(2026, 10, 22, 10);

function makeRequest(messages: string[], at = NOW - 1000) {
  return create(otlp.ExportLogsServiceRequestSchema, {
    resourceLogs: [
      {
        resource: {
          attributes: [{ key: 'service.name', value: { value: { case: 'stringValue', value: 'checkout' } } }],
        },
        scopeLogs: [
          {
            logRecords: messages.map((message) => ({
              timeUnixNano: msToNanos(at),
              body: { value: { case: 'stringValue' as const, value: message } },
            })),
          },
        ],
      },
    ],
  });
}

function makeMetrics(): IngestMetrics & { counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  const counter = (name: string) => ({
    inc: (labels: { source: string }, value = 1) =>
      void (counts[`${name}:${labels.source}`] = (counts[`${name}:${labels.source}`] ?? 0) + value),
  });
  return { counts, stored: counter('stored'), refused: counter('refused'), indexingLag: { observe: () => undefined } };
}

/** A store that decides each document's outcome by its message. */
function makeStore(outcome: (message: string) => BulkOutcome) {
  const writes: BulkDocument[][] = [];
  const bulkCreate = (documents: readonly BulkDocument[]) => {
    writes.push([...documents]);
    return Promise.resolve(documents.map((d) => outcome((JSON.parse(d.source) as { message: string }).message)));
  };
  return { writes, bulkCreate };
}

describe('OTLP log writer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes concurrent requests in one bulk and answers each once its documents are stored', async () => {
    const store = makeStore(() => ({ kind: 'stored' }));
    const metrics = makeMetrics();
    const writer = new OtlpLogWriter(store.bulkCreate, metrics, { maxPendingBytes: 1_000_000 });
    const answers = Promise.all([writer.ingest(makeRequest(['a', 'b']), NOW), writer.ingest(makeRequest(['c']), NOW)]);
    await vi.advanceTimersByTimeAsync(10);
    expect(await answers).toEqual([{ rejected: 0 }, { rejected: 0 }]);
    expect(store.writes.map((w) => w.length)).toEqual([3]);
    expect(metrics.counts).toEqual({ 'stored:otlp': 3 });
  });

  it('counts refused documents and stale records as rejected, each reason once with its count', async () => {
    const store = makeStore((message) =>
      message.startsWith('bad')
        ? { kind: 'refused', reason: 'refused by Elasticsearch (document_parsing_exception) at field userId' }
        : { kind: 'stored' },
    );
    const writer = new OtlpLogWriter(store.bulkCreate, makeMetrics(), { maxPendingBytes: 1_000_000 });
    const request = makeRequest(['ok', 'bad 1', 'bad 2']);
    request.resourceLogs[0]!.scopeLogs[0]!.logRecords.push(
      create(otlp.LogRecordSchema, { timeUnixNano: msToNanos(NOW - 8 * 86_400_000) }),
    );
    const answer = writer.ingest(request, NOW);
    await vi.advanceTimersByTimeAsync(10);
    expect(await answer).toEqual({
      rejected: 3,
      errorMessage:
        'log records must be at most 7 days old and 10 minutes ahead; 2 records refused by Elasticsearch (document_parsing_exception) at field userId',
    });
  });

  it('fails with 503 and the store’s retry hint only the request whose document could not be stored now', async () => {
    const store = makeStore((message) =>
      message === 'overloaded' ? { kind: 'retry', retryAfterSeconds: 7 } : { kind: 'stored' },
    );
    const writer = new OtlpLogWriter(store.bulkCreate, makeMetrics(), { maxPendingBytes: 1_000_000 });
    const failing = writer.ingest(makeRequest(['fine', 'overloaded']), NOW).catch((error: unknown) => error);
    const passing = writer.ingest(makeRequest(['also fine']), NOW);
    await vi.advanceTimersByTimeAsync(10);
    const error = await failing;
    expect(error).toBeInstanceOf(HeimdallError);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', status: 503, retryAfterSeconds: 7 });
    expect(await passing).toEqual({ rejected: 0 });
  });

  it('refuses with 429 what would take the waiting bytes past the limit', async () => {
    const writer = new OtlpLogWriter(makeStore(() => ({ kind: 'stored' })).bulkCreate, makeMetrics(), {
      maxPendingBytes: 1000,
    });
    const first = writer.ingest(makeRequest(['x'.repeat(600)]), NOW);
    await expect(writer.ingest(makeRequest(['y'.repeat(600)]), NOW)).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      status: 429,
    });
    await vi.advanceTimersByTimeAsync(10);
    expect(await first).toEqual({ rejected: 0 });
  });
});
