// A steady load of agents through :4318 (the three OTLP signals and the JSON log API), each item with an id of its
// own, so that a drill or a soak can count afterwards that every acknowledged item is stored exactly once.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

export const OTLP_URL = 'http://127.0.0.1:4318';
export const GRAPHQL_URL = 'http://127.0.0.1:4000/graphql';
/** Longer than the router's forward timeout (30 s): an answer later than this is a hang. */
export const HANG_MS = 35_000;

export type Signal = 'metrics' | 'logs' | 'traces' | 'log-api';
export const SIGNALS: readonly Signal[] = ['metrics', 'logs', 'traces', 'log-api'];
const PATHS: Readonly<Record<Signal, string>> = {
  metrics: '/v1/metrics',
  logs: '/v1/logs',
  traces: '/v1/traces',
  'log-api': '/api/v1/logs',
};

export interface Outcome {
  readonly signal: Signal;
  readonly startedAt: number;
  readonly ms: number;
  /** HTTP status, 'hang' past HANG_MS, or the socket error's code when there was no answer. */
  readonly status: number | string;
  readonly retryAfter: boolean;
}

export const acknowledged = (o: Outcome): boolean => o.status === 200 || o.status === 202;
/** What an agent may be told while a part is down: retry later, as told. */
export const retryLater = (o: Outcome): boolean => (o.status === 503 || o.status === 429) && o.retryAfter;

export interface LoadOptions {
  /** Pause between one signal's pushes (each signal has one push in flight). Default 250 ms. */
  readonly pushEveryMs?: number;
  /** Items (points, records, traces, entries) per push, for every signal or per signal. Default 5. */
  readonly itemsPerPush?: number | Readonly<Record<Signal, number>>;
  /** Spans per trace. Default 1. */
  readonly spansPerTrace?: number;
  /** Keep every acknowledged id for `countStored` (a long soak does not). Default true. */
  readonly keepIds?: boolean;
}

function attribute(key: string, value: string) {
  return { key, value: { stringValue: value } };
}

/**
 * One loop per signal until stopped; every outcome and every acknowledged id kept. Ids: a metric point's value (one
 * series, each point at its own millisecond after the start when ids are kept, at its own nanosecond of the push
 * otherwise, so a long soak never runs ahead of the clock), a log's `drill_id` label, a trace's id.
 */
export class AgentLoad {
  readonly runId = randomBytes(3).toString('hex');
  readonly service = `drill-${this.runId}`;
  readonly startMs = Date.now();
  readonly outcomes: Outcome[] = [];
  readonly acked = new Map<Signal, string[]>(SIGNALS.map((s) => [s, []]));
  private readonly sequences = new Map<Signal, number>();
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly pushEveryMs: number;
  private readonly itemsPerPush: Readonly<Record<Signal, number>>;
  private readonly spansPerTrace: number;
  private readonly keepIds: boolean;

  constructor(
    private readonly agentKey: string,
    options: LoadOptions = {},
  ) {
    this.pushEveryMs = options.pushEveryMs ?? 250;
    const items = options.itemsPerPush ?? 5;
    this.itemsPerPush =
      typeof items === 'number' ? { metrics: items, logs: items, traces: items, 'log-api': items } : items;
    this.spansPerTrace = options.spansPerTrace ?? 1;
    this.keepIds = options.keepIds ?? true;
  }

