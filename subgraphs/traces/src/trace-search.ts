import { heimdallError } from '@heimdall/shared/errors';
import { badUserInput, rangeArgument, sizeArgument } from '@heimdall/shared/user-input';
import { type DependencyEdge, dependenciesFromTraces, dependenciesOf, mergeDependencies } from './service-map.js';
import type { JaegerDependencyLink, JaegerStore } from './store.js';
import type { TraceModel } from './trace-model.js';

export interface SearchLimits {
  /** Longest time range a search or a service map may cover, in ms. */
  readonly maxRangeMs: number;
  /** Most traces one search answers. */
  readonly maxTraces: number;
  /** Most services a search without a service, or the whole service map, looks through. */
  readonly maxServices: number;
  /** Newest traces per service the service map is computed from. */
  readonly mapSampleTraces: number;
}

export const DEFAULT_SEARCH_LIMITS: SearchLimits = {
  maxRangeMs: 7 * 86_400_000,
  maxTraces: 1000,
  maxServices: 100,
  mapSampleTraces: 100,
};

/** `traces(filter)` as GraphQL gives it. */
export interface TraceFilterInput {
  readonly service?: string | null;
  readonly operation?: string | null;
  readonly tags?: readonly { readonly key: string; readonly value: string }[] | null;
  readonly minDurationMs?: number | null;
  readonly maxDurationMs?: number | null;
  readonly errorsOnly?: boolean | null;
  readonly range: { readonly from: string; readonly to: string };
  readonly limit: number;
}

/**
 * Bounds on a search's filter, so that what Jaeger is asked fits in its request line (1 MB): no stored name or
 * value is longer than 30,000 bytes under any span limits (config.ts), two of them fit.
 */
const MAX_FILTER_TAGS = 32;
const MAX_FILTER_TEXT_BYTES = 65_536;

/** Searches Jaeger at once for this many services when a search names none. */
const SEARCH_CONCURRENCY = 4;

/**
 * Traces with a span that matches the filter (Jaeger's rule: one span of the service matches the operation, every
 * tag and the duration bounds), newest first. Jaeger searches one service at a time: without a service, each
 * service that reports traces is searched (at most `maxServices`, else LIMIT_EXCEEDED) and the answers merged.
 */
export async function searchTraces(
  store: Pick<JaegerStore, 'services' | 'findTraces'>,
  filter: TraceFilterInput,
  limits: SearchLimits,
): Promise<TraceModel[]> {
  const range = rangeArgument('filter.range', filter.range, { maxSpanMs: limits.maxRangeMs });
  const limit = sizeArgument('filter.limit', filter.limit, limits.maxTraces);
  const { minDurationMs, maxDurationMs } = filter;
  if (minDurationMs != null && minDurationMs < 0) throw badUserInput('filter.minDurationMs', 'must not be negative');
  if (maxDurationMs != null && maxDurationMs < 0) throw badUserInput('filter.maxDurationMs', 'must not be negative');
  if (minDurationMs != null && maxDurationMs != null && minDurationMs > maxDurationMs) {
    throw badUserInput('filter.maxDurationMs', 'must not be less than minDurationMs');
  }
  const tags: Record<string, string> = {};
  if ((filter.tags?.length ?? 0) > MAX_FILTER_TAGS)
    throw badUserInput('filter.tags', `at most ${MAX_FILTER_TAGS} tags`);
  for (const [i, tag] of (filter.tags ?? []).entries()) {
    if (tag.key === '') throw badUserInput(`filter.tags[${i}].key`, 'must not be empty');
    tags[tag.key] = tag.value;
  }
  const texts = [filter.service ?? '', filter.operation ?? '', ...(filter.tags ?? []).flatMap((t) => [t.key, t.value])];
  if (texts.reduce((bytes, text) => bytes + Buffer.byteLength(text), 0) > MAX_FILTER_TEXT_BYTES) {
    throw badUserInput('filter', `service, operation and tags together at most ${MAX_FILTER_TEXT_BYTES} bytes`);
  }

  const services = filter.service != null ? [filter.service] : await allServices(store, limits, 'filter.service');
  const query = {
    start: range.from,
    end: range.to,
    limit,
    tags,
    errorsOnly: filter.errorsOnly === true,
    ...(filter.operation != null ? { operation: filter.operation } : {}),
    ...(minDurationMs != null ? { minDurationMs } : {}),
    ...(maxDurationMs != null ? { maxDurationMs } : {}),
  };
  const found = await mapConcurrently(services, SEARCH_CONCURRENCY, (service) =>
    store.findTraces({ ...query, service }),
  );
  return newestFirst(found.flat()).slice(0, limit);
}

/**
 * The service map of a time range (`dependencies(range)`), or the edges into and out of one service: Jaeger's own
 * map merged with the one computed from the newest `mapSampleTraces` traces of each service (of at most
 * `maxServices`), which alone tells errors and calls to uninstrumented peers. Where Jaeger's dependencies API does
 * not answer (a storage without it), the computed map is the answer.
 */
export async function serviceMap(
  store: Pick<JaegerStore, 'services' | 'findTraces' | 'dependencies'>,
  input: { readonly from: string; readonly to: string },
  limits: SearchLimits,
  service?: string,
): Promise<DependencyEdge[]> {
  const range = rangeArgument('range', input, { maxSpanMs: limits.maxRangeMs });
  const services = service !== undefined ? [service] : (await store.services()).sort().slice(0, limits.maxServices);
  const [fromJaeger, sampled] = await Promise.all([
    jaegerDependencies(store, range),
    mapConcurrently(services, SEARCH_CONCURRENCY, (s) =>
      store.findTraces({ service: s, start: range.from, end: range.to, limit: limits.mapSampleTraces }),
    ),
  ]);
  const edges = mergeDependencies(fromJaeger, dependenciesFromTraces(sampled.flat()));
  return service === undefined ? edges : dependenciesOf(edges, service);
}

async function jaegerDependencies(
  store: Pick<JaegerStore, 'dependencies'>,
  range: { readonly from: number; readonly to: number },
): Promise<JaegerDependencyLink[]> {
  try {
    return await store.dependencies(range.to, range.to - range.from);
  } catch {
    // Storages without a dependencies job answer with an error; the traces still tell the map.
    return [];
  }
}

async function allServices(
  store: Pick<JaegerStore, 'services'>,
  limits: SearchLimits,
  argument: string,
): Promise<string[]> {
  const services = await store.services();
  if (services.length > limits.maxServices) {
    throw heimdallError('LIMIT_EXCEEDED', {
      message: `${argument} is required when more than ${limits.maxServices} services report traces (${services.length} do)`,
      details: { argument, limit: limits.maxServices },
    });
  }
  return services;
}

/** Each trace once (a trace with spans of several services is found once per service), newest first. */
function newestFirst(traces: readonly TraceModel[]): TraceModel[] {
  const byId = new Map<string, TraceModel>();
  for (const trace of traces) if (!byId.has(trace.traceId)) byId.set(trace.traceId, trace);
  return [...byId.values()].sort((a, b) =>
    a.startTime < b.startTime ? 1 : a.startTime > b.startTime ? -1 : a.traceId.localeCompare(b.traceId),
  );
}

/** `work` over `items` with at most `limit` running at once; results in item order. */
export async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
