import { describe, expect, it } from 'vitest';
import { type CriticalPathSpan, criticalPath } from './critical-path.js';
import type { SpanKind } from './trace-model.js';

const T0 = 1_795_000_000_000n * 1_000_000n;
/** ms after T0, in ns since the epoch. */
const at = (ms: number) => T0 + BigInt(ms) * 1_000_000n;

function makePathSpan(
  spanId: string,
  parentSpanId: string | null,
  startMs: number,
  endMs: number,
  kind: SpanKind = 'INTERNAL',
): CriticalPathSpan {
  return { spanId, parentSpanId, kind, startTime: at(startMs), endTime: at(endMs) };
}

const section = (spanId: string, fromMs: number, toMs: number) => ({
  spanId,
  startTime: at(fromMs),
  endTime: at(toMs),
  selfTimeMs: toMs - fromMs,
});

describe('critical path', () => {
  it('is the whole of a single span', () => {
    expect(criticalPath([makePathSpan('root', null, 0, 100)])).toEqual([section('root', 0, 100)]);
  });

  it('runs through sequential children and the parent between them', () => {
    const spans = [
      makePathSpan('root', null, 0, 100),
      makePathSpan('a', 'root', 10, 40),
      makePathSpan('b', 'root', 50, 90),
    ];
    expect(criticalPath(spans)).toEqual([
      section('root', 0, 10),
      section('a', 10, 40),
      section('root', 40, 50),
      section('b', 50, 90),
      section('root', 90, 100),
    ]);
  });

  it('follows the child that ends last when children overlap', () => {
    const longest = [
      makePathSpan('root', null, 0, 100),
      makePathSpan('a', 'root', 10, 80),
      makePathSpan('b', 'root', 20, 60),
    ];
    expect(criticalPath(longest)).toEqual([section('root', 0, 10), section('a', 10, 80), section('root', 80, 100)]);

    // The child that ends last wins even when it started later; the other one did not end before it started.
    const latest = [
      makePathSpan('root', null, 0, 100),
      makePathSpan('a', 'root', 10, 50),
      makePathSpan('b', 'root', 20, 70),
    ];
    expect(criticalPath(latest)).toEqual([section('root', 0, 20), section('b', 20, 70), section('root', 70, 100)]);
  });

  it('cuts a child that outlives its parent at the parent’s end, and drops what the cut leaves outside', () => {
    const spans = [
      makePathSpan('root', null, 0, 100),
      makePathSpan('a', 'root', 50, 150),
      makePathSpan('late', 'a', 120, 140),
      makePathSpan('after', 'root', 100, 130),
    ];
    expect(criticalPath(spans)).toEqual([section('root', 0, 50), section('a', 50, 100)]);
  });

  it('cuts a child that starts before its parent (clock skew) at the parent’s start', () => {
    const spans = [
      makePathSpan('root', null, 0, 100),
      makePathSpan('skewed', 'root', -20, 30),
      makePathSpan('before', 'root', -50, -10),
      makePathSpan('b', 'root', 40, 90),
    ];
    expect(criticalPath(spans)).toEqual([
      section('skewed', 0, 30),
      section('root', 30, 40),
      section('b', 40, 90),
      section('root', 90, 100),
    ]);
  });

  it('descends through nested children and climbs back through their parents', () => {
    const spans = [
      makePathSpan('root', null, 0, 100),
      makePathSpan('a', 'root', 10, 90),
      makePathSpan('a1', 'a', 20, 80),
      makePathSpan('a1a', 'a1', 30, 60),
    ];
    expect(criticalPath(spans)).toEqual([
      section('root', 0, 10),
      section('a', 10, 20),
      section('a1', 20, 30),
      section('a1a', 30, 60),
      section('a1', 60, 80),
      section('a', 80, 90),
      section('root', 90, 100),
    ]);
  });

  it('leaves out a consumer, which does not hold up its producer', () => {
    const spans = [makePathSpan('send', null, 0, 10, 'PRODUCER'), makePathSpan('receive', 'send', 5, 100, 'CONSUMER')];
    expect(criticalPath(spans)).toEqual([section('send', 0, 10)]);
  });

  it('treats a span whose parent is missing as a root, roots in start order', () => {
    const spans = [
      makePathSpan('orphan', 'gone', 200, 250),
      makePathSpan('root', null, 0, 100),
      makePathSpan('child', 'orphan', 210, 240),
    ];
    expect(criticalPath(spans)).toEqual([
      section('root', 0, 100),
      section('orphan', 200, 210),
      section('child', 210, 240),
      section('orphan', 240, 250),
    ]);
  });
});