  start(): void {
    this.running = true;
    this.loops = SIGNALS.map(async (signal) => {
      while (this.running) {
        const { ids, body } = this.push(signal);
        const outcome = await this.send(signal, body);
        this.outcomes.push(outcome);
        if (this.keepIds && acknowledged(outcome)) this.acked.get(signal)!.push(...ids);
        await sleep(this.pushEveryMs);
      }
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Where a metric point with this id sits. */
  pointTime(id: string): number {
    return this.startMs + Number(id);
  }

  private push(signal: Signal): { ids: string[]; body: unknown } {
    const first = this.sequences.get(signal) ?? 0;
    const count = this.itemsPerPush[signal];
    this.sequences.set(signal, first + count);
    const ids = Array.from({ length: count }, (_, i) => String(first + i + 1));
    const resource = { attributes: [attribute('service.name', this.service)] };
    const pushedAt = BigInt(Date.now()) * 1_000_000n;
    const nanos = (id: string) =>
      `${this.keepIds ? BigInt(this.pointTime(id)) * 1_000_000n : pushedAt + (BigInt(id) % 1_000_000n)}`;
    switch (signal) {
      case 'metrics': {
        const dataPoints = ids.map((id) => ({ timeUnixNano: nanos(id), asDouble: Number(id) }));
        return {
          ids,
          body: {
            resourceMetrics: [
              { resource, scopeMetrics: [{ metrics: [{ name: 'drill_points', gauge: { dataPoints } }] }] },
            ],
          },
        };
      }
      case 'logs': {
        const logRecords = ids.map((id) => ({
          timeUnixNano: nanos(id),
          severityNumber: 9,
          body: { stringValue: `drill ${this.runId} log ${id}` },
          attributes: [attribute('drill_id', `${this.runId}-${id}`)],
        }));
        return { ids, body: { resourceLogs: [{ resource, scopeLogs: [{ logRecords }] }] } };
      }
      case 'traces': {
        const traceIds = ids.map(() => randomBytes(16).toString('hex'));
        const now = BigInt(Date.now()) * 1_000_000n;
        const spans = traceIds.flatMap((traceId) =>
          Array.from({ length: this.spansPerTrace }, () => ({
            traceId,
            spanId: randomBytes(8).toString('hex'),
            name: 'drill',
            kind: 2,
            startTimeUnixNano: `${now}`,
            endTimeUnixNano: `${now + 5_000_000n}`,
          })),
        );
        return { ids: traceIds, body: { resourceSpans: [{ resource, scopeSpans: [{ spans }] }] } };
      }
      case 'log-api':
        return {
          ids,
          body: ids.map((id) => ({
            timestamp: new Date().toISOString(),
            level: 'INFO',
            message: `drill ${this.runId} api ${id}`,
            service: this.service,
            labels: { drill_id: `${this.runId}-${id}` },
          })),
        };
    }
  }

  private async send(signal: Signal, body: unknown): Promise<Outcome> {
    const startedAt = Date.now();
    try {
      const response = await fetch(`${OTLP_URL}${PATHS[signal]}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': this.agentKey },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(HANG_MS),
      });
      await response.arrayBuffer();
      return {
        signal,
        startedAt,
        ms: Date.now() - startedAt,
        status: response.status,
        retryAfter: response.headers.has('retry-after'),
      };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      const status =
        error instanceof Error && error.name === 'TimeoutError'
          ? 'hang'
          : (cause?.code ?? (error instanceof Error ? error.name : 'error'));
      return { signal, startedAt, ms: Date.now() - startedAt, status, retryAfter: false };
    }
  }
}

/** A query as an admin would ask it; told to slow down (the gateway's rate limit), it waits as told and asks again. */
async function graphql<T>(token: string, query: string, variables: Record<string, unknown>): Promise<T> {
  for (;;) {
    const response = await fetch(GRAPHQL_URL, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const answer = (await response.json()) as {
      data?: T;
      errors?: { message: string; extensions?: { code?: string; retryAfterSeconds?: number } }[];
    };
    const limited = answer.errors?.find((e) => e.extensions?.code === 'RATE_LIMITED');
    if (limited !== undefined) {
      await sleep((limited.extensions?.retryAfterSeconds ?? 1) * 1000);
      continue;
    }
    if (answer.errors !== undefined || answer.data === undefined)
      throw new Error(`GraphQL: ${JSON.stringify(answer.errors)}`);
    return answer.data;
  }
}

/** How many times each acknowledged id is stored: read back through the gateway, logs from Elasticsearch itself. */
async function storedCounts(
  load: AgentLoad,
  signal: Signal,
  token: string,
  elasticsearchUrl: string,
): Promise<Map<string, number>> {
  const ids = load.acked.get(signal)!;
  const counts = new Map<string, number>();
  const add = (id: string) => counts.set(id, (counts.get(id) ?? 0) + 1);
  if (signal === 'metrics') {
    // Windows small enough for one page of raw samples.
    const windowMs = 5_000;
    const last = Math.max(0, ...ids.map(Number));
    for (let from = 0; from <= last; from += windowMs) {
      const range = {
        from: new Date(load.startMs + from).toISOString(),
        to: new Date(load.startMs + from + windowMs).toISOString(),
      };
      const data = await graphql<{ metrics: { value: number; timestamp: string }[] }>(
        token,
        'query($range: TimeRangeInput!) { metrics(filter: { name: "drill_points", range: $range, limit: 10000 }) { value timestamp } }',
        { range },
      );
      // The range's end is inclusive: a point on the boundary counts in the window that starts there.
      for (const point of data.metrics)
        if (Date.parse(point.timestamp) < load.startMs + from + windowMs) add(String(point.value));
    }
  } else if (signal === 'traces') {
    // Fifteen traces a query (the gateway's alias limit), each under an alias of its own.
    for (let i = 0; i < ids.length; i += 15) {
      const batch = ids.slice(i, i + 15);
      const query = `query { ${batch.map((id, j) => `t${j}: trace(traceId: "${id}") { spanCount }`).join(' ')} }`;
      const data = await graphql<Record<string, { spanCount: number } | null>>(token, query, {});
      batch.forEach((traceId, j) => {
        const trace = data[`t${j}`];
        if (trace !== null && trace !== undefined) counts.set(traceId, trace.spanCount);
      });
    }
  } else {
    const kind = signal === 'logs' ? 'log' : 'api';
    const response = await fetch(`${elasticsearchUrl}/logs*/_search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        size: 0,
        query: {
          bool: {
            filter: [{ term: { service: load.service } }, { match_phrase: { message: `drill ${load.runId} ${kind}` } }],
          },
        },
        aggs: { ids: { terms: { field: 'labels.drill_id', size: 60_000 } } },
      }),
    });
    const answer = (await response.json()) as {
      aggregations: { ids: { buckets: { key: string; doc_count: number }[] } };
    };
    for (const bucket of answer.aggregations.ids.buckets)
      counts.set(bucket.key.slice(load.runId.length + 1), bucket.doc_count);
  }
  return counts;
}

export interface StoredVerdict {
  readonly acknowledged: number;
  readonly missing: number;
  /** Stored more than once (a trace: more spans than it was sent with). */
  readonly duplicated: number;
}

/**
 * Once the load has stopped: each signal's acknowledged ids against what is stored, read again every 5 s while the
 * counts still grow (the JSON log API's queue and group commits drain), at most a minute.
 */
export async function countStored(
  load: AgentLoad,
  token: string,
  elasticsearchUrl: string,
  spansPerTrace = 1,
): Promise<Record<Signal, StoredVerdict>> {
  const verdicts: Partial<Record<Signal, StoredVerdict>> = {};
  for (const signal of SIGNALS) {
    const ids = load.acked.get(signal)!;
    const once = signal === 'traces' ? spansPerTrace : 1;
    let previous = -1;
    let counts = new Map<string, number>();
    for (let attempt = 0; attempt < 12; attempt++) {
      counts = await storedCounts(load, signal, token, elasticsearchUrl);
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      if (total === previous && total >= ids.length * once) break;
      previous = total;
      await sleep(5_000);
    }
    verdicts[signal] = {
      acknowledged: ids.length,
      missing: ids.filter((id) => (counts.get(id) ?? 0) < once).length,
      duplicated: ids.filter((id) => (counts.get(id) ?? 0) > once).length,
    };
  }
  return verdicts as Record<Signal, StoredVerdict>;
}

export function storedTable(verdicts: Record<Signal, StoredVerdict>): string {
  const rows = Object.entries(verdicts).map(
    ([signal, v]) =>
      `| ${signal} | ${v.acknowledged} | ${v.acknowledged - v.missing - v.duplicated} | ${v.missing} | ${v.duplicated} |`,
  );
  return [
    '| signal | acknowledged items | stored once | missing | stored twice or more |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
