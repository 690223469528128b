import { describe, expect, it } from 'vitest';
import { scheduledTime } from './scheduler.js';

describe('the time a scheduled evaluation is of', () => {
  it('is the due time BullMQ puts in each iteration of a job scheduler, not when a worker got to it', () => {
    expect(scheduledTime({ id: 'repeat:6f1c1c7e-0000-4000-8000-000000000001:1795341600000', timestamp: 1795341600123 })).toBe(1795341600000);
  });

  it('falls back to when the job was made for a job of another shape', () => {
    expect(scheduledTime({ id: 'manual', timestamp: 1795341600123 })).toBe(1795341600123);
  });
});
