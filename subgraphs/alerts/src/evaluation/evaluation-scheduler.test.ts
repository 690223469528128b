import { describe, expect, it } from 'vitest';
import { phaseOf, scheduledTime } from './evaluation-scheduler.js';

describe('the time a scheduled evaluation is of', () => {
  it('is the due time BullMQ puts in each iteration of a job scheduler, not when a worker got to it', () => {
    expect(
      scheduledTime({ id: 'repeat:6f1c1c7e-0000-4000-8000-000000000001:1795341600000', timestamp: 1795341600123 }),
    ).toBe(1795341600000);
  });

  it('falls back to when the job was made for a job of another shape', () => {
    expect(scheduledTime({ id: 'manual', timestamp: 1795341600123 })).toBe(1795341600123);
  });
});

describe('the phase of a rule within its interval', () => {
  it('is the same for a rule wherever it is computed, and spreads rules over the interval', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `6f1c1c7e-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const phases = ids.map((id) => phaseOf(id, 60_000));

    expect(phases.map((p, i) => phaseOf(ids[i]!, 60_000) === p).every(Boolean)).toBe(true);
    expect(phases.every((p) => p >= 0 && p < 60_000)).toBe(true);
    // Each 6-second tenth of the minute gets about a tenth of the rules.
    const tenths = Array.from({ length: 10 }, (_, t) => phases.filter((p) => Math.floor(p / 6000) === t).length);
    expect(Math.min(...tenths)).toBeGreaterThan(60);
    expect(Math.max(...tenths)).toBeLessThan(140);
  });
});
