/**
 * A pass run on demand, one at a time: asking while a pass is under way makes it run once more after it, not once
 * per ask, so a burst of asks costs at most one extra pass.
 */
export class CoalescedRun {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly pass: () => Promise<void>) {}

  /** Whether `stop` was called: a pass that loops checks it between batches. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Runs the pass now, or once more after the one under way. */
  kick(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.pass().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** No pass starts from now on; resolves once the one under way has ended. */
  stop(): Promise<void> {
    this.stopped = true;
    return this.running ?? Promise.resolve();
  }
}
