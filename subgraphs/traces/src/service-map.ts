import type { JaegerDependencyLink } from './store.js';
import type { SpanModel, TraceModel } from './trace-model.js';

/** A service-map edge: `callCount` spans of `child` were called from `parent`, `errorCount` of them in error. */
export interface DependencyEdge {
  readonly parent: string;
  readonly child: string;
  readonly callCount: number;
  readonly errorCount: number;
}

/** A callee that is not instrumented shows only in its caller's CLIENT or PRODUCER span, named by this attribute. */
const PEER_SERVICE = 'peer.service';

/**
 * The service map of some traces. A span whose parent belongs to another service is a call from the parent's
 * service to the span's (Jaeger's rule), in error when the span is. A CLIENT or PRODUCER span with no child in
 * another service is a call to its `peer.service`, when it names one: the callee sent no spans (a database, a
 * third-party API), as the OpenTelemetry service-graph connector draws it. A trace given twice counts once.
 */
export function dependenciesFromTraces(traces: readonly TraceModel[]): DependencyEdge[] {
  const edges = new Map<string, { parent: string; child: string; callCount: number; errorCount: number }>();
  const count = (parent: string, child: string, failed: boolean) => {
    const key = JSON.stringify([parent, child]);
    const edge = edges.get(key) ?? { parent, child, callCount: 0, errorCount: 0 };
    edge.callCount++;
    if (failed) edge.errorCount++;
    edges.set(key, edge);
  };

  const seen = new Set<string>();
  for (const trace of traces) {
    if (seen.has(trace.traceId)) continue;
    seen.add(trace.traceId);
    const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
    const callsOut = new Set<string>();
    for (const span of trace.spans) {
      const parent = span.parentSpanId === null ? undefined : byId.get(span.parentSpanId);
      if (parent === undefined || parent.service === span.service) continue;
      count(parent.service, span.service, span.status.code === 'ERROR');
      callsOut.add(parent.spanId);
    }
    for (const span of trace.spans) {
      const peer = peerService(span);
      if (peer !== undefined && !callsOut.has(span.spanId)) count(span.service, peer, span.status.code === 'ERROR');
    }
  }
  return sortEdges([...edges.values()]);
}

function peerService(span: SpanModel): string | undefined {
  if (span.kind !== 'CLIENT' && span.kind !== 'PRODUCER') return undefined;
  const peer = span.tags.find((t) => t.key === PEER_SERVICE && t.type === 'STRING')?.value;
  return peer === undefined || peer === '' || peer === span.service ? undefined : peer;
}

/**
 * Jaeger's service map together with the one computed from traces. Both count the same calls over different
 * samples (badger's answer covers only the newest 100 traces of its window), so an edge takes the larger
 * count; errors only the traces can tell.
 */
export function mergeDependencies(
  fromJaeger: readonly JaegerDependencyLink[],
  fromTraces: readonly DependencyEdge[],
): DependencyEdge[] {
  const edges = new Map(fromTraces.map((e) => [JSON.stringify([e.parent, e.child]), e]));
  for (const link of fromJaeger) {
    const key = JSON.stringify([link.parent, link.child]);
    const edge = edges.get(key);
    edges.set(key, {
      parent: link.parent,
      child: link.child,
      callCount: Math.max(link.callCount, edge?.callCount ?? 0),
      errorCount: edge?.errorCount ?? 0,
    });
  }
  return sortEdges([...edges.values()]);
}

/** The edges that start or end at a service (`Service.dependencies`). */
export function dependenciesOf(edges: readonly DependencyEdge[], service: string): DependencyEdge[] {
  return edges.filter((e) => e.parent === service || e.child === service);
}

function sortEdges(edges: DependencyEdge[]): DependencyEdge[] {
  return edges.sort((a, b) => a.parent.localeCompare(b.parent) || a.child.localeCompare(b.child));
}
