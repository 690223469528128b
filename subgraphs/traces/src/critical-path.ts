import type { SpanKind } from './trace-model.js';

/**
 * The critical path of a trace as Jaeger's UI computes it (jaeger-ui packages/jaeger-ui/src/components/TracePage/
 * CriticalPath): starting at the end of a root span, follow the child that finished last; when a span has no
 * child left that finished before the current point, its own time back to its start is on the path, and the
 * walk returns to its parent at that start. Before the walk, children are cut to their parent's time range
 * (clock skew, or work that outlived the caller) and children wholly outside it are dropped; a CONSUMER under a
 * PRODUCER does not block its producer and is left out with its subtree.
 *
 * One difference: Jaeger's UI drops a span whose parent is missing from the trace together with its subtree;
 * here it is a root of its own, so an incomplete trace still has a path.
 */

export interface CriticalPathSpan {
  readonly spanId: string;
  readonly parentSpanId: string | null;
  readonly kind: SpanKind;
  readonly startTime: bigint;
  readonly endTime: bigint;
}

/** A stretch of time on the critical path spent in the span itself (none of its children was running on the path). */
export interface CriticalPathSection {
  readonly spanId: string;
  readonly startTime: bigint;
  readonly endTime: bigint;
  readonly selfTimeMs: number;
}

interface PathSpan {
  readonly spanId: string;
  readonly parentSpanId: string | null;
  startTime: bigint;
  endTime: bigint;
  children: string[];
}

/** The sections in time order, root by root (roots by start time). */
export function criticalPath(spans: readonly CriticalPathSpan[]): CriticalPathSection[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const children = new Map<string, CriticalPathSpan[]>();
  const roots: CriticalPathSpan[] = [];
  for (const span of spans) {
    const parent = span.parentSpanId === null ? undefined : byId.get(span.parentSpanId);
    if (parent === undefined || parent === span) roots.push(span);
    else children.set(parent.spanId, [...(children.get(parent.spanId) ?? []), span]);
  }
  const byStart = (a: CriticalPathSpan, b: CriticalPathSpan) =>
    a.startTime < b.startTime ? -1 : a.startTime > b.startTime ? 1 : 0;
  for (const list of children.values()) list.sort(byStart);

  return roots.sort(byStart).flatMap((root) => {
    const tree = sanitize(blockingTree(root, children), root.spanId);
    return walk(tree, root.spanId).reverse();
  });
}

/** The root's subtree, parents before children, without CONSUMER spans under a PRODUCER and what hangs below them. */
function blockingTree(
  root: CriticalPathSpan,
  children: ReadonlyMap<string, CriticalPathSpan[]>,
): Map<string, PathSpan> {
  const tree = new Map<string, PathSpan>();
  const stack: CriticalPathSpan[] = [root];
  while (stack.length > 0) {
    const span = stack.pop()!;
    const blocking = (children.get(span.spanId) ?? []).filter(
      (c) => !(span.kind === 'PRODUCER' && c.kind === 'CONSUMER'),
    );
    const { spanId, parentSpanId, startTime, endTime } = span;
    tree.set(spanId, { spanId, parentSpanId, startTime, endTime, children: blocking.map((c) => c.spanId) });
    // Reversed so that children are visited in start order (the stack pops the last one first).
    stack.push(...[...blocking].reverse());
  }
  return tree;
}

/** Cuts each child to its parent's (already cut) time range, dropping children wholly outside it. */
function sanitize(tree: Map<string, PathSpan>, rootId: string): Map<string, PathSpan> {
  for (const span of [...tree.values()]) {
    if (span.spanId === rootId || span.parentSpanId === null) continue;
    const parent = tree.get(span.parentSpanId);
    if (parent === undefined) {
      tree.delete(span.spanId);
      continue;
    }
    // The cases of Jaeger's sanitizeOverFlowingChildren, in its order.
    const outside =
      span.startTime >= parent.startTime ? span.startTime >= parent.endTime : span.endTime <= parent.startTime;
    if (outside) {
      tree.delete(span.spanId);
      parent.children = parent.children.filter((id) => id !== span.spanId);
      continue;
    }
    if (span.startTime < parent.startTime) span.startTime = parent.startTime;
    if (span.endTime > parent.endTime) span.endTime = parent.endTime;
  }
  return tree;
}

/** The sections from the end of the root backwards, as Jaeger's UI produces them. */
function walk(tree: ReadonlyMap<string, PathSpan>, rootId: string): CriticalPathSection[] {
  const sections: CriticalPathSection[] = [];
  const add = (spanId: string, startTime: bigint, endTime: bigint) => {
    if (startTime !== endTime)
      sections.push({ spanId, startTime, endTime, selfTimeMs: Number(endTime - startTime) / 1e6 });
  };
  let current = tree.get(rootId);
  // Set while returning from a child: the point in time before which the parent's next child must have ended.
  let before: bigint | undefined;
  while (current !== undefined) {
    const end = before ?? current.endTime;
    const last = lastFinishingChild(tree, current, before);
    if (last !== undefined) {
      add(current.spanId, last.endTime, end);
      current = last;
      before = undefined;
    } else {
      add(current.spanId, current.startTime, end);
      if (current.spanId === rootId || current.parentSpanId === null) break;
      before = current.startTime;
      current = tree.get(current.parentSpanId);
    }
  }
  return sections;
}

/** The child that finished last, or last before `before`; the earlier-starting one of a tie. */
function lastFinishingChild(
  tree: ReadonlyMap<string, PathSpan>,
  span: PathSpan,
  before: bigint | undefined,
): PathSpan | undefined {
  let last: PathSpan | undefined;
  for (const id of span.children) {
    const child = tree.get(id);
    if (child === undefined || (before !== undefined && child.endTime >= before)) continue;
    if (last === undefined || child.endTime > last.endTime) last = child;
  }
  return last;
}
