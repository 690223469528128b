import { describe, expect, it } from 'vitest';
import { AnswerBudget } from './answers.js';
import { attribute, makeExport, makeSpan, randomTraceId } from './otlp-builders.fixtures.js';
import { type TraceModel, tracesFromOtlp } from './trace-model.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const KIB = 1024;

/** A root and `children` spans under it, each with `attributes` attributes of 1 KiB and one event of as many fields. */
function bigTrace(children: number, attributes: number): TraceModel {
  const traceId = randomTraceId();
  const attrs = (prefix: string) =>
    Array.from({ length: attributes }, (_, i) =>
      attribute(`${prefix}${i}`, { case: 'stringValue', value: 'v'.repeat(KIB) }),
    );
  const root = makeSpan({
    traceId,
    name: 'root',
    startMs: T0,
    endMs: T0 + 100,
    attributes: attrs('a'),
    status: { code: 2 },
  });
  const spans = Array.from({ length: children }, (_, i) =>
    makeSpan({
      traceId,
      parentSpanId: root.spanId,
      name: `child ${i}`,
      startMs: T0 + 1 + i,
      endMs: T0 + 2 + i,
      attributes: attrs('a'),
      status: { code: 2 },
      events: [{ timeMs: T0 + 1 + i, name: 'e', attributes: attrs('f') }],
    }),
  );
  return tracesFromOtlp(makeExport({ service: 'checkout', spans: [root, ...spans] }))[0]!;
}

describe('answer budget', () => {
  it('answers a trace within its budget whole and unmarked', () => {
    const trace = bigTrace(3, 4);
    const answered = new AnswerBudget(16 * KIB).trace(trace);
    expect(answered.truncated).toBe(false);
    expect(answered.spans.map((s) => [s.operationName, s.tags.length, s.logs.length, s.truncated])).toEqual([
      ['root', 4, 0, false],
      ['child 0', 4, 1, false],
      ['child 1', 4, 1, false],
      ['child 2', 4, 1, false],
    ]);
  });

  it('cuts the span where the budget runs out, leaves later spans out and keeps the counts of every span', () => {
    const trace = bigTrace(99, 16);
    // The root and one child (16 tags and 16 fields) fit whole, with some room left for the next child's tags.
    const answered = new AnswerBudget(16 * KIB, 60 * KIB).trace(trace);
    expect(answered.truncated).toBe(true);
    expect(answered.spanCount).toBe(100);
    expect(answered.errorCount).toBe(100);
    expect(answered.spans.map((s) => s.truncated)).toEqual([false, false, true]);
    const cut = answered.spans[2]!;
    expect(cut.tags.length).toBeGreaterThan(0);
    expect(cut.tags.length).toBeLessThan(16);
    expect(cut.logs).toEqual([]);
    // Its parent stays, so the tree can be drawn.
    expect(cut.references.map((r) => [r.refType, r.spanId])).toEqual([['CHILD_OF', trace.rootSpan.spanId]]);
    expect(answered.rootSpan).toBe(answered.spans[0]);
  });

  it('shares one budget over the traces of a list, answering each trace’s root without its tags when none are left', () => {
    const budget = new AnswerBudget(16 * KIB, 24 * KIB);
    const [first, second, third] = [
      budget.trace(bigTrace(0, 16)),
      budget.trace(bigTrace(0, 16)),
      budget.trace(bigTrace(0, 16)),
    ];
    expect([first.truncated, first.spans.length]).toEqual([false, 1]);
    expect([second.truncated, second.spans.length, second.rootSpan.truncated]).toEqual([true, 1, true]);
    expect(second.rootSpan.tags.length).toBeLessThan(16);
    expect([third.truncated, third.spans.length, third.spanCount]).toEqual([true, 0, 1]);
    expect(third.rootSpan).toMatchObject({ operationName: 'root', tags: [], truncated: true });
  });

  it('counts a value only as long as it is answered (cut at the value limit)', () => {
    const trace = bigTrace(0, 16);
    expect(new AnswerBudget(16, 2 * KIB).trace(trace).truncated).toBe(false);
    expect(new AnswerBudget(KIB, 2 * KIB).trace(trace).truncated).toBe(true);
  });
});
