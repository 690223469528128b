import { describe, expect, it } from 'vitest';
import { alignPacked, seriesName } from './packed.js';

function pack(start: number, step: number, values: number[]) {
  const bytes = new Uint8Array(new Float64Array(values).buffer);
  return { start, step, values: btoa(String.fromCharCode(...bytes)) };
}

describe('packed series as chart columns', () => {
  it('aligns series of different extents on one time axis, a gap where a step has no point', () => {
    expect(alignPacked([pack(60, 60, [1, NaN, 3]), pack(120, 60, [5, 6])])).toEqual([
      [60, 120, 180],
      [1, null, 3],
      [null, 5, 6],
    ]);
  });

  it('answers empty columns when no series has a point', () => {
    expect(alignPacked([pack(0, 60, [])])).toEqual([[], []]);
  });

  it('names a series by its labels', () => {
    expect(seriesName([{ key: 'service', value: 'checkout' }])).toBe('service=checkout');
    expect(seriesName([])).toBe('(all)');
  });
});
