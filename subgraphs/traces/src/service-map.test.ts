import { describe, expect, it } from 'vitest';
import { otlp } from '@heimdall/shared/otlp';
import { attribute, makeExport, makeSpan, randomTraceId } from './otlp-builders.fixtures.js';
import { dependenciesFromTraces, dependenciesOf, mergeDependencies } from './service-map.js';
import { type TraceModel, tracesFromOtlp } from './trace-model.js';

const { Span_SpanKind: Kind, Status_StatusCode: Code } = otlp;
const peer = (name: string) => attribute('peer.service', { case: 'stringValue', value: name });

/** checkout → payments (twice, one failing) and checkout → inventory; payments also calls its own database span. */
function makeShopTrace(): TraceModel {
  const traceId = randomTraceId();
  const root = makeSpan({ traceId, name: 'GET /checkout' });
  const render = makeSpan({ traceId, parentSpanId: root.spanId, kind: Kind.INTERNAL });
  const pay = makeSpan({ traceId, parentSpanId: root.spanId, kind: Kind.CLIENT, attributes: [peer('payments')] });
  const payServed = makeSpan({ traceId, parentSpanId: pay.spanId, kind: Kind.SERVER, status: { code: Code.ERROR } });
  const payAgain = makeSpan({ traceId, parentSpanId: root.spanId, kind: Kind.CLIENT });
  const payAgainServed = makeSpan({ traceId, parentSpanId: payAgain.spanId, kind: Kind.SERVER });
  const stock = makeSpan({ traceId, parentSpanId: root.spanId, kind: Kind.CLIENT });
  const stockServed = makeSpan({ traceId, parentSpanId: stock.spanId, kind: Kind.SERVER });
  const query = makeSpan({
    traceId,
    parentSpanId: payServed.spanId,
    kind: Kind.CLIENT,
    attributes: [peer('postgres')],
    status: { code: Code.ERROR },
  });
  const [trace] = tracesFromOtlp(
    makeExport(
      { service: 'checkout', spans: [root, render, pay, payAgain, stock] },
      { service: 'payments', spans: [payServed, payAgainServed, query] },
      { service: 'inventory', spans: [stockServed] },
    ),
  );
  return trace!;
}

describe('service map from traces', () => {
  it('counts each span called from another service, and the failed ones', () => {
    expect(dependenciesFromTraces([makeShopTrace()])).toEqual([
      { parent: 'checkout', child: 'inventory', callCount: 1, errorCount: 0 },
      { parent: 'checkout', child: 'payments', callCount: 2, errorCount: 1 },
      { parent: 'payments', child: 'postgres', callCount: 1, errorCount: 1 },
    ]);
  });

  it('adds up calls over traces and counts a trace given twice once', () => {
    const [first, second] = [makeShopTrace(), makeShopTrace()];
    const edges = dependenciesFromTraces([first, second, first]);
    expect(edges.find((e) => e.child === 'payments')).toEqual({
      parent: 'checkout',
      child: 'payments',
      callCount: 4,
      errorCount: 2,
    });
  });

  it('draws no edge for a client span that names no peer or calls its own service', () => {
    const traceId = randomTraceId();
    const root = makeSpan({ traceId });
    const spans = [
      root,
      makeSpan({ traceId, parentSpanId: root.spanId, kind: Kind.CLIENT }),
      makeSpan({ traceId, parentSpanId: root.spanId, kind: Kind.CLIENT, attributes: [peer('checkout')] }),
    ];
    expect(dependenciesFromTraces(tracesFromOtlp(makeExport({ service: 'checkout', spans })))).toEqual([]);
  });
});

describe('service map merged with Jaeger’s', () => {
  it('keeps every edge of either, the larger call count, and the errors the traces saw', () => {
    const fromTraces = [
      { parent: 'checkout', child: 'payments', callCount: 3, errorCount: 1 },
      { parent: 'payments', child: 'postgres', callCount: 2, errorCount: 2 },
    ];
    const fromJaeger = [
      { parent: 'checkout', child: 'payments', callCount: 10 },
      { parent: 'payments', child: 'postgres', callCount: 1 },
      { parent: 'checkout', child: 'inventory', callCount: 4 },
    ];
    expect(mergeDependencies(fromJaeger, fromTraces)).toEqual([
      { parent: 'checkout', child: 'inventory', callCount: 4, errorCount: 0 },
      { parent: 'checkout', child: 'payments', callCount: 10, errorCount: 1 },
      { parent: 'payments', child: 'postgres', callCount: 2, errorCount: 2 },
    ]);
  });

  it('answers a service’s edges, in and out', () => {
    const edges = dependenciesFromTraces([makeShopTrace()]);
    expect(dependenciesOf(edges, 'payments').map((e) => `${e.parent}→${e.child}`)).toEqual([
      'checkout→payments',
      'payments→postgres',
    ]);
  });
});
