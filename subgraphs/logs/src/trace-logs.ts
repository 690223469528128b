/**
 * `Trace.logs` and `Span.logs`: the gateway asks for the logs of every span of a trace in one `_entities` call, and
 * each span's field resolves on its own. The keys asked for within one turn of the event loop go to the store as one
 * multi-search.
 */
import type { LogRecord, TraceKey } from './store/index.js';

interface Waiting {
  readonly key: TraceKey;
  resolve(records: LogRecord[]): void;
  reject(error: unknown): void;
}

/**
 * A trace or span id as the logs store keeps it: lowercase hex of full width. Jaeger writes trace ids without their
 * leading zeros; undefined for what is not hex at all (it can have no logs).
 */
export function normaliseId(id: string, digits: 32 | 16): string | undefined {
  return /^[0-9a-fA-F]{1,32}$/.test(id) && id.length <= digits ? id.toLowerCase().padStart(digits, '0') : undefined;
}

export class TraceLogsLoader {
  private waiting: Waiting[] = [];

  constructor(private readonly fetch: (keys: readonly TraceKey[]) => Promise<LogRecord[][]>) {}

  /** The entries of a trace (or of a span, with `spanId`), oldest first. */
  load(traceId: string, spanId?: string): Promise<LogRecord[]> {
    const trace = normaliseId(traceId, 32);
    const span = spanId === undefined ? undefined : normaliseId(spanId, 16);
    if (trace === undefined || (spanId !== undefined && span === undefined)) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      if (this.waiting.length === 0) setImmediate(() => void this.flush());
      this.waiting.push({ key: { traceId: trace, ...(span === undefined ? {} : { spanId: span }) }, resolve, reject });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    const index = new Map<string, number>();
    const keys: TraceKey[] = [];
    const positions = batch.map(({ key }) => {
      const name = `${key.traceId}/${key.spanId ?? ''}`;
      let i = index.get(name);
      if (i === undefined) {
        i = keys.push(key) - 1;
        index.set(name, i);
      }
      return i;
    });
    try {
      const results = await this.fetch(keys);
      batch.forEach((waiting, i) => waiting.resolve(results[positions[i]!] ?? []));
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    }
  }
}
