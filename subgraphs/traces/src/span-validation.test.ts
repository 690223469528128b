import { create, fromBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { hexId, otlp } from '@heimdall/shared/otlp';
import { attribute, makeExport, makeSpan, text as anyText } from './otlp-builders.fixtures.js';
import { TRUNCATED_ATTRIBUTE, encodeForJaeger, validateSpans } from './span-validation.js';

const NOW = Date.parse('2026-11-22T10:00:00Z');
const DAY = 86_400_000;

const spanIds = (request: otlp.ExportTraceServiceRequest) =>
  request.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => hexId(s.spanId))));

describe('span validation', () => {
  it('accepts a well-formed export whole', () => {
    const request = makeExport({
      service: 'checkout',
      spans: [makeSpan({ startMs: NOW - 100 }), makeSpan({ startMs: NOW - DAY })],
    });
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
      {
        service: 'payments',
        scope: { name: 'pay-lib', version: '2.0' },
        spans: [kept, makeSpan({ spanId: new Uint8Array(8) })],
      },
    );
    const { accepted } = validateSpans(request, NOW);
    expect(accepted.resourceSpans).toHaveLength(1);
    const [rs] = accepted.resourceSpans;
    expect(rs?.resource?.attributes[0]?.value?.value).toEqual({ case: 'stringValue', value: 'payments' });
    expect(rs?.scopeSpans[0]?.scope).toMatchObject({ name: 'pay-lib', version: '2.0' });
    expect(spanIds(accepted)).toEqual([hexId(kept.spanId)]);
  });

  it('accepts nothing from an export whose every span is bad', () => {
    const result = validateSpans(
      makeExport({ service: 'checkout', spans: [makeSpan({ startMs: NOW - 30 * DAY })] }),
      NOW,
    );
    expect(result.accepted.resourceSpans).toEqual([]);
    expect(result.rejected).toBe(1);
  });
});

describe('span limits', () => {
  const only = (request: otlp.ExportTraceServiceRequest) => request.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
  const text = (value: string) => ({ case: 'stringValue' as const, value });
  const marker = (count: number) => attribute(TRUNCATED_ATTRIBUTE, { case: 'intValue', value: BigInt(count) });
  const limit = (
    init: Parameters<typeof makeSpan>[0],
    resource: Parameters<typeof makeExport>[0] = { service: 'checkout', spans: [] },
  ) => validateSpans(makeExport({ ...resource, spans: [makeSpan({ startMs: NOW - 10, ...init })] }), NOW);

  it('leave a span within them as it came, so that the agent’s own bytes may go to Jaeger', () => {
    const span = makeSpan({
      startMs: NOW - 10,
      name: 'n'.repeat(1024),
      attributes: [attribute('k'.repeat(256), text('v'.repeat(16_384)))],
    });
    const result = validateSpans(makeExport({ service: 'checkout', spans: [span] }), NOW);
    expect(result.truncated).toBe(0);
    expect(only(result.accepted)).toBe(span);
  });

  it('cut names, keys and values to their UTF-8 bytes at a character boundary and count each cut on the span', () => {
    const result = limit({
      name: 'é'.repeat(600),
      attributes: [
        attribute('ключ'.repeat(100), text('😀'.repeat(5000))),
        attribute('payload', { case: 'bytesValue', value: new Uint8Array(10_000) }),
      ],
      status: { code: otlp.Status_StatusCode.ERROR, message: 'm'.repeat(20_000) },
      traceState: `a=${'t'.repeat(20_000)}`,
    });
    const span = only(result.accepted);
    expect(span.name).toBe('é'.repeat(512));
    expect(span.attributes.map((a) => a.key)).toEqual(['ключ'.repeat(32), 'payload', TRUNCATED_ATTRIBUTE]);
    expect(span.attributes[0]!.value!.value).toEqual(text('😀'.repeat(4096)));
    // Badger indexes bytes in hex: half the value limit.
    expect(span.attributes[1]!.value!.value).toEqual({ case: 'bytesValue', value: new Uint8Array(8192) });
    expect(span.attributes[2]).toEqual(marker(5 + 1));
    expect(span.status?.message).toHaveLength(16_384);
    expect(span.traceState).toHaveLength(16_384);
    expect(result.truncated).toBe(6);
  });

  it('keep the leading items of an array or map whose JSON, as badger indexes it, is over the value limit', () => {
    const values = Array.from({ length: 100 }, () => anyText('y'.repeat(998)));
    const entries = values.map((value, i) => create(otlp.KeyValueSchema, { key: `k${i}`.padEnd(4, '_'), value }));
    const span = only(
      limit({
        attributes: [
          attribute('list', { case: 'arrayValue', value: create(otlp.ArrayValueSchema, { values }) }),
          attribute('map', { case: 'kvlistValue', value: create(otlp.KeyValueListSchema, { values: entries }) }),
        ],
      }).accepted,
    );
    const [list, map] = span.attributes.map((a) => a.value?.value);
    // Each item is 1,000 bytes of JSON with its quotes and a comma; each entry 1,007 with its key and colon.
    expect(list?.case === 'arrayValue' && list.value.values).toHaveLength(16);
    expect(map?.case === 'kvlistValue' && map.value.values).toHaveLength(16);
    expect(span.attributes[2]).toEqual(marker(2));
  });

  it('drop attributes, events and links over their counts, adding them to OTLP’s dropped counts', () => {
    const attributes = Array.from({ length: 130 }, (_, i) => attribute(`a${i}`, text('v')));
    const links = Array.from({ length: 129 }, () => ({
      traceId: new Uint8Array(16).fill(1),
      spanId: new Uint8Array(8).fill(2),
    }));
    const events = Array.from({ length: 131 }, (_, i) => ({
      timeMs: NOW - 5,
      name: `e${i}`,
      attributes: i === 0 ? attributes : [],
    }));
    const span = only(limit({ attributes, events, links }).accepted);
    expect(span.attributes).toHaveLength(129);
    expect(span.droppedAttributesCount).toBe(2);
    expect(span.events).toHaveLength(128);
    expect(span.droppedEventsCount).toBe(3);
    expect(span.events[0]!.droppedAttributesCount).toBe(2);
    expect(span.links).toHaveLength(128);
    expect(span.droppedLinksCount).toBe(1);
    expect(span.attributes.at(-1)).toEqual(marker(2 + 3 + 2 + 1));
  });

  it('cut resources and scopes the same way, each marked on its own', () => {
    const result = limit(
      {},
      { service: 's'.repeat(20_000), scope: { name: 'lib'.repeat(10_000), version: '1.0' }, spans: [] },
    );
    const [rs] = result.accepted.resourceSpans;
    expect(rs!.resource!.attributes).toEqual([attribute('service.name', text('s'.repeat(16_384))), marker(1)]);
    expect(rs!.scopeSpans[0]!.scope).toMatchObject({
      name: 'lib'.repeat(10_000).slice(0, 16_384),
      attributes: [marker(1)],
    });
    expect(only(result.accepted).attributes).toEqual([]);
    expect(result.truncated).toBe(2);
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
