import { type ConsulClient, type PeerClient, createPeer } from '@heimdall/shared/discovery';
import type { Platform } from '@heimdall/shared/http';

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

/** The alerts subgraph's clients of other Heimdall services, each with a bulkhead sized by the evaluation's concurrency. */
export function createPeers(platform: Platform, consul: ConsulClient, options: PeerOptions): Peers {
  const peer = (service: string) =>
    createPeer(platform, consul, service, {
      tag: options.tag,
      resilience: { bulkhead: { limit: options.concurrency, queue: options.concurrency * 10 } },
    });
  return { metrics: peer('metrics'), logs: peer('logs'), traces: peer('traces') };
}
