import { describe, expect, it } from 'vitest';
import { uuidv7 } from './ids.js';

describe('uuidv7', () => {
  it('carries the millisecond time, version 7 and the RFC variant', () => {
    const id = uuidv7(Date.UTC(2026, 10, 22, 10), new Uint8Array(10).fill(0xff));
    expect(id).toBe('01a202b2-c500-7fff-bfff-ffffffffffff');
  });

  it('sorts by the time it was made, whatever its random part', () => {
    const earlier = uuidv7(1_000, new Uint8Array(10).fill(0xff));
    const later = uuidv7(1_001, new Uint8Array(10));
    expect([later, earlier].sort()).toEqual([earlier, later]);
  });

  it('differs between two ids made in the same millisecond', () => {
    expect(uuidv7(1_000)).not.toBe(uuidv7(1_000));
    expect(uuidv7(1_000)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
