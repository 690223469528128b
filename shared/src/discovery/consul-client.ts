/** One Consul client wrapper for the whole project: registration and discovery over Consul's HTTP API. */

export interface ServiceRegistration {
  readonly name: string;
  /** Unique per instance: several instances of one service register side by side. */
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly tags?: readonly string[];
  readonly meta?: Readonly<Record<string, string>>;
  readonly check: HealthCheck;
}

export interface HealthCheck {
  /** URL Consul polls; any 2xx is passing. */
  readonly http: string;
  /** Go duration, e.g. "30s". */
  readonly interval: string;
  readonly timeout: string;
  /** Consul enforces a floor of one minute. */
  readonly deregisterCriticalServiceAfter: string;
  /** Status until the first check runs (Consul's default is critical). */
  readonly initialStatus?: 'passing' | 'warning' | 'critical';
}

export interface ServiceInstance {
  readonly id: string;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
}

export interface PassingInstances {
  readonly instances: readonly ServiceInstance[];
  /** Pass back as `index` to block until the set changes. */
  readonly index: string;
}

interface HealthEntry {
  Service: {
    ID: string;
    Service: string;
    Address: string;
    Port: number;
    Tags: string[] | null;
    Meta: Record<string, string> | null;
  };
  Node: { Address: string };
}

export class ConsulError extends Error {
  override readonly name = 'ConsulError';
}

/** A blocking query: Consul answers when the result changes past `index`, or after `wait` (e.g. "30s"). */
export interface BlockingQuery {
  readonly index: string;
  readonly wait: string;
  readonly signal?: AbortSignal;
}

/** The service catalog: every service name with its tags, and the index to block on. */
export interface CatalogServices {
  readonly services: Readonly<Record<string, readonly string[]>>;
  readonly index: string;
}

/**
 * What services and the gateway need of Consul. `ConsulClient` talks to a Consul agent over HTTP; depending on
 * this interface lets a unit test hand in a fake registry (integration tests use the real one).
 */
export interface ConsulApi {
  register(registration: ServiceRegistration): Promise<void>;
  /** Idempotent: an instance already gone is not an error. */
  deregister(id: string): Promise<void>;
  /** Instances of `service` whose checks all pass, optionally only those tagged `tag`. */
  passing(service: string, blocking?: BlockingQuery, tag?: string): Promise<PassingInstances>;
  services(blocking?: BlockingQuery): Promise<CatalogServices>;
}

export class ConsulClient implements ConsulApi {
  constructor(
    private readonly baseUrl: string,
    private readonly options: { readonly requestTimeoutMs?: number; readonly deregisterTimeoutMs?: number } = {},
  ) {}

  async register(registration: ServiceRegistration): Promise<void> {
    await this.request('PUT', '/v1/agent/service/register', {
      ID: registration.id,
      Name: registration.name,
      Address: registration.address,
      Port: registration.port,
      Tags: registration.tags ?? [],
      Meta: registration.meta ?? {},
      Check: {
        HTTP: registration.check.http,
        Interval: registration.check.interval,
        Timeout: registration.check.timeout,
        DeregisterCriticalServiceAfter: registration.check.deregisterCriticalServiceAfter,
        ...(registration.check.initialStatus === undefined ? {} : { Status: registration.check.initialStatus }),
      },
    });
  }

  /**
   * Idempotent: an instance already gone (deregistered, or reaped after failing its check) is not an error. Bounded
   * by `deregisterTimeoutMs` (default 3 s), not by the long timeout of blocking queries: a service stopping while
   * Consul is gone must not wait minutes (Consul reaps it once its check fails).
   */
  async deregister(id: string): Promise<void> {
    const timeout = AbortSignal.timeout(this.options.deregisterTimeoutMs ?? 3000);
    await this.request('PUT', `/v1/agent/service/deregister/${encodeURIComponent(id)}`, undefined, timeout, [404]);
  }

  /**
   * Instances of `service` whose checks all pass. With `index`, a blocking query: Consul answers when the
   * set changes or after `wait` (e.g. "30s").
   */
  async passing(
    service: string,
    blocking?: { index: string; wait: string; signal?: AbortSignal },
    tag?: string,
  ): Promise<PassingInstances> {
    const query = new URLSearchParams({ passing: 'true' });
    if (tag !== undefined) query.set('tag', tag);
    if (blocking !== undefined) {
      query.set('index', blocking.index);
      query.set('wait', blocking.wait);
    }
    const response = await this.request(
      'GET',
      `/v1/health/service/${encodeURIComponent(service)}?${query.toString()}`,
      undefined,
      blocking?.signal,
    );
    const entries = (await response.json()) as HealthEntry[];
    return {
      index: response.headers.get('x-consul-index') ?? '0',
      instances: entries.map((e) => ({
        id: e.Service.ID,
        name: e.Service.Service,
        // An empty service address means "the node's address" in Consul.
        address: e.Service.Address === '' ? e.Node.Address : e.Service.Address,
        port: e.Service.Port,
        tags: e.Service.Tags ?? [],
        meta: e.Service.Meta ?? {},
      })),
    };
  }

  /** Every service name in the catalog with its tags. With `index`, a blocking query like `passing`. */
  async services(blocking?: { index: string; wait: string; signal?: AbortSignal }): Promise<{
    services: Readonly<Record<string, readonly string[]>>;
    index: string;
  }> {
    const query =
      blocking === undefined
        ? ''
        : `?${new URLSearchParams({ index: blocking.index, wait: blocking.wait }).toString()}`;
    const response = await this.request('GET', `/v1/catalog/services${query}`, undefined, blocking?.signal);
    return {
      index: response.headers.get('x-consul-index') ?? '0',
      services: (await response.json()) as Record<string, string[]>,
    };
  }

  private async request(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
    acceptedStatuses: readonly number[] = [],
  ): Promise<Response> {
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs ?? 5 * 60_000);
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
        signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      });
    } catch (error) {
      throw new ConsulError(`Consul at ${this.baseUrl} is unreachable (${method} ${path}): ${String(error)}`);
    }
    if (!response.ok && !acceptedStatuses.includes(response.status)) {
      throw new ConsulError(`Consul ${method} ${path} answered ${response.status}: ${await response.text()}`);
    }
    return response;
  }
}
