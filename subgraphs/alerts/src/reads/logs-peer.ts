/**
 * The logs subgraph's API as the alerts subgraph uses it (issue 10): every query text and answer shape in one
 * place, so that rules and searches agree on syntax without either importing the other's code (SPEC §5).
 * - validateLogQuery(query) { valid message position }: whether a search query parses.
 * - logSearch(filter: LogFilter!, first) { total }: the count of matching entries (exact up to 10,000).
 * - logVolumeAnomalies(service, range) { score }: buckets whose log volume departs from its baseline.
 * - logSearch(filter, first) { entries { timestamp level service message } }: sample lines for notifications.
 */
import type { PeerClient } from '@heimdall/shared/discovery';
import type { LogQueryCheck } from '../rules/rule-input-validation.js';
import type { LogLevel } from '../rules/alert-rule.js';
import type { AlertStateChange } from '../state-changes/alert-state-change.js';

export type GraphQLPeer = Pick<PeerClient, 'graphql'>;

export async function validateLogQuery(logs: GraphQLPeer, query: string): Promise<LogQueryCheck> {
  const { validateLogQuery: verdict } = await logs.graphql<{
    validateLogQuery: { valid: boolean; message: string | null; position: number | null };
  }>('query($query: String!) { validateLogQuery(query: $query) { valid message position } }', { query });
  return verdict.valid
    ? { ok: true }
    : { ok: false, message: verdict.message ?? 'the logs subgraph does not accept it', position: verdict.position };
}

export interface LogCountFilter {
  readonly query: string;
  readonly services: readonly string[];
  readonly levels: readonly LogLevel[];
  readonly fromMs: number;
  readonly toMs: number;
}

/** Counts of entries matching each filter, in one request (one aliased logSearch per filter). */
export async function countLogs(logs: GraphQLPeer, filters: readonly LogCountFilter[]): Promise<number[]> {
  const variables = Object.fromEntries(
    filters.map((f, i) => [
      `f${i}`,
      {
        ...(f.query === '' ? {} : { query: f.query }),
        ...(f.services.length === 0 ? {} : { services: f.services }),
        ...(f.levels.length === 0 ? {} : { levels: f.levels }),
        range: { from: new Date(f.fromMs).toISOString(), to: new Date(f.toMs).toISOString() },
      },
    ]),
  );
  const declared = filters.map((_, i) => `$f${i}: LogFilter!`).join(', ');
  const fields = filters.map((_, i) => `c${i}: logSearch(filter: $f${i}, first: 1) { total }`).join(' ');
  const answer = await logs.graphql<Record<string, { total: number }>>(`query(${declared}) { ${fields} }`, variables);
  return filters.map((_, i) => answer[`c${i}`]?.total ?? 0);
}

/** The highest volume anomaly score of a service's logs in the range, 0 when nothing departs from its baseline. */
export async function anomalyScore(logs: GraphQLPeer, service: string, fromMs: number, toMs: number): Promise<number> {
  const { logVolumeAnomalies } = await logs.graphql<{ logVolumeAnomalies: { score: number }[] }>(
    'query($service: String!, $from: String!, $to: String!) { logVolumeAnomalies(service: $service, range: { from: $from, to: $to }) { score } }',
    { service, from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() },
  );
  return logVolumeAnomalies.reduce((max, a) => Math.max(max, a.score), 0);
}

/** The newest `first` entries matching a filter, one line each: `<time> <LEVEL> <service>: <message>`. */
export async function newestLogLines(logs: GraphQLPeer, filter: LogCountFilter, first: number): Promise<string[]> {
  const { logSearch } = await logs.graphql<{
    logSearch: { entries: { timestamp: string; level: string; service: string | null; message: string }[] };
  }>(
    'query($filter: LogFilter!, $first: Int) { logSearch(filter: $filter, first: $first) { entries { timestamp level service message } } }',
    {
      filter: {
        ...(filter.query === '' ? {} : { query: filter.query }),
        ...(filter.services.length === 0 ? {} : { services: filter.services }),
        ...(filter.levels.length === 0 ? {} : { levels: filter.levels }),
        range: { from: new Date(filter.fromMs).toISOString(), to: new Date(filter.toMs).toISOString() },
      },
      first,
    },
  );
  return logSearch.entries.map((e) => `${e.timestamp} ${e.level} ${e.service ?? '-'}: ${e.message.slice(0, 500)}`);
}

/** Log lines a notification shows per log condition, and the conditions sampled. */
const SAMPLE_LOG_LINES = 5;
const SAMPLED_LOG_CONDITIONS = 2;

/** The newest lines matching a firing alert's log conditions over each one's window up to the change. */
export async function sampleLogLines(
  logs: GraphQLPeer,
  change: Pick<AlertStateChange, 'at' | 'logQueries'>,
): Promise<string[]> {
  const at = Date.parse(change.at);
  const lines = await Promise.all(
    (change.logQueries ?? [])
      .slice(0, SAMPLED_LOG_CONDITIONS)
      .map((q) => newestLogLines(logs, { ...q, fromMs: at - q.windowMs, toMs: at + 1 }, SAMPLE_LOG_LINES)),
  );
  return lines.flat();
}
