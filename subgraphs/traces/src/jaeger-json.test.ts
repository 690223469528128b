import { describe, expect, it } from 'vitest';
import { type JaegerJsonSpan, type JaegerJsonTag, type JaegerJsonTrace, otlpFromJaegerJson } from './jaeger-json.js';
import { type SpanModel, tracesFromOtlp } from './trace-model.js';

const TRACE = '4292a9985d03d4863f9cce62374e8dea';
const START_US = 1_795_911_476_336_083;

const tag = (key: string, type: JaegerJsonTag['type'], value: JaegerJsonTag['value']): JaegerJsonTag => ({
  key,
  type,
  value,
});

function makeJaegerSpan(init: Partial<JaegerJsonSpan> = {}): JaegerJsonSpan {
  return {
    traceID: TRACE,
    spanID: '0000000000000001',
    operationName: 'GET /checkout',
    references: [],
    startTime: START_US,
    duration: 10_000,
    tags: [],
    logs: [],
    processID: 'p1',
    warnings: null,
    ...init,
  };
}

function makeJaegerTrace(
  spans: JaegerJsonSpan[],
  processes: JaegerJsonTrace['processes'] = { p1: { serviceName: 'checkout', tags: [] } },
): JaegerJsonTrace {
  return { traceID: TRACE, spans, processes };
}

/** The only span of a one-span trace, through OTLP into the model. */
function modelOf(span: JaegerJsonSpan, processes?: JaegerJsonTrace['processes']): SpanModel {
  const [trace] = tracesFromOtlp(otlpFromJaegerJson(makeJaegerTrace([span], processes)));
  return trace!.spans[0]!;
}

describe("Jaeger's v1 JSON", () => {
  it('gives the kind, scope, trace state and typed tags back as OTLP fields', () => {
    const span = modelOf(
      makeJaegerSpan({
        tags: [
          tag('span.kind', 'string', 'client'),
          tag('otel.scope.name', 'string', 'pay-lib'),
          tag('otel.scope.version', 'string', '2.0'),
          tag('w3c.tracestate', 'string', 'k=v'),
          tag('s', 'string', 'text'),
          tag('b', 'bool', true),
          tag('small', 'int64', 5),
          tag('big', 'int64', '9007199254740993'),
          tag('d', 'float64', 1.5),
          tag('bytes', 'binary', 'AQID'),
        ],
      }),
    );
    expect(span).toMatchObject({
      kind: 'CLIENT',
      scope: { name: 'pay-lib', version: '2.0' },
      traceState: 'k=v',
      startTime: BigInt(START_US) * 1000n,
      durationMs: 10,
      tags: [
        { key: 's', type: 'STRING', value: 'text' },
        { key: 'b', type: 'BOOL', value: 'true' },
        { key: 'small', type: 'INT', value: '5' },
        { key: 'big', type: 'INT', value: '9007199254740993' },
        { key: 'd', type: 'DOUBLE', value: '1.5' },
        { key: 'bytes', type: 'BYTES', value: 'AQID' },
      ],
    });
  });

  it('reads the status from error=true first, then otel.status_code, and drops those tags', () => {
    const failed = modelOf(
      makeJaegerSpan({
        tags: [
          tag('error', 'bool', true),
          tag('otel.status_code', 'string', 'ERROR'),
          tag('otel.status_description', 'string', 'boom'),
        ],
      }),
    );
    expect(failed).toMatchObject({ status: { code: 'ERROR', message: 'boom' }, tags: [] });
    const legacy = modelOf(makeJaegerSpan({ tags: [tag('error', 'bool', true)] }));
    expect(legacy.status.code).toBe('ERROR');
    const ok = modelOf(makeJaegerSpan({ tags: [tag('otel.status_code', 'string', 'OK')] }));
    expect(ok).toMatchObject({ status: { code: 'OK', message: '' }, tags: [] });
    const unset = modelOf(makeJaegerSpan({ tags: [tag('error', 'bool', false)] }));
    expect(unset).toMatchObject({ status: { code: 'UNSET' }, tags: [{ key: 'error', type: 'BOOL', value: 'false' }] });
  });

  it('takes an HTTP 5xx as an error, and a 4xx only on a client', () => {
    const status = (kind: string, code: number) =>
      modelOf(makeJaegerSpan({ tags: [tag('span.kind', 'string', kind), tag('http.status_code', 'int64', code)] }))
        .status.code;
    expect([status('server', 503), status('server', 404), status('client', 404), status('server', 200)]).toEqual([
      'ERROR',
      'UNSET',
      'ERROR',
      'UNSET',
    ]);
  });

  it('takes the first CHILD_OF reference within the trace as the parent and the other references as links', () => {
    const other = 'ffffffffffffffffffffffffffffffff';
    const span = modelOf(
      makeJaegerSpan({
        references: [
          { refType: 'FOLLOWS_FROM', traceID: other, spanID: '00000000000000aa' },
          { refType: 'CHILD_OF', traceID: TRACE, spanID: '0000000000000009' },
        ],
      }),
    );
    expect(span.parentSpanId).toBe('0000000000000009');
    expect(span.references).toEqual([
      { refType: 'CHILD_OF', traceId: TRACE, spanId: '0000000000000009', traceState: '', tags: [] },
      { refType: 'FOLLOWS_FROM', traceId: other, spanId: '00000000000000aa', traceState: '', tags: [] },
    ]);
  });

  it('turns logs into events named by their event field', () => {
    const span = modelOf(
      makeJaegerSpan({
        logs: [{ timestamp: START_US + 5, fields: [tag('event', 'string', 'retry'), tag('attempt', 'int64', 2)] }],
      }),
    );
    expect(span.logs).toEqual([
      {
        timestamp: BigInt(START_US + 5) * 1000n,
        name: 'retry',
        fields: [
          { key: 'event', type: 'STRING', value: 'retry' },
          { key: 'attempt', type: 'INT', value: '2' },
        ],
      },
    ]);
  });

  it('makes a resource of each process with its service name and tags, and keeps the warnings', () => {
    const processes = {
      p1: { serviceName: 'checkout', tags: [tag('host.name', 'string', 'h1')] },
      p2: { serviceName: 'payments', tags: null },
    };
    const [trace] = tracesFromOtlp(
      otlpFromJaegerJson(
        makeJaegerTrace(
          [makeJaegerSpan(), makeJaegerSpan({ spanID: '0000000000000002', processID: 'p2', warnings: ['clock skew'] })],
          processes,
        ),
      ),
    );
    expect(trace?.services).toEqual(['checkout', 'payments']);
    expect(trace?.spans[0]?.resource).toEqual([
      { key: 'service.name', type: 'STRING', value: 'checkout' },
      { key: 'host.name', type: 'STRING', value: 'h1' },
    ]);
    expect(trace?.spans[1]).toMatchObject({ service: 'payments', warnings: ['clock skew'], tags: [] });
  });

  it('reads a legacy 64-bit trace id as 16 bytes', () => {
    const span = modelOf(makeJaegerSpan({ traceID: '00000000000000ab' }));
    expect(span.traceId).toBe('000000000000000000000000000000ab');
  });
});
