/**
 * Bounds on what a traces answer carries, so that no answer grows with what one agent sent: the spans of a list
 * (a trace's spans, every trace of a search, a critical path) share one budget of text, and what does not fit is
 * left out and marked (`Span.truncated`, `Trace.truncated`), while counts (`spanCount`, `errorCount`) stay true.
 */
import type { SpanModel, SpanReference, Tag, TraceModel } from './trace-model.js';

/**
 * Bytes of text one answer's spans carry: names, messages, tag keys and values (as answered, each value at most
 * the value limit), with a few bytes per item for what surrounds it. 8 MiB holds a trace of 10,000 spans of a
 * dozen short attributes each whole, and renders in a browser; Jaeger's UI does not draw much more.
 */
export const ANSWER_TEXT_BYTES = 8 * 1024 * 1024;
/** A span's ids, times, kind, status code and field names. */
const SPAN_BYTES = 256;
/** A tag's type and field names; an event's or a reference's ids and time. */
const ITEM_BYTES = 32;

export type AnsweredSpan = SpanModel & {
  /** Whether tags, events, references, resource or scope attributes of the span were left out to fit the answer. */
  readonly truncated: boolean;
};

export type AnsweredTrace = Omit<TraceModel, 'spans' | 'rootSpan'> & {
  readonly spans: readonly AnsweredSpan[];
  readonly rootSpan: AnsweredSpan;
  /** Whether spans were left out of `spans`, or some of them cut, to fit the answer. */
  readonly truncated: boolean;
};

const textBytes = (text: string) => Buffer.byteLength(text);

/**
 * What is left of one answer's budget. Spans are taken in order, each with its texts in the order tags, resource,
 * scope attributes, references, events; the first item that does not fit ends the budget, so an answer is a
 * prefix of what it would be without one and every later span is left out (or, where a span must be answered, is
 * answered without its tags and events).
 */
export class AnswerBudget {
  private left: number;

  constructor(
    /** Longest tag value answered (Tag.value is cut there), so that a longer stored value costs only that much. */
    private readonly maxValueBytes: number,
    bytes: number = ANSWER_TEXT_BYTES,
  ) {
    this.left = bytes;
  }

  /** The span with what fits of it; undefined when not even its names fit. */
  span(span: SpanModel): AnsweredSpan | undefined {
    const own =
      SPAN_BYTES +
      textBytes(span.operationName) +
      textBytes(span.service) +
      textBytes(span.status.message) +
      textBytes(span.traceState) +
      textBytes(span.scope.name) +
      textBytes(span.scope.version) +
      span.warnings.reduce((sum, warning) => sum + ITEM_BYTES + textBytes(warning), 0);
    if (!this.take(own)) return undefined;
    let cut = false;
    const fit = <T>(items: readonly T[], bytes: (item: T) => number): T[] => {
      const kept: T[] = [];
      for (const item of items) {
        if (cut || !this.take(bytes(item))) {
          cut = true;
          break;
        }
        kept.push(item);
      }
      return kept;
    };
    const tags = fit(span.tags, this.tagBytes);
    const resource = fit(span.resource, this.tagBytes);
    const scopeAttributes = fit(span.scope.attributes, this.tagBytes);
    const references = fit(span.references, (r) => ITEM_BYTES + this.tagsBytes(r.tags));
    const logs = fit(span.logs, (l) => ITEM_BYTES + textBytes(l.name) + this.tagsBytes(l.fields));
    if (!cut) return { ...span, truncated: false };
    return {
      ...span,
      tags,
      resource,
      scope: { ...span.scope, attributes: scopeAttributes },
      references: withParent(span, references),
      logs,
      truncated: true,
    };
  }

  /** The trace with the spans that fit, in order; its root span without its tags and events when it did not fit. */
  trace(trace: TraceModel): AnsweredTrace {
    const spans: AnsweredSpan[] = [];
    for (const span of trace.spans) {
      const answered = this.span(span);
      if (answered === undefined) break;
      spans.push(answered);
    }
    const rootSpan = spans.find((s) => s.spanId === trace.rootSpan.spanId) ?? skeleton(trace.rootSpan);
    return {
      ...trace,
      spans,
      rootSpan,
      truncated: spans.length < trace.spans.length || spans.some((s) => s.truncated),
    };
  }

  /** The span with what fits, or without its tags and events when nothing does, for a field that must answer one. */
  spanOrSkeleton(span: SpanModel): AnsweredSpan {
    return this.span(span) ?? skeleton(span);
  }

  private take(bytes: number): boolean {
    if (bytes > this.left) {
      this.left = 0;
      return false;
    }
    this.left -= bytes;
    return true;
  }

  private readonly tagBytes = (tag: Tag): number =>
    ITEM_BYTES + textBytes(tag.key) + Math.min(textBytes(tag.value), this.maxValueBytes);

  private tagsBytes(tags: readonly Tag[]): number {
    return tags.reduce((sum, tag) => sum + this.tagBytes(tag), 0);
  }
}

/** A span without its texts: ids, names, times, kind, status and its parent. */
function skeleton(span: SpanModel): AnsweredSpan {
  return {
    ...span,
    tags: [],
    resource: [],
    scope: { ...span.scope, attributes: [] },
    references: withParent(span, []),
    logs: [],
    warnings: [],
    truncated: true,
  };
}

/** The references kept, with the parent's first (without its tags if they did not fit): the tree must stay whole. */
function withParent(span: SpanModel, kept: readonly SpanReference[]): SpanReference[] {
  const parent = span.references.find((r) => r.refType === 'CHILD_OF' && r.spanId === span.parentSpanId);
  if (parent === undefined || kept.includes(parent)) return [...kept];
  return [{ ...parent, tags: [] }, ...kept];
}
