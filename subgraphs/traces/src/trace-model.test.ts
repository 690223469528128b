import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { hexId, otlp } from '@heimdall/shared/otlp';
import { attribute, makeExport, makeSpan, randomSpanId, randomTraceId } from './otlp-builders.fixtures.js';
import { tracesFromOtlp, withScopeAttributesOnSpans } from './trace-model.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const { SpanKind, StatusCode } = { SpanKind: otlp.Span_SpanKind, StatusCode: otlp.Status_StatusCode };

const anyValue = (value: otlp.AnyValue['value']) => create(otlp.AnyValueSchema, { value });

describe('trace model', () => {
  it('keeps every field of a span: ids, kind, status, typed attributes, events, links, resource and scope', () => {
    const traceId = randomTraceId();
    const parent = randomSpanId();
    const linked = { traceId: randomTraceId(), spanId: randomSpanId() };
    const span = makeSpan({
      traceId,
      parentSpanId: parent,
      name: 'charge',
      kind: SpanKind.CLIENT,
      startMs: T0,
      endMs: T0 + 12.5,
      traceState: 'vendor=1',
      status: { code: StatusCode.ERROR, message: 'card declined' },
      attributes: [
        attribute('s', { case: 'stringValue', value: 'text' }),
        attribute('b', { case: 'boolValue', value: true }),
        attribute('i', { case: 'intValue', value: 9_007_199_254_740_993n }),
        attribute('d', { case: 'doubleValue', value: 1.5 }),
        attribute('bytes', { case: 'bytesValue', value: new Uint8Array([1, 2, 3]) }),
        attribute('arr', {
          case: 'arrayValue',
          value: create(otlp.ArrayValueSchema, {
            values: [anyValue({ case: 'stringValue', value: 'a' }), anyValue({ case: 'intValue', value: 2n })],
          }),
        }),
        attribute('map', {
          case: 'kvlistValue',
          value: create(otlp.KeyValueListSchema, { values: [attribute('inner', { case: 'boolValue', value: false })] }),
        }),
      ],
      events: [{ timeMs: T0 + 3, name: 'retry', attributes: [attribute('attempt', { case: 'intValue', value: 2n })] }],
      links: [
        { ...linked, traceState: 'l=1', attributes: [attribute('why', { case: 'stringValue', value: 'batch' })] },
        { ...linked, attributes: [attribute('opentracing.ref_type', { case: 'stringValue', value: 'child_of' })] },
      ],
    });
    const request = makeExport({
      service: 'payments',
      scope: {
        name: 'pay-lib',
        version: '2.0',
        attributes: [attribute('lib.tier', { case: 'stringValue', value: 'gold' })],
      },
      attributes: [attribute('host.name', { case: 'stringValue', value: 'h1' })],
      spans: [span],
    });

    // As stored in Jaeger, which keeps no scope attributes but those carried on the spans.
    const stored = withScopeAttributesOnSpans(request);
    for (const ss of stored.resourceSpans[0]!.scopeSpans) ss.scope!.attributes = [];
    const [trace] = tracesFromOtlp(stored);
    const model = trace?.spans[0];
    expect(model).toEqual({
      traceId: hexId(traceId),
      spanId: hexId(span.spanId),
      parentSpanId: hexId(parent),
      operationName: 'charge',
      service: 'payments',
      kind: 'CLIENT',
      status: { code: 'ERROR', message: 'card declined' },
      startTime: span.startTimeUnixNano,
      endTime: span.endTimeUnixNano,
      durationMs: 12.5,
      tags: [
        { key: 's', type: 'STRING', value: 'text' },
        { key: 'b', type: 'BOOL', value: 'true' },
        { key: 'i', type: 'INT', value: '9007199254740993' },
        { key: 'd', type: 'DOUBLE', value: '1.5' },
        { key: 'bytes', type: 'BYTES', value: 'AQID' },
        { key: 'arr', type: 'ARRAY', value: '["a",2]' },
        { key: 'map', type: 'MAP', value: '{"inner":false}' },
      ],
      logs: [
        {
          timestamp: span.events[0]!.timeUnixNano,
          name: 'retry',
          fields: [
            { key: 'event', type: 'STRING', value: 'retry' },
            { key: 'attempt', type: 'INT', value: '2' },
          ],
        },
      ],
      references: [
        { refType: 'CHILD_OF', traceId: hexId(traceId), spanId: hexId(parent), traceState: '', tags: [] },
        {
          refType: 'FOLLOWS_FROM',
          traceId: hexId(linked.traceId),
          spanId: hexId(linked.spanId),
          traceState: 'l=1',
          tags: [{ key: 'why', type: 'STRING', value: 'batch' }],
        },
        { refType: 'CHILD_OF', traceId: hexId(linked.traceId), spanId: hexId(linked.spanId), traceState: '', tags: [] },
      ],
      resource: [
        { key: 'service.name', type: 'STRING', value: 'payments' },
        { key: 'host.name', type: 'STRING', value: 'h1' },
      ],
      scope: { name: 'pay-lib', version: '2.0', attributes: [{ key: 'lib.tier', type: 'STRING', value: 'gold' }] },
      traceState: 'vendor=1',
      warnings: [],
    });
  });

  it('summarises each trace: root span, services, start, duration, span and error counts', () => {
    const traceId = randomTraceId();
    const root = makeSpan({ traceId, name: 'GET /checkout', startMs: T0, endMs: T0 + 100 });
    const call = makeSpan({
      traceId,
      parentSpanId: root.spanId,
      kind: SpanKind.CLIENT,
      startMs: T0 + 10,
      endMs: T0 + 120,
      status: { code: StatusCode.ERROR },
    });
    const served = makeSpan({
      traceId,
      parentSpanId: call.spanId,
      startMs: T0 + 20,
      endMs: T0 + 110,
      status: { code: StatusCode.ERROR },
    });
    const request = makeExport({ service: 'checkout', spans: [call, root] }, { service: 'payments', spans: [served] });

    const [trace] = tracesFromOtlp(request);
    expect(trace).toMatchObject({
      traceId: hexId(traceId),
      services: ['checkout', 'payments'],
      startTime: root.startTimeUnixNano,
      endTime: call.endTimeUnixNano,
      durationMs: 120,
      spanCount: 3,
      errorCount: 2,
    });
    expect(trace?.rootSpan.spanId).toBe(hexId(root.spanId));
    expect(trace?.spans.map((s) => s.spanId)).toEqual([root, call, served].map((s) => hexId(s.spanId)));
  });

  it('takes the earliest span whose parent is missing as the root of an incomplete trace', () => {
    const traceId = randomTraceId();
    const orphan = makeSpan({ traceId, parentSpanId: randomSpanId(), startMs: T0 });
    const child = makeSpan({ traceId, parentSpanId: orphan.spanId, startMs: T0 + 1 });
    const [trace] = tracesFromOtlp(makeExport({ service: 'checkout', spans: [child, orphan] }));
    expect(trace?.rootSpan.spanId).toBe(hexId(orphan.spanId));
  });

  it('answers one trace per trace id, newest first', () => {
    const older = makeSpan({ startMs: T0 });
    const newer = makeSpan({ startMs: T0 + 1000 });
    const traces = tracesFromOtlp(makeExport({ service: 'checkout', spans: [older, newer] }));
    expect(traces.map((t) => t.traceId)).toEqual([hexId(newer.traceId), hexId(older.traceId)]);
  });

  it('counts a span stored twice with identical content once', () => {
    const span = makeSpan({ startMs: T0, attributes: [attribute('k', { case: 'stringValue', value: 'v' })] });
    const retried = create(otlp.SpanSchema, span);
    const [trace] = tracesFromOtlp(
      makeExport({ service: 'checkout', spans: [span] }, { service: 'checkout', spans: [retried] }),
    );
    expect(trace?.spanCount).toBe(1);
  });

  it('keeps spans that share an id but differ', () => {
    const span = makeSpan({ startMs: T0 });
    const other = create(otlp.SpanSchema, { ...span, name: 'another operation' });
    const [trace] = tracesFromOtlp(makeExport({ service: 'checkout', spans: [span, other] }));
    expect(trace?.spans.map((s) => s.operationName).sort()).toEqual(['GET /checkout', 'another operation']);
  });

  it("moves Jaeger's warnings out of the tags", () => {
    const warning = create(otlp.ArrayValueSchema, {
      values: [anyValue({ case: 'stringValue', value: 'duplicate span IDs' })],
    });
    const span = makeSpan({
      startMs: T0,
      attributes: [attribute('@jaeger@warnings', { case: 'arrayValue', value: warning })],
    });
    const [trace] = tracesFromOtlp(makeExport({ service: 'checkout', spans: [span] }));
    expect(trace?.spans[0]).toMatchObject({ tags: [], warnings: ['duplicate span IDs'] });
  });

  it('names the service of a resource without service.name unknown_service, and reads an empty value as an empty string', () => {
    const request = create(otlp.ExportTraceServiceRequestSchema, {
      resourceSpans: [
        { scopeSpans: [{ spans: [makeSpan({ attributes: [create(otlp.KeyValueSchema, { key: 'empty' })] })] }] },
      ],
    });
    const [trace] = tracesFromOtlp(request);
    expect(trace?.spans[0]).toMatchObject({
      service: 'unknown_service',
      tags: [{ key: 'empty', type: 'STRING', value: '' }],
    });
  });
});
