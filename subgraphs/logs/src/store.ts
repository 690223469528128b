import type { Client } from '@elastic/elasticsearch';
import type { ResiliencePolicy } from '@heimdall/shared';
import { WRITE_ALIAS } from './indices.js';

/** A log entry as the logs store returns it. */
export interface LogRecord {
  readonly id: string;
  readonly timestamp: string;
  readonly level: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL';
  readonly message: string;
  readonly service: string;
  readonly traceId?: string | null;
  readonly spanId?: string | null;
}

/** The logs subgraph's store: the only place that calls Elasticsearch, every call through its policy and abort signal. */
export class LogsStore {
  constructor(
    private readonly es: Client,
    private readonly policy: ResiliencePolicy,
  ) {}

  async ping(signal: AbortSignal): Promise<void> {
    // `GET /` is not served by every distribution (SPEC §12): cluster health is the probe.
    const health = await this.es.cluster.health({}, { signal });
    if (health.status === 'red') throw new Error('cluster health is red');
  }

  /** A service's most recent entries, newest first. */
  async recent(service: string, size: number): Promise<LogRecord[]> {
    const result = await this.policy.execute(
      (signal) =>
        this.es.search<Omit<LogRecord, 'id'>>(
          {
            index: WRITE_ALIAS,
            size,
            ignore_unavailable: true,
            query: { term: { service } },
            sort: [{ timestamp: { order: 'desc' } }],
          },
          { signal },
        ),
      { idempotent: true },
    );
    return result.hits.hits.flatMap((hit) => (hit._source === undefined || hit._id === undefined ? [] : [{ ...hit._source, id: hit._id }]));
  }
}
