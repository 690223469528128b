/**
 * Incidents (issue 13): alerts on services linked in the trace-derived service map (the traces subgraph's
 * `dependencies`) that fire within a window of each other are one incident, notified once, with a root-cause
 * candidate: the most downstream service firing (one that calls no other service of the incident). The map is read
 * through the traces subgraph's GraphQL API, cached; when it cannot be read, each alert is its own incident.
 */
import type { PeerClient } from '@heimdall/shared/discovery';

export interface DependencyEdge {
  /** The caller. */
  readonly parent: string;
  /** The callee. */
  readonly child: string;
}

/** Whether `service` is one of `services` or calls or is called by one of them. */
export function isLinked(service: string, services: readonly string[], edges: readonly DependencyEdge[]): boolean {
  if (services.includes(service)) return true;
  return edges.some(
    (e) => (e.parent === service && services.includes(e.child)) || (e.child === service && services.includes(e.parent)),
  );
}

/** The most downstream of `services`: the first (in firing order) that calls none of the others; else the first. */
export function rootCauseOf(services: readonly string[], edges: readonly DependencyEdge[]): string {
  const downstream = services.find(
    (s) => !edges.some((e) => e.parent === s && e.child !== s && services.includes(e.child)),
  );
  return downstream ?? services[0] ?? '';
}

const DEPENDENCIES = 'query($range: TimeRangeInput!) { dependencies(range: $range) { parent child } }';

export interface ServiceMapOptions {
  /** How far back the map is read. Default 1 h. */
  readonly lookbackMs?: number;
  /** How long a map (or a failure to read one) is reused. Default 60 s. */
  readonly ttlMs?: number;
  /**
   * How long a caller waits for a map when none has been read yet (default 500 ms); later, an expired map is
   * answered at once while a new one is read. The pipeline never waits long on the traces subgraph.
   */
  readonly waitMs?: number;
  readonly now?: () => number;
  readonly onFailure?: (error: unknown) => void;
}

export class ServiceMap {
  private cached: { at: number; edges: readonly DependencyEdge[] | null } | undefined;
  private reading: Promise<readonly DependencyEdge[] | null> | undefined;

  constructor(
    private readonly traces: Pick<PeerClient, 'graphql'>,
    private readonly options: ServiceMapOptions = {},
  ) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** The edges, or null when the traces subgraph cannot say (or has not said yet). */
  async edges(): Promise<readonly DependencyEdge[] | null> {
    const { cached } = this;
    if (cached !== undefined && this.now() - cached.at < (this.options.ttlMs ?? 60_000)) return cached.edges;
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    if (cached !== undefined) return cached.edges;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), this.options.waitMs ?? 500);
    });
    try {
      return await Promise.race([this.reading, waited]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async read(): Promise<readonly DependencyEdge[] | null> {
    const now = this.now();
    let edges: readonly DependencyEdge[] | null;
    try {
      const range = {
        from: new Date(now - (this.options.lookbackMs ?? 3_600_000)).toISOString(),
        to: new Date(now).toISOString(),
      };
      const data = await this.traces.graphql<{ dependencies: DependencyEdge[] }>(DEPENDENCIES, { range });
      edges = data.dependencies.map(({ parent, child }) => ({ parent, child }));
    } catch (error) {
      this.options.onFailure?.(error);
      edges = null;
    }
    this.cached = { at: now, edges };
    return edges;
  }
}
