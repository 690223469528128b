/**
 * The reads an evaluation makes, one per condition, through the owners' GraphQL APIs (SPEC §5): metric conditions
 * from the metrics subgraph's metricQuery, log conditions and log anomalies from the logs subgraph. A read that
 * fails is a value (`{ ok: false }`), never a throw: the rule's errorState decides what it means.
 *
 * - metric: one value per series of metricQuery grouped by the rule's groupBy (metric-window.ts).
 * - log: the count of matching entries in the window, as one series without labels, or one per service of the
 *   condition's `services` when the rule groups by `service` (labels {service}). A count of 0 is a value, not
 *   missing data: no matching lines is what a log rule usually watches for.
 * - logAnomaly: the highest volume anomaly score of the service over the last ANOMALY_LOOKBACK_MS (or the rule's
 *   interval, if longer), 0 when nothing departs from its baseline; labels {service} when the rule groups by it.
 */
import type { ConditionRead, Labels, SeriesValue } from '../evaluation/conditions.js';
import { type GraphQLPeer, anomalyScore, countLogs } from './logs-peer.js';
import { planMetricWindow, windowValues } from './metric-window.js';
import type {
  AlertCondition,
  AlertRule,
  LogAnomalyCondition,
  LogCondition,
  MetricCondition,
} from '../rules/alert-rule.js';

export const ANOMALY_LOOKBACK_MS = 15 * 60_000;

export type ReadSource = 'metrics' | 'logs';

export interface ReadResult {
  readonly reads: readonly ConditionRead[];
  /** ClickHouse rows the metric reads scanned (metricQuery's rowsRead). */
  readonly rowsRead: number;
}

export interface ConditionReaderDeps {
  readonly metrics: GraphQLPeer;
  readonly logs: GraphQLPeer;
  /** Told about every failed read (for logs and /metrics); the read itself becomes `{ ok: false }`. */
  readonly onFailure?: (failure: {
    readonly source: ReadSource;
    readonly rule: string;
    readonly condition: number;
    readonly error: unknown;
  }) => void;
}

type RuleReads = Pick<AlertRule, 'conditions' | 'groupBy' | 'evaluationIntervalMs'>;

interface MetricAnswer {
  readonly rowsRead: number;
  readonly series: readonly { labels: { key: string; value: string }[]; timestamps: string[]; values: number[] }[];
}

const METRIC_QUERY =
  'query($input: MetricQueryInput!) { metricQuery(input: $input) { rowsRead series { labels { key value } timestamps values } } }';

function sourceOf(condition: AlertCondition): ReadSource {
  return condition.kind === 'metric' ? 'metrics' : 'logs';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class ConditionReader {
  constructor(private readonly deps: ConditionReaderDeps) {}

  /** Reads every condition of `rule` as of `at`; `name` says whose reads they are when one fails (a rule id). */
  async read(rule: RuleReads, at: number, name: string): Promise<ReadResult> {
    let rowsRead = 0;
    const reads = await Promise.all(
      rule.conditions.map(async (condition, i): Promise<ConditionRead> => {
        try {
          if (condition.kind === 'metric') {
            const read = await this.metric(condition, rule.groupBy, at);
            rowsRead += read.rowsRead;
            return { ok: true, series: read.series };
          }
          return {
            ok: true,
            series:
              condition.kind === 'log'
                ? await this.log(condition, rule.groupBy, at)
                : await this.anomaly(condition, rule, at),
          };
        } catch (error) {
          this.deps.onFailure?.({ source: sourceOf(condition), rule: name, condition: i, error });
          return { ok: false, message: `${sourceOf(condition)}: ${messageOf(error)}` };
        }
      }),
    );
    return { reads, rowsRead };
  }

  private async metric(
    condition: MetricCondition,
    groupBy: readonly string[],
    at: number,
  ): Promise<{ series: SeriesValue[]; rowsRead: number }> {
    const plan = planMetricWindow(condition, at);
    const input = {
      name: condition.name,
      matchers: condition.matchers,
      range: { from: new Date(plan.fromMs).toISOString(), to: new Date(plan.toMs).toISOString() },
      step: plan.step,
      aggregation: plan.aggregation,
      groupBy,
    };
    const { metricQuery } = await this.deps.metrics.graphql<{ metricQuery: MetricAnswer }>(METRIC_QUERY, { input });
    const answer = metricQuery.series.map((s) => ({
      labels: Object.fromEntries(s.labels.map((l) => [l.key, l.value])),
      points: s.timestamps.map((t, i) => [Date.parse(t), s.values[i]!] as const),
    }));
    return { series: windowValues(plan, answer), rowsRead: metricQuery.rowsRead };
  }

  private async log(condition: LogCondition, groupBy: readonly string[], at: number): Promise<SeriesValue[]> {
    const base = { query: condition.query, levels: condition.levels, fromMs: at - condition.windowMs, toMs: at };
    if (groupBy.includes('service') && condition.services.length > 0) {
      const counts = await countLogs(
        this.deps.logs,
        condition.services.map((service) => ({ ...base, services: [service] })),
      );
      return condition.services.map((service, i) => ({ labels: { service }, value: counts[i] ?? 0 }));
    }
    const [count] = await countLogs(this.deps.logs, [{ ...base, services: condition.services }]);
    return [{ labels: {}, value: count ?? 0 }];
  }

  private async anomaly(condition: LogAnomalyCondition, rule: RuleReads, at: number): Promise<SeriesValue[]> {
    const lookback = Math.max(ANOMALY_LOOKBACK_MS, rule.evaluationIntervalMs);
    const score = await anomalyScore(this.deps.logs, condition.service, at - lookback, at);
    const labels: Labels = rule.groupBy.includes('service') ? { service: condition.service } : {};
    return [{ labels, value: score }];
  }
}
