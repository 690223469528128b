import type { ConsulApi, ServiceInstance } from '@heimdall/shared/discovery';
import type { Logger } from '@heimdall/shared/telemetry';

/** How long each Consul blocking query may wait before it is asked again. */
const BLOCKING_WAIT = '30s';
/** Pause before asking Consul again after a failed watch, so an unreachable agent is not hammered. */
const RETRY_DELAY_MS = 1000;
/** How long to gather changes into one notification. */
const NOTIFY_DELAY_MS = 50;

/**
 * Resolves after `ms`, or at once when `signal` aborts. The global setTimeout, not timers/promises', so that
 * fake timers drive it, and abortable, so that a stopped directory leaves no timer behind.
 */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * The subgraphs Consul knows (services tagged `tag`) and their passing instances, kept current with blocking
 * queries: a change reaches `onChange` within Consul's notification time, not on a polling period.
 */
export class SubgraphDirectory {
  private readonly instances = new Map<string, readonly ServiceInstance[]>();
  private readonly watchers = new Map<string, AbortController>();
  private readonly abort = new AbortController();
  private readonly cursor = new Map<string, number>();
  private listener: (() => void) | undefined;
  private notifyTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly consul: ConsulApi,
    private readonly tag: string,
    private readonly logger: Logger,
  ) {}

  /** Subgraph names with at least one passing instance, sorted. */
  available(): string[] {
    return [...this.instances]
      .filter(([, list]) => list.length > 0)
      .map(([name]) => name)
      .sort();
  }

  passing(name: string): readonly ServiceInstance[] {
    return this.instances.get(name) ?? [];
  }

  /** Round robin over the passing instances of a subgraph. */
  pick(name: string): ServiceInstance | undefined {
    const list = this.passing(name);
    if (list.length === 0) return undefined;
    const next = (this.cursor.get(name) ?? 0) % list.length;
    this.cursor.set(name, next + 1);
    return list[next];
  }

  onChange(listener: () => void): void {
    this.listener = listener;
  }

  /** Loads the current state once (so the first supergraph has what is up), then keeps watching. */
  async start(): Promise<void> {
    const { services, index } = await this.consul.services();
    await Promise.all(this.subgraphNames(services).map((name) => this.loadInstances(name)));
    for (const name of this.subgraphNames(services)) this.watchInstances(name);
    void this.watchCatalog(index);
  }

  stop(): void {
    this.abort.abort();
    for (const controller of this.watchers.values()) controller.abort();
    clearTimeout(this.notifyTimer);
  }

  private subgraphNames(services: Readonly<Record<string, readonly string[]>>): string[] {
    return Object.entries(services)
      .filter(([, tags]) => tags.includes(this.tag))
      .map(([name]) => name);
  }

  private async loadInstances(name: string): Promise<string> {
    const { instances, index } = await this.consul.passing(name, undefined, this.tag);
    this.instances.set(name, instances);
    return index;
  }

  private async watchCatalog(startIndex: string): Promise<void> {
    let index = startIndex;
    while (!this.abort.signal.aborted) {
      try {
        const result = await this.consul.services({ index, wait: BLOCKING_WAIT, signal: this.abort.signal });
        // Consul may hand back a smaller index (e.g. after a restart); start over from 0 then.
        index = Number(result.index) < Number(index) ? '0' : result.index;
        const names = new Set(this.subgraphNames(result.services));
        for (const name of names) if (!this.watchers.has(name)) this.watchInstances(name);
        for (const [name, controller] of this.watchers) {
          if (names.has(name)) continue;
          controller.abort();
          this.watchers.delete(name);
          this.instances.delete(name);
          this.notify();
        }
      } catch (error) {
        if (this.abort.signal.aborted) return;
        this.logger.warn({ err: error }, 'Consul catalog watch failed; retrying');
        await delay(RETRY_DELAY_MS, this.abort.signal);
      }
    }
  }

  private watchInstances(name: string): void {
    const controller = new AbortController();
    this.watchers.set(name, controller);
    void (async () => {
      let index = '0';
      while (!controller.signal.aborted) {
        try {
          const result = await this.consul.passing(
            name,
            { index, wait: BLOCKING_WAIT, signal: controller.signal },
            this.tag,
          );
          index = Number(result.index) < Number(index) ? '0' : result.index;
          const before = (this.instances.get(name) ?? []).map((i) => i.id).join(',');
          this.instances.set(name, result.instances);
          if (result.instances.map((i) => i.id).join(',') !== before) this.notify();
        } catch (error) {
          if (controller.signal.aborted) return;
          this.logger.warn({ err: error, subgraph: name }, 'Consul health watch failed; retrying');
          await delay(RETRY_DELAY_MS, controller.signal);
        }
      }
    })();
  }

  /** Several watches often fire together (a restart touches catalog and health): one notification for all. */
  private notify(): void {
    clearTimeout(this.notifyTimer);
    this.notifyTimer = setTimeout(() => this.listener?.(), NOTIFY_DELAY_MS);
  }
}
