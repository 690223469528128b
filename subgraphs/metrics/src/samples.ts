import { MAX_MATCHER_VALUE_LENGTH, checkLength } from './limits.js';
import { type LabelMatcher } from './matchers.js';
import { type QueryLimits, planQuery } from './query.js';
import type { MetricsStore, RawSample } from './store/metrics-store.js';

export interface MetricFilter {
  readonly name?: string | null;
  readonly service?: string | null;
  readonly labels?: readonly LabelMatcher[] | null;
  readonly range: { readonly from: string; readonly to: string };
  readonly limit: number;
}

/** Samples one seed query (`metrics`, `metricsByName`) may return. */
export const MAX_SAMPLES = 10_000;

/** How long raw samples are kept (the samples table's TTL): a range reaching further back is cut there. */
export const RAW_RETENTION_MS = 90 * 86_400_000;

/** Raw samples, newest first, bounded by a required time range (within the retention) and a count the caller checked (the seed queries). */
export async function readSamples(
  store: MetricsStore,
  filter: MetricFilter,
  limits: QueryLimits,
  labelsArgument = 'filter.labels',
  now = Date.now(),
): Promise<RawSample[]> {
  if (filter.service) checkLength('filter.service', filter.service, MAX_MATCHER_VALUE_LENGTH);
  const { from, to } = planQuery(
    { name: filter.name ?? '', range: filter.range, step: '1h' },
    { ...limits, maxPoints: Number.MAX_SAFE_INTEGER },
  );
  return store.readSamples({
    name: filter.name,
    service: filter.service,
    labels: filter.labels ?? [],
    labelsArgument,
    fromMs: Math.max(from, now - RAW_RETENTION_MS),
    toMs: to,
    limit: filter.limit,
  });
}
