import type { ClickHouseClient } from '@clickhouse/client';
import { heimdallError, type ResiliencePolicy } from '@heimdall/shared';
import { selectRows } from './clickhouse.js';
import { type LabelMatcher, labelList, labelMatcherClauses } from './matchers.js';
import { type QueryLimits, planQuery } from './query.js';

export interface MetricFilter {
  readonly name?: string | null;
  readonly service?: string | null;
  readonly labels?: readonly LabelMatcher[] | null;
  readonly range: { readonly from: string; readonly to: string };
  readonly limit?: number | null;
}

/** Samples one seed query (`metrics`, `metricsByName`) may return. */
export const MAX_SAMPLES = 10_000;

interface SampleRow {
  name: string;
  value: number;
  ts: number | string;
  labels: Record<string, string>;
  unit: string;
  description: string;
  type: string;
}

/** Raw samples, newest first, bounded by a required time range and a maximum count (the seed queries). */
export async function readSamples(clickhouse: ClickHouseClient, policy: ResiliencePolicy, filter: MetricFilter, limits: QueryLimits) {
  const limit = filter.limit ?? 1000;
  if (limit < 1 || limit > MAX_SAMPLES) throw heimdallError('BAD_USER_INPUT', { message: `limit: between 1 and ${MAX_SAMPLES}`, details: { argument: 'limit' } });
  const { from, to } = planQuery({ name: filter.name ?? '', range: filter.range, step: '1h' }, { ...limits, maxPoints: Number.MAX_SAFE_INTEGER });
  const params: Record<string, unknown> = { from, to, limit, name: filter.name ?? '', service: filter.service ?? '' };
  const clauses = labelMatcherClauses(filter.labels ?? [], params);
  if (filter.name) clauses.push('metric = {name:String}');
  if (filter.service) clauses.push('service = {service:String}');
  const rows = await selectRows<SampleRow>(
    clickhouse,
    policy,
    `SELECT s.metric AS name, s.value AS value, toUnixTimestamp64Milli(s.timestamp) AS ts,
            r.labels AS labels, r.unit AS unit, r.description AS description, r.type AS type
     FROM samples AS s
     INNER JOIN (SELECT fingerprint, labels, unit, description, type FROM series FINAL
                 ${clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`}) AS r USING fingerprint
     WHERE s.timestamp >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND s.timestamp < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
     ORDER BY s.timestamp DESC LIMIT {limit:UInt32}`,
    params,
  );
  return rows.map((r) => ({
    name: r.name,
    value: r.value,
    timestamp: new Date(Number(r.ts)).toISOString(),
    labels: labelList(r.labels),
    unit: r.unit,
    description: r.description,
    type: r.type,
  }));
}
