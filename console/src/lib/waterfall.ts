/**
 * A trace as waterfall rows: each span under its parent (children by start time), its bar placed on the trace's
 * time axis as fractions of the whole. A span whose parent is not in the trace (a dropped or late span) is shown
 * as a root, as Jaeger does, rather than lost. Cycles in bad data cannot loop: each span is placed once.
 */

export interface WaterfallSpan {
  readonly spanId: string;
  readonly parentSpanId: string | null;
  readonly startMs: number;
  readonly durationMs: number;
}

export interface WaterfallRow<S extends WaterfallSpan> {
  readonly span: S;
  readonly depth: number;
  /** Where the bar starts and how wide it is, as fractions of the trace's duration. */
  readonly offset: number;
  readonly width: number;
  readonly childCount: number;
}

export function waterfallRows<S extends WaterfallSpan>(spans: readonly S[]): WaterfallRow<S>[] {
  if (spans.length === 0) return [];
  const start = Math.min(...spans.map((s) => s.startMs));
  const end = Math.max(...spans.map((s) => s.startMs + s.durationMs));
  const total = Math.max(end - start, 1e-6);
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string | null, S[]>();
  for (const span of spans) {
    const parent =
      span.parentSpanId !== null && ids.has(span.parentSpanId) && span.parentSpanId !== span.spanId
        ? span.parentSpanId
        : null;
    const list = children.get(parent);
    if (list === undefined) children.set(parent, [span]);
    else list.push(span);
  }
  for (const list of children.values()) list.sort((a, b) => a.startMs - b.startMs || a.spanId.localeCompare(b.spanId));
  const rows: WaterfallRow<S>[] = [];
  const placed = new Set<string>();
  // Depth-first without recursion: a 2,000-span chain must not exhaust the stack.
  const stack: { span: S; depth: number }[] = [...(children.get(null) ?? [])]
    .reverse()
    .map((span) => ({ span, depth: 0 }));
  while (stack.length > 0) {
    const { span, depth } = stack.pop()!;
    if (placed.has(span.spanId)) continue;
    placed.add(span.spanId);
    const own = children.get(span.spanId) ?? [];
    rows.push({
      span,
      depth,
      offset: (span.startMs - start) / total,
      width: Math.max(span.durationMs / total, 0),
      childCount: own.length,
    });
    for (let i = own.length - 1; i >= 0; i--) stack.push({ span: own[i]!, depth: depth + 1 });
  }
  // Spans only reachable through a cycle: shown as roots.
  for (const span of spans) {
    if (!placed.has(span.spanId)) {
      placed.add(span.spanId);
      rows.push({
        span,
        depth: 0,
        offset: (span.startMs - start) / total,
        width: span.durationMs / total,
        childCount: 0,
      });
    }
  }
  return rows;
}

/** The rows a scrolled list must render: the visible ones and `overscan` on each side. */
export function visibleWindow(
  count: number,
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  overscan = 10,
) {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + viewportHeight) / rowHeight) + overscan);
  return { first, last, padTop: first * rowHeight, padBottom: (count - last) * rowHeight };
}

/** Tick marks for a duration axis: about `count` round values from 0 to `totalMs`. */
export function durationTicks(totalMs: number, count = 5): number[] {
  if (totalMs <= 0) return [0];
  const raw = totalMs / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = 0; t <= totalMs + 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

export function formatDurationMs(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)}µs`;
  if (ms < 1000) return `${Number(ms.toPrecision(3))}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toPrecision(3))}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

/** An instant with up to nine fraction digits (`…T10:00:00.123456789Z`) in ms, keeping the fraction below 1 ms. */
export function preciseMs(iso: string): number {
  const match = /\.(\d+)Z$/.exec(iso);
  if (match === null) return Date.parse(iso);
  const whole = Date.parse(iso.slice(0, match.index) + 'Z');
  return whole + Number(`0.${match[1]}`) * 1000;
}

export function traceDurationMs(spans: readonly WaterfallSpan[]): number {
  if (spans.length === 0) return 0;
  let start = Infinity;
  let end = -Infinity;
  for (const s of spans) {
    start = Math.min(start, s.startMs);
    end = Math.max(end, s.startMs + s.durationMs);
  }
  return end - start;
}
