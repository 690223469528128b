import type {
  BlockingQuery,
  CatalogServices,
  ConsulApi,
  PassingInstances,
  ServiceInstance,
  ServiceRegistration,
} from '@heimdall/shared/discovery';

export function makeInstance(overrides: Partial<ServiceInstance> & { name: string }): ServiceInstance {
  return {
    id: `${overrides.name}-1`,
    address: '127.0.0.1',
    port: 8001,
    tags: ['graphql-subgraph'],
    meta: { version: '1.0.0', graphql_path: '/graphql' },
    ...overrides,
  };
}

/**
 * An in-memory registry with Consul's blocking-query semantics: a query whose index is current waits until
 * something changes (or its signal aborts). One index for everything, as Consul's raft index may move for
 * changes a query does not see: callers must cope with answers that did not change.
 */
export class FakeConsul implements ConsulApi {
  /** Calls so far, by method: tests assert retries with them. */
  readonly calls = { services: 0, passing: 0 };
  private index = 1;
  private readonly instances = new Map<string, { instance: ServiceInstance; passing: boolean }>();
  private readonly failures: { services: Error[]; passing: Error[] } = { services: [], passing: [] };
  private waiters: (() => void)[] = [];

  register(registration: ServiceRegistration): Promise<void> {
    this.add(
      makeInstance({
        id: registration.id,
        name: registration.name,
        address: registration.address,
        port: registration.port,
        tags: registration.tags ?? [],
        meta: registration.meta ?? {},
      }),
    );
    return Promise.resolve();
  }

  deregister(id: string): Promise<void> {
    this.instances.delete(id);
    this.changed();
    return Promise.resolve();
  }

  /** Registers an instance whose check passes (or not). */
  add(instance: ServiceInstance, passing = true): void {
    this.instances.set(instance.id, { instance, passing });
    this.changed();
  }

  setPassing(id: string, passing: boolean): void {
    const entry = this.instances.get(id);
    if (entry === undefined) throw new Error(`no instance ${id}`);
    entry.passing = passing;
    this.changed();
  }

  /** The next call of `method` fails with `error` (queued: several calls fail in turn). */
  failNext(method: 'services' | 'passing', error: Error): void {
    this.failures[method].push(error);
  }

  /** Queries blocked right now, waiting for a change. */
  get blocked(): number {
    return this.waiters.length;
  }

  async passing(service: string, blocking?: BlockingQuery, tag?: string): Promise<PassingInstances> {
    this.calls.passing++;
    await this.block(blocking);
    const failure = this.failures.passing.shift();
    if (failure !== undefined) throw failure;
    const instances = [...this.instances.values()]
      .filter(
        ({ instance, passing }) =>
          passing && instance.name === service && (tag === undefined || instance.tags.includes(tag)),
      )
      .map(({ instance }) => instance);
    return { instances, index: String(this.index) };
  }

  async services(blocking?: BlockingQuery): Promise<CatalogServices> {
    this.calls.services++;
    await this.block(blocking);
    const failure = this.failures.services.shift();
    if (failure !== undefined) throw failure;
    const services: Record<string, string[]> = {};
    for (const { instance } of this.instances.values()) {
      services[instance.name] = [...new Set([...(services[instance.name] ?? []), ...instance.tags])];
    }
    return { services, index: String(this.index) };
  }

  private changed(): void {
    this.index++;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private block(blocking: BlockingQuery | undefined): Promise<void> {
    if (blocking === undefined || Number(blocking.index) < this.index) return Promise.resolve();
    const { signal } = blocking;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const wake = () => {
        signal?.removeEventListener('abort', abort);
        resolve();
      };
      const abort = () => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', abort, { once: true });
      this.waiters.push(wake);
    });
  }
}
