import { describe, expect, it } from 'vitest';
import { CoalescedRun } from './coalesced-run.js';

describe('a coalesced run', () => {
  it('runs once more after the pass under way however many times it was asked meanwhile, and not after stop', async () => {
    const passes: (() => void)[] = [];
    const run = new CoalescedRun(() => new Promise<void>((resolve) => passes.push(resolve)));
    run.kick();
    run.kick();
    run.kick();
    expect(passes).toHaveLength(1);
    passes[0]!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(passes).toHaveLength(2);
    const stopped = run.stop();
    run.kick();
    passes[1]!();
    await stopped;
    expect(passes).toHaveLength(2);
    expect(run.isStopped).toBe(true);
  });
});
