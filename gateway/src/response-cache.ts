/**
 * Dashboard answers cached at the gateway: an in-process LRU (L1) in front of Redis (L2, shared by every gateway
 * instance). The key is the operation as graphql-js prints it (so spacing and comments do not split entries), the
 * operation name, the variables and the caller's roles: what one role may see never answers another. Only queries
 * answered without errors are kept; mutations, errors and partial answers never are.
 */
import { createHash } from 'node:crypto';
import { type ApolloServerPlugin, type GraphQLRequestContext, type GraphQLResponse, HeaderMap } from '@apollo/server';
import { type DocumentNode, Kind, OperationTypeNode, print, visit } from 'graphql';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { CallerContext } from '@heimdall/shared/auth';
import type { Logger, ServiceMetrics } from '@heimdall/shared/telemetry';
import { instantMs, parseInstant } from '@heimdall/shared/user-input';

export interface ResponseCacheOptions {
  /** How long an answer about the past is kept. 0 turns the cache off. */
  readonly ttlMs: number;
  /** How long an answer that may still change is kept: a time window reaching into the last minute, or none. */
  readonly liveTtlMs: number;
  /** Bytes of answers L1 holds (JSON text); an answer over an eighth of it is not cached. */
  readonly maxBytes: number;
  /** The supergraph the answers are of (SUBGRAPH_TAG): gateways of other supergraphs sharing the Redis never see them. */
  readonly supergraph: string;
  readonly now?: () => number;
}

/** A window whose end is later than this long ago still grows: its answer is live. */
const LIVE_WINDOW_MS = 60_000;
/** The header saying where an answer came from: `hit-l1`, `hit-l2`, `miss` (stored), `bypass` (not cacheable). */
export const CACHE_HEADER = 'x-heimdall-cache';

type CacheOutcome = 'hit-l1' | 'hit-l2' | 'miss' | 'bypass';

interface Stored {
  readonly expiresAt: number;
  /** The answer's `data`, as JSON text. */
  readonly data: string;
}

export class ResponseCache {
  private readonly l1: LRUCache<string, Stored>;
  private readonly now: () => number;
  private readonly prefix: string;

  constructor(
    private readonly redis: Pick<Redis, 'get' | 'set'>,
    private readonly options: ResponseCacheOptions,
    private readonly logger: Logger,
  ) {
    this.now = options.now ?? Date.now;
    this.prefix = `heimdall:gateway:answers:${options.supergraph}:`;
    this.l1 = new LRUCache<string, Stored>({
      maxSize: Math.max(1, options.maxBytes),
      maxEntrySize: Math.max(1, Math.floor(options.maxBytes / 8)),
      sizeCalculation: (entry) => Math.max(1, entry.data.length),
      ttlAutopurge: false,
      perf: { now: this.now },
    });
  }

  get enabled(): boolean {
    return this.options.ttlMs > 0;
  }

  /** The cached `data` for `key` and where it was found, or undefined. A Redis that fails is a miss. */
  async read(key: string): Promise<{ data: string; level: 'l1' | 'l2' } | undefined> {
    const local = this.l1.get(key);
    if (local !== undefined && local.expiresAt > this.now()) return { data: local.data, level: 'l1' };
    try {
      const text = await this.redis.get(this.prefix + key);
      if (text === null) return undefined;
      const stored = JSON.parse(text) as Stored;
      const left = stored.expiresAt - this.now();
      if (left <= 0) return undefined;
      this.l1.set(key, stored, { ttl: left });
      return { data: stored.data, level: 'l2' };
    } catch (error) {
      this.logger.warn({ err: error }, 'answer cache: Redis read failed; answering without it');
      return undefined;
    }
  }

  async write(key: string, data: string, ttlMs: number): Promise<void> {
    if (data.length > this.options.maxBytes / 8) return;
    const stored: Stored = { expiresAt: this.now() + ttlMs, data };
    this.l1.set(key, stored, { ttl: ttlMs });
    try {
      await this.redis.set(this.prefix + key, JSON.stringify(stored), 'PX', ttlMs);
    } catch (error) {
      this.logger.warn({ err: error }, 'answer cache: Redis write failed; kept in this instance only');
    }
  }

  /** How long an answer to `document` with `variables` may be kept. */
  ttlFor(document: DocumentNode, variables: Record<string, unknown> | undefined): number {
    const latest = latestInstant(document, variables);
    return latest === undefined || latest > this.now() - LIVE_WINDOW_MS
      ? Math.min(this.options.liveTtlMs, this.options.ttlMs)
      : this.options.ttlMs;
  }
}

