import { type ConsulClient, PeerClient, type Platform, createResiliencePolicy } from '@heimdall/shared';

/** The subgraphs the alerts subgraph reads through their APIs. */
export interface Peers {
  readonly metrics: PeerClient;
  readonly logs: PeerClient;
  /** The service map (`dependencies`) that groups alerts into incidents. */
  readonly traces: PeerClient;
}

export interface PeerOptions {
  /** The Consul tag of this system's subgraphs (SUBGRAPH_TAG). */
  readonly tag: string;
  /** Calls to one peer in flight at once; more wait in the policy's queue. */
  readonly concurrency: number;
}

/**
 * The one place the alerts subgraph builds its clients of other Heimdall services: each peer found in Consul by
 * its service name and the subgraph tag, every call through a resilience policy of its own (its breaker opens for
 * that peer alone), carrying this service's own identity in an internal token (SPEC §8: a subgraph answers no
 * call without one).
 */
export function createPeers(platform: Platform, consul: ConsulClient, options: PeerOptions): Peers {
  const peer = (service: string) =>
    new PeerClient(consul, {
      service,
      tag: options.tag,
      policy: createResiliencePolicy(`peer-${service}`, { bulkhead: { limit: options.concurrency, queue: options.concurrency * 10 } }, platform.resilienceMetrics),
      telemetry: platform.telemetry,
      headers: () => platform.serviceTokens.headers(),
    });
  return { metrics: peer('metrics'), logs: peer('logs'), traces: peer('traces') };
}
