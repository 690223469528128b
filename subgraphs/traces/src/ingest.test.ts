import { describe, expect, it } from 'vitest';
import { heimdallError } from '@heimdall/shared/errors';
import { type ExportMetricsServiceRequest, type ExportTraceServiceRequest, hexId } from '@heimdall/shared/otlp';
import { TraceIngest } from './ingest.js';
import { makeExport, makeSpan } from './otlp-builders.fixtures.js';
import { countPoints } from './red-forwarder.js';
import type { JaegerWriteResult, RawExport } from './store.js';

const NOW = Date.parse('2026-11-22T10:00:00Z');

function makeIngest(
  answer: () => Promise<JaegerWriteResult> = () => Promise.resolve({ rejected: 0, errorMessage: '' }),
) {
  const written: ExportTraceServiceRequest[] = [];
  const forwarded: (RawExport | undefined)[] = [];
  const derived: ExportMetricsServiceRequest[] = [];
  const ingest = new TraceIngest(
    {
      write: (request, options) => {
        written.push(request);
        forwarded.push(options?.raw);
        return answer();
      },
    },
    { submit: (request) => void derived.push(request) },
    () => NOW,
  );
  const spanIds = () =>
    written.flatMap((r) =>
      r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => hexId(s.spanId)))),
    );
  return { ingest, written, forwarded, derived, spanIds };
}

describe('trace ingest', () => {
  it('stores the valid spans and reports the others as rejected, each reason once', async () => {
    const { ingest, derived, spanIds } = makeIngest();
    const good = makeSpan({ startMs: NOW - 1000 });
    const request = makeExport({
      service: 'checkout',
      spans: [
        good,
        makeSpan({ spanId: new Uint8Array(8), startMs: NOW - 1000 }),
        makeSpan({ startMs: NOW - 8 * 86_400_000 }),
        makeSpan({ startMs: NOW - 9 * 86_400_000 }),
      ],
    });
    expect(await ingest.handle(request)).toEqual({
      rejected: 3,
      errorMessage:
        'span ids must be 8 bytes and not all zero; spans must be at most 7 days old and at most 10 minutes ahead',
    });
    expect(spanIds()).toEqual([hexId(good.spanId)]);
    // One calls point and one duration point for the one stored span.
    expect(derived.map(countPoints)).toEqual([2]);
  });

  it('forwards the client’s own bytes when every span is valid, and a re-encoding of the valid ones otherwise', async () => {
    const { ingest, forwarded } = makeIngest();
    const raw = { body: new Uint8Array([1, 2, 3]), gzip: true };
    await ingest.handle(makeExport({ service: 'checkout', spans: [makeSpan({ startMs: NOW - 1000 })] }), raw);
    await ingest.handle(
      makeExport({
        service: 'checkout',
        spans: [makeSpan({ startMs: NOW - 1000 }), makeSpan({ startMs: NOW + 3_600_000 })],
      }),
      raw,
    );
    expect(forwarded).toEqual([raw, undefined]);
  });

  it('re-encodes a push it cut to the span limits, and says so in a warning', async () => {
    const { ingest, forwarded, written } = makeIngest();
    const raw = { body: new Uint8Array([1, 2, 3]), gzip: false };
    const result = await ingest.handle(
      makeExport({ service: 'checkout', spans: [makeSpan({ startMs: NOW - 1000, name: 'n'.repeat(70_000) })] }),
      raw,
    );
    expect(result).toEqual({
      rejected: 0,
      errorMessage: 'cut to the span limits: 1 values or items (counted in heimdall.truncated)',
    });
    expect(forwarded).toEqual([undefined]);
    expect(written[0]?.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.name).toHaveLength(1024);
  });

  it('neither writes nor derives metrics when no span is valid', async () => {
    const { ingest, written, derived } = makeIngest();
    const result = await ingest.handle(
      makeExport({ service: 'checkout', spans: [makeSpan({ startMs: NOW + 3_600_000 })] }),
    );
    expect(result.rejected).toBe(1);
    expect(written).toEqual([]);
    expect(derived).toEqual([]);
  });

  it('fails the push without deriving metrics when Jaeger does not store the spans', async () => {
    const unavailable = heimdallError('UNAVAILABLE', {
      message: 'jaeger_otlp is unavailable: circuit open',
      retryAfterSeconds: 12,
      service: 'jaeger_otlp',
    });
    const { ingest, derived } = makeIngest(() => Promise.reject(unavailable));
    await expect(
      ingest.handle(makeExport({ service: 'checkout', spans: [makeSpan({ startMs: NOW - 1000 })] })),
    ).rejects.toBe(unavailable);
    expect(derived).toEqual([]);
  });

  it('adds the spans Jaeger did not store to the rejected ones', async () => {
    const { ingest } = makeIngest(() => Promise.resolve({ rejected: 1, errorMessage: 'span too large' }));
    const request = makeExport({
      service: 'checkout',
      spans: [makeSpan({ startMs: NOW - 1000 }), makeSpan({ traceId: new Uint8Array(16), startMs: NOW - 1000 })],
    });
    expect(await ingest.handle(request)).toEqual({
      rejected: 2,
      errorMessage: 'trace ids must be 16 bytes and not all zero; Jaeger: span too large',
    });
  });
});
