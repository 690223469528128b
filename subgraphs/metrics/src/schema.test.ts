import { describe, expect, it } from 'vitest';
import { boundLabelValues } from './schema.js';

describe('metricLabels answer budget', () => {
  it('lists no more values once the bytes are spent, and marks the keys that lost some', () => {
    const rows = [
      { key: 'a', values: ['1234', '5678'], cut: false },
      { key: 'b', values: ['90', 'ab'], cut: false },
      { key: 'c', values: ['cd'], cut: false },
    ];
    expect(boundLabelValues(rows, 10, 10)).toEqual([
      { key: 'a', values: ['1234', '5678'], truncated: false },
      { key: 'b', values: ['90'], truncated: true },
      { key: 'c', values: [], truncated: true },
    ]);
  });

  it('keeps at most the values asked for, and marks a key whose values were cut', () => {
    expect(
      boundLabelValues(
        [
          { key: 'a', values: ['1', '2', '3'], cut: false },
          { key: 'b', values: ['x'], cut: true },
        ],
        2,
        1000,
      ),
    ).toEqual([
      { key: 'a', values: ['1', '2'], truncated: true },
      { key: 'b', values: ['x'], truncated: true },
    ]);
  });
});
