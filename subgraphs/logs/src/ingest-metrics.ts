import type { Logger, ServiceMetrics } from '@heimdall/shared/telemetry';
import type { LogQueue } from './queue/log-queue.js';

export type IngestSource = 'otlp' | 'api';

/** What the logs service tells /metrics about ingest: entries stored and refused, and the API queue. */
export interface IngestMetrics {
  readonly stored: { inc(labels: { source: IngestSource }, value?: number): void };
  readonly refused: { inc(labels: { source: IngestSource }, value?: number): void };
  /** From acceptance by `POST /api/v1/logs` to being stored in Elasticsearch, in seconds. */
  readonly indexingLag: { observe(seconds: number): void };
}

const LAG_BUCKETS_SECONDS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** Registers the ingest metrics; the queue's gauges are read from Redis on each scrape. */
export function registerIngestMetrics(metrics: ServiceMetrics, queue: LogQueue, logger: Logger): IngestMetrics {
  const read = async (what: string, gauge: { set(value: number): void }, value: () => Promise<number>) => {
    try {
      gauge.set(await value());
    } catch (error) {
      // A scrape must not fail with Redis: the gauge keeps its last value and the log says why.
      logger.warn({ err: error }, `could not read the log queue's ${what}`);
    }
  };
  metrics.gauge('heimdall_logs_queue_depth', 'Entries accepted by POST /api/v1/logs and not yet indexed', [], (gauge) =>
    read('depth', gauge, () => queue.depth()),
  );
  metrics.gauge(
    'heimdall_logs_queue_oldest_age_seconds',
    'How long the oldest entry not yet indexed has waited (indexing lag)',
    [],
    (gauge) => read('oldest entry', gauge, async () => (await queue.oldestAgeMs(Date.now())) / 1000),
  );
  metrics.gauge(
    'heimdall_logs_queue_dead_letters',
    'Entries Elasticsearch refused, waiting in the dead-letter stream',
    [],
    (gauge) => read('dead letters', gauge, () => queue.deadCount()),
  );
  return {
    stored: metrics.counter('heimdall_logs_stored_total', 'Log entries stored in Elasticsearch', ['source']),
    refused: metrics.counter('heimdall_logs_refused_total', 'Log entries Elasticsearch refused for good', ['source']),
    indexingLag: metrics.histogram(
      'heimdall_logs_queue_indexing_lag_seconds',
      'Time from acceptance by POST /api/v1/logs to storage',
      [],
      LAG_BUCKETS_SECONDS,
    ),
  };
}
