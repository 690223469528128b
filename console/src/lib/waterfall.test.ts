import { describe, expect, it } from 'vitest';
import { durationTicks, preciseMs, visibleWindow, waterfallRows } from './waterfall.js';

const span = (spanId: string, parentSpanId: string | null, startMs: number, durationMs: number) => ({
  spanId,
  parentSpanId,
  startMs,
  durationMs,
});

describe('waterfall rows', () => {
  it('puts each span under its parent, children by start time, bars as fractions of the trace', () => {
    const rows = waterfallRows([
      span('c', 'a', 50, 50),
      span('a', null, 0, 100),
      span('b', 'a', 10, 20),
      span('d', 'b', 15, 5),
    ]);
    expect(rows.map((r) => [r.span.spanId, r.depth])).toEqual([
      ['a', 0],
      ['b', 1],
      ['d', 2],
      ['c', 1],
    ]);
    expect(rows[3]).toMatchObject({ offset: 0.5, width: 0.5 });
    expect(rows[0]?.childCount).toBe(2);
  });

  it('shows a span whose parent is missing as a root, and survives cycles and self-parents', () => {
    const rows = waterfallRows([
      span('a', null, 0, 10),
      span('orphan', 'gone', 5, 1),
      span('x', 'y', 1, 1),
      span('y', 'x', 2, 1),
      span('s', 's', 3, 1),
    ]);
    expect(rows.map((r) => r.span.spanId).sort()).toEqual(['a', 'orphan', 's', 'x', 'y']);
    expect(rows.find((r) => r.span.spanId === 'orphan')?.depth).toBe(0);
  });

  it('lays out a 2,000-span chain without recursion', () => {
    const chain = Array.from({ length: 2_000 }, (_, i) => span(`s${i}`, i === 0 ? null : `s${i - 1}`, i, 2_000 - i));
    const rows = waterfallRows(chain);
    expect(rows).toHaveLength(2_000);
    expect(rows.at(-1)?.depth).toBe(1_999);
  });

  it('renders only the visible rows of a long list, padding for the rest', () => {
    expect(visibleWindow(2_000, 2_400, 600, 24, 5)).toEqual({ first: 95, last: 130, padTop: 2_280, padBottom: 44_880 });
  });

  it('keeps the sub-millisecond fractions of span start times (to the microsecond)', () => {
    expect(preciseMs('2026-12-07T10:00:00.123456789Z') - Date.UTC(2026, 11, 7, 10)).toBeCloseTo(123.457, 3);
  });

  it('ticks a duration axis at round values', () => {
    expect(durationTicks(1_000)).toEqual([0, 200, 400, 600, 800, 1_000]);
  });
});
