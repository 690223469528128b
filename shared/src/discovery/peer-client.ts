/**
 * Calls from one Heimdall service to another's API (SPEC §5: a store's owner is reached through its API, never its
 * store): the alert evaluator reading metrics and logs, the traces subgraph writing RED metrics to the metrics
 * ingest. Instances are found in Consul (passing ones, by the subgraph tag), tried in turn, and every call runs
 * through the caller's resilience policy with the trace context carried along.
 */
import type { ConsulClient, ServiceInstance } from './consul-client.js';
import { HeimdallError, heimdallError } from '../errors/heimdall-error.js';
import type { Platform } from '../http/platform.js';
import {
  HttpStatusError,
  type ResilienceOptions,
  type ResiliencePolicy,
  createResiliencePolicy,
} from '../resilience/policy.js';
import type { Telemetry } from '../telemetry/tracing.js';

export interface PeerClientOptions {
  /** The Consul service name of the peer, e.g. "metrics". */
  readonly service: string;
  /** Only instances carrying this tag (the subgraph tag of this system). */
  readonly tag?: string;
  readonly policy: ResiliencePolicy;
  readonly telemetry?: Telemetry;
  /** How long a list of passing instances is reused before Consul is asked again. Default 5000 ms. */
  readonly discoveryTtlMs?: number;
  /**
   * Headers every call carries: the service's identity, `() => platform.serviceTokens.headers()` (a peer answers
   * 401 without it).
   */
  readonly headers?: () => Record<string, string> | Promise<Record<string, string>>;
}

interface GraphQLAnswer<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; [key: string]: unknown } }[];
}

/** Codes a peer may answer with that mean the request itself was wrong; they reach our caller as they are. */
const CLIENT_CODES = new Set(['BAD_USER_INPUT', 'NOT_FOUND', 'LIMIT_EXCEEDED', 'FORBIDDEN', 'UNAUTHENTICATED']);

export class PeerClient {
  private instances: { list: readonly ServiceInstance[]; at: number } | undefined;
  private next = 0;

  constructor(
    private readonly consul: Pick<ConsulClient, 'passing'>,
    private readonly options: PeerClientOptions,
  ) {}

  /**
   * Runs a GraphQL query (reads are retried) or mutation on the peer; resolves with `data`. An error the peer
   * reports for the request (BAD_USER_INPUT, LIMIT_EXCEEDED…) is thrown as that catalog error; anything else about
   * the peer is UNAVAILABLE.
   */
  async graphql<T>(
    query: string,
    variables: Record<string, unknown> = {},
    options: { mutation?: boolean; signal?: AbortSignal } = {},
  ): Promise<T> {
    const response = await this.post(
      '/graphql',
      JSON.stringify({ query, variables }),
      { 'content-type': 'application/json' },
      {
        idempotent: options.mutation !== true,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      },
    );
    const answer = (await response.json()) as GraphQLAnswer<T>;
    const error = answer.errors?.[0];
    if (error !== undefined) {
      const code = error.extensions?.code;
      if (typeof code === 'string' && CLIENT_CODES.has(code)) {
        throw new HeimdallError(code as 'BAD_USER_INPUT', {
          message: error.message,
          details: { service: this.options.service },
        });
      }
      throw heimdallError('UNAVAILABLE', {
        message: `${this.options.service}: ${error.message}`,
        retryAfterSeconds: 5,
        service: this.options.service,
      });
    }
    if (answer.data === undefined || answer.data === null) {
      throw heimdallError('UNAVAILABLE', {
        message: `${this.options.service} answered without data`,
        retryAfterSeconds: 5,
        service: this.options.service,
      });
    }
    return answer.data;
  }

  /**
   * POSTs a body to a path of a passing instance; resolves with a 2xx response. 429/502/503/504 and connection
   * failures are retried on another instance when `idempotent`; a 4xx is thrown as an HttpStatusError.
   */
  async post(
    path: string,
    body: string | Uint8Array,
    headers: Record<string, string>,
    options: { idempotent?: boolean; signal?: AbortSignal } = {},
  ): Promise<Response> {
    return this.options.policy.execute(
      async (signal) => {
        const instance = await this.pick();
        const outgoing = { ...(await this.options.headers?.()), ...headers };
        this.options.telemetry?.inject(outgoing);
        const response = await fetch(`http://${instance.address}:${instance.port}${path}`, {
          method: 'POST',
          body: typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
          headers: outgoing,
          signal,
        });
        if (!response.ok) {
          await response.body?.cancel();
          throw HttpStatusError.fromResponse(response);
        }
        return response;
      },
      { idempotent: options.idempotent ?? false, ...(options.signal === undefined ? {} : { signal: options.signal }) },
    );
  }

  /** Round robin over the passing instances, asking Consul again once the list is older than the TTL. */
  private async pick(): Promise<ServiceInstance> {
    const ttl = this.options.discoveryTtlMs ?? 5000;
    if (this.instances === undefined || Date.now() - this.instances.at > ttl || this.instances.list.length === 0) {
      const { instances } = await this.consul.passing(this.options.service, undefined, this.options.tag);
      this.instances = { list: instances, at: Date.now() };
    }
    const { list } = this.instances;
    const instance = list[this.next++ % Math.max(list.length, 1)];
    if (instance === undefined) {
      throw heimdallError('UNAVAILABLE', {
        message: `no passing instance of ${this.options.service} in Consul`,
        retryAfterSeconds: 5,
        service: this.options.service,
      });
    }
    return instance;
  }
}

export interface PeerOptions {
  /** The Consul tag of this system's subgraphs (SUBGRAPH_TAG). */
  readonly tag: string;
  /** The policy's timeout, bulkhead and breaker; its name is always `peer_<service>`. */
  readonly resilience?: ResilienceOptions;
}

/**
 * The one way a Heimdall service builds its client of another: found in Consul by service name and the subgraph
 * tag, every call through a policy of its own named `peer_<service>` (its breaker opens for that peer alone),
 * carrying this service's identity in an internal token (SPEC §8: a subgraph answers no call without one).
 */
export function createPeer(
  platform: Platform,
  consul: Pick<ConsulClient, 'passing'>,
  service: string,
  options: PeerOptions,
): PeerClient {
  return new PeerClient(consul, {
    service,
    tag: options.tag,
    policy: createResiliencePolicy(`peer_${service}`, options.resilience, platform.resilienceMetrics),
    telemetry: platform.telemetry,
    headers: () => platform.serviceTokens.headers(),
  });
}
