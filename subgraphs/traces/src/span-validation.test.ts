import { fromBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { hexId, otlp } from '@heimdall/shared';
import { makeExport, makeSpan } from './otlp-builders.fixtures.js';
import { encodeForJaeger, validateSpans } from './span-validation.js';

const NOW = Date.parse('2026-11-22T10:00:00Z');
const DAY = 86_400_000;

const spanIds = (request: otlp.ExportTraceServiceRequest) =>
  request.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => hexId(s.spanId))));

describe('span validation', () => {
  it('accepts a well-formed export whole', () => {
    const request = makeExport({ service: 'checkout', spans: [makeSpan({ startMs: NOW - 100 }), makeSpan({ startMs: NOW - DAY })] });
    const result = validateSpans(request, NOW);
    expect(result.rejected).toBe(0);
    expect(result.errors).toEqual([]);
    expect(spanIds(result.accepted)).toEqual(spanIds(request));
  });

  it('rejects spans older than 7 days or more than 10 minutes ahead, one by one', () => {
    const good = makeSpan({ startMs: NOW - 7 * DAY + 1000, endMs: NOW + 9 * 60_000 });
    const old = makeSpan({ startMs: NOW - 7 * DAY - 1000 });
    const ahead = makeSpan({ startMs: NOW, endMs: NOW + 11 * 60_000 });
    const result = validateSpans(makeExport({ service: 'checkout', spans: [old, good, ahead] }), NOW);
    expect(result.rejected).toBe(2);
    expect(spanIds(result.accepted)).toEqual([hexId(good.spanId)]);
    expect(result.errors).toEqual(['spans must be at most 7 days old and at most 10 minutes ahead']);
  });

  it('rejects zero or ill-sized trace and span ids, bad parent ids and spans that end before they start', () => {
    const spans = [
      makeSpan({ traceId: new Uint8Array(16) }),
      makeSpan({ traceId: new Uint8Array(8).fill(1) }),
      makeSpan({ spanId: new Uint8Array(8) }),
      makeSpan({ spanId: new Uint8Array(16).fill(1) }),
      makeSpan({ parentSpanId: new Uint8Array(4).fill(1) }),
      makeSpan({ startMs: NOW - 10, endMs: NOW - 20 }),
    ];
    const child = makeSpan({ parentSpanId: new Uint8Array(8).fill(7), startMs: NOW - 10 });
    const result = validateSpans(makeExport({ service: 'checkout', spans: [...spans, child] }), NOW);
    expect(result.rejected).toBe(6);
    expect(spanIds(result.accepted)).toEqual([hexId(child.spanId)]);
    expect(result.errors.sort()).toEqual([
      'parent span ids must be empty or 8 bytes',
      'span ids must be 8 bytes and not all zero',
      'spans must not end before they start',
      'trace ids must be 16 bytes and not all zero',
    ]);
  });

  it('drops resources and scopes left without spans and keeps the others with their resource and scope', () => {
    const kept = makeSpan({ startMs: NOW - 10 });
    const request = makeExport(
      { service: 'checkout', spans: [makeSpan({ startMs: NOW - 30 * DAY })] },
      { service: 'payments', scope: { name: 'pay-lib', version: '2.0' }, spans: [kept, makeSpan({ spanId: new Uint8Array(8) })] },
    );
    const { accepted } = validateSpans(request, NOW);
    expect(accepted.resourceSpans).toHaveLength(1);
    const [rs] = accepted.resourceSpans;
    expect(rs?.resource?.attributes[0]?.value?.value).toEqual({ case: 'stringValue', value: 'payments' });
    expect(rs?.scopeSpans[0]?.scope).toMatchObject({ name: 'pay-lib', version: '2.0' });
    expect(spanIds(accepted)).toEqual([hexId(kept.spanId)]);
  });

  it('accepts nothing from an export whose every span is bad', () => {
    const result = validateSpans(makeExport({ service: 'checkout', spans: [makeSpan({ startMs: NOW - 30 * DAY })] }), NOW);
    expect(result.accepted.resourceSpans).toEqual([]);
    expect(result.rejected).toBe(1);
  });
});

describe('encoding for Jaeger', () => {
  it('is the OTLP protobuf of the request', () => {
    const request = makeExport({ service: 'checkout', spans: [makeSpan({ name: 'GET /cart' })] });
    const decoded = fromBinary(otlp.ExportTraceServiceRequestSchema, encodeForJaeger(request));
    expect(decoded.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.name).toBe('GET /cart');
    expect(spanIds(decoded)).toEqual(spanIds(request));
  });
});
