import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type { Counter } from 'prom-client';

/** From 1 ms to 10 s: fast in-process answers and slow store round trips alike. */
export const LATENCY_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * A service's Prometheus metrics. Each service owns its registry (never prom-client's global one): tests run
 * several services in one process.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly graphqlDuration: Histogram<'operation_name' | 'operation_type' | 'outcome'>;
  readonly graphqlErrors: Counter<'code'>;

  constructor(labels: { service: string; instance: string }) {
    this.registry.setDefaultLabels(labels);
    collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new Histogram({
      name: 'heimdall_http_request_duration_seconds',
      help: 'HTTP requests served, by route and status',
      labelNames: ['method', 'route', 'status_code'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [this.registry],
    });
    this.graphqlDuration = new Histogram({
      name: 'heimdall_graphql_operation_duration_seconds',
      help: 'GraphQL operations executed, by operation and outcome',
      labelNames: ['operation_name', 'operation_type', 'outcome'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [this.registry],
    });
    this.graphqlErrors = new Counter({
      name: 'heimdall_graphql_errors_total',
      help: 'GraphQL errors returned, by extensions.code',
      labelNames: ['code'],
      registers: [this.registry],
    });
  }

  /** A counter of the service's own, in its registry (never prom-client's global one). */
  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /** A gauge of the service's own; `collect` runs on each scrape, for values read when asked (queue depths). */
  gauge<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    collect?: (gauge: Gauge<L>) => void | Promise<void>,
  ): Gauge<L> {
    return new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      ...(collect === undefined
        ? {}
        : {
            collect(this: Gauge<L>) {
              return collect(this);
            },
          }),
    });
  }

  /** A histogram of the service's own; latency buckets (1 ms to 10 s) unless given others. */
  histogram<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    buckets: readonly number[] = LATENCY_BUCKETS_SECONDS,
  ): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets: [...buckets], registers: [this.registry] });
  }
}