/** The key of an operation for callers holding `roles`. */
export function cacheKey(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
  roles: readonly string[],
): string {
  const parts = [printed(document), operationName ?? '', stableJson(variables ?? {}), [...roles].sort().join(',')];
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * The latest point in time an operation names (strings in its arguments or variables that are instants in the
 * grammar every subgraph reads them by), or undefined when it names none: it then asks about now (services,
 * alerts, recent logs).
 */
export function latestInstant(
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
): number | undefined {
  let latest = literalInstants(document);
  const walk = (value: unknown): void => {
    if (typeof value === 'string') latest = later(latest, instantOf(value));
    else if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(walk);
  };
  walk(variables);
  return latest;
}

// Apollo Server hands the same parsed document to every request with the same query text (its document cache), so
// what depends on the document alone is worked out once per document, not on every request.
const printedDocuments = new WeakMap<DocumentNode, string>();
const documentInstants = new WeakMap<DocumentNode, { latest: number | undefined }>();

function printed(document: DocumentNode): string {
  let text = printedDocuments.get(document);
  if (text === undefined) printedDocuments.set(document, (text = print(document)));
  return text;
}

/** The latest instant among the document's own string literals. */
function literalInstants(document: DocumentNode): number | undefined {
  let known = documentInstants.get(document);
  if (known === undefined) {
    let latest: number | undefined;
    visit(document, { StringValue: (node) => void (latest = later(latest, instantOf(node.value))) });
    documentInstants.set(document, (known = { latest }));
  }
  return known.latest;
}

function instantOf(text: string): number | undefined {
  const instant = parseInstant(text);
  return instant.ok ? instantMs(instant.value) : undefined;
}

function later(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

/**
 * The plugin: after the operation is resolved and the caller's roles checked (plugins before it in the list),
 * a cached answer replaces execution; a fresh answer without errors is stored.
 */
export function responseCachePlugin(cache: ResponseCache, metrics: ServiceMetrics): ApolloServerPlugin<CallerContext> {
  const outcomes = metrics.counter(
    'heimdall_gateway_cache_requests_total',
    'GraphQL operations by answer cache outcome (hit-l1, hit-l2, miss, bypass)',
    ['outcome'],
  );
  const counts: Record<CacheOutcome, number> = { 'hit-l1': 0, 'hit-l2': 0, miss: 0, bypass: 0 };
  metrics.gauge(
    'heimdall_gateway_cache_hit_ratio',
    'Cacheable operations answered from the cache (L1 or L2) since start',
    [],
    (gauge) => {
      const cacheable = counts['hit-l1'] + counts['hit-l2'] + counts.miss;
      gauge.set(cacheable === 0 ? 0 : (counts['hit-l1'] + counts['hit-l2']) / cacheable);
    },
  );
  const count = (outcome: CacheOutcome) => {
    counts[outcome] += 1;
    outcomes.inc({ outcome });
  };
  return {
    requestDidStart() {
      if (!cache.enabled) return Promise.resolve();
      let key: string | undefined;
      let ttlMs = 0;
      return Promise.resolve({
        async responseForOperation(context: GraphQLRequestContext<CallerContext>): Promise<GraphQLResponse | null> {
          if (
            context.operation?.operation !== OperationTypeNode.QUERY ||
            context.document === undefined ||
            isIntrospection(context.document)
          ) {
            count('bypass');
            setOutcome(context, 'bypass');
            return null;
          }
          key = cacheKey(
            context.document,
            context.operationName,
            context.request.variables,
            context.contextValue.caller?.roles ?? [],
          );
          ttlMs = cache.ttlFor(context.document, context.request.variables);
          const found = await cache.read(key);
          if (found === undefined) return null;
          key = undefined;
          const outcome = found.level === 'l1' ? 'hit-l1' : 'hit-l2';
          count(outcome);
          const headers = new HeaderMap([[CACHE_HEADER, outcome]]);
          return {
            http: { headers, status: undefined },
            body: { kind: 'single', singleResult: { data: JSON.parse(found.data) as Record<string, unknown> } },
          };
        },
        willSendResponse(context) {
          if (key === undefined) return Promise.resolve();
          const body = context.response.body;
          if (body.kind !== 'single' || body.singleResult.errors !== undefined || body.singleResult.data == null) {
            count('bypass');
            setOutcome(context, 'bypass');
            return Promise.resolve();
          }
          count('miss');
          setOutcome(context, 'miss');
          // Not awaited: the answer does not wait on Redis (this instance's L1 has it at once).
          void cache.write(key, JSON.stringify(body.singleResult.data), ttlMs);
          return Promise.resolve();
        },
      });
    },
  };
}

function setOutcome(context: GraphQLRequestContext<CallerContext>, outcome: CacheOutcome): void {
  context.response.http.headers.set(CACHE_HEADER, outcome);
}

function isIntrospection(document: DocumentNode): boolean {
  return document.definitions.every(
    (definition) =>
      definition.kind !== Kind.OPERATION_DEFINITION ||
      definition.selectionSet.selections.every(
        (selection) => selection.kind === Kind.FIELD && selection.name.value.startsWith('__'),
      ),
  );
}
