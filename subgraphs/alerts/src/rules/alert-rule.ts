/**
 * The alert rule model (SPEC §2, issue #12) after validation: enums as GraphQL spells them, durations in ms,
 * every default applied, conditions as a discriminated union. `rule-input.ts` builds it from AlertRuleInput;
 * the evaluator, the state machine and the store read it.
 */

export const SEVERITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const OPERATORS = ['GT', 'LT', 'EQ', 'NE', 'GTE', 'LTE'] as const;
export type Operator = (typeof OPERATORS)[number];

/** Those of the metrics subgraph's metricQuery, which a metric condition is evaluated with. */
export const AGGREGATIONS = ['SUM', 'AVG', 'MIN', 'MAX', 'COUNT', 'P50', 'P90', 'P95', 'P99', 'RATE', 'LAST'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

export const MATCH_OPS = ['EQ', 'NEQ', 'RE', 'NRE'] as const;
export type MatchOp = (typeof MATCH_OPS)[number];

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const MATCH_MODES = ['ALL', 'ANY'] as const;
export type MatchMode = (typeof MATCH_MODES)[number];

/**
 * What an evaluation without data means for an instance (Grafana's "no data" handling): NODATA its own state,
 * ALERTING as if the condition were true, OK as if it were false, KEEP_LAST no change.
 */
export const NO_DATA_STATES = ['NODATA', 'ALERTING', 'OK', 'KEEP_LAST'] as const;
export type NoDataState = (typeof NO_DATA_STATES)[number];

/** What a failed read means, with the same choices as NO_DATA_STATES and ERROR its own state. */
export const ERROR_STATES = ['ERROR', 'ALERTING', 'OK', 'KEEP_LAST'] as const;
export type ErrorState = (typeof ERROR_STATES)[number];

export interface LabelMatcher {
  readonly key: string;
  readonly op: MatchOp;
  readonly value: string;
}

/** A metricQuery aggregation over the last `windowMs`, compared with `threshold`. */
export interface MetricCondition {
  readonly kind: 'metric';
  readonly name: string;
  readonly matchers: readonly LabelMatcher[];
  readonly aggregation: Aggregation;
  readonly windowMs: number;
  readonly operator: Operator;
  readonly threshold: number;
}

/** The count of log entries in the last `windowMs` matching `query` (empty: every entry) and the filters. */
export interface LogCondition {
  readonly kind: 'log';
  readonly query: string;
  /** Empty: every service. */
  readonly services: readonly string[];
  /** Empty: every level. */
  readonly levels: readonly LogLevel[];
  readonly windowMs: number;
  readonly operator: Operator;
  readonly threshold: number;
}

/** True when the logs subgraph's volume anomaly score for `service` reaches `minScore`. */
export interface LogAnomalyCondition {
  readonly kind: 'logAnomaly';
  readonly service: string;
  readonly minScore: number;
}

export type AlertCondition = MetricCondition | LogCondition | LogAnomalyCondition;

export const isMetricCondition = (c: AlertCondition): c is MetricCondition => c.kind === 'metric';
export const isLogCondition = (c: AlertCondition): c is LogCondition => c.kind === 'log';
export const isLogAnomalyCondition = (c: AlertCondition): c is LogAnomalyCondition => c.kind === 'logAnomaly';

/**
 * A rule's overrides of the notification policy (issue 13); null takes the service's default (NOTIFICATION_*).
 * Durations in ms.
 */
export interface NotificationOverrides {
  readonly groupBy: readonly string[] | null;
  readonly groupWaitMs: number | null;
  readonly groupIntervalMs: number | null;
  readonly repeatIntervalMs: number | null;
  readonly sendResolved: boolean | null;
}

export const NO_NOTIFICATION_OVERRIDES: NotificationOverrides = {
  groupBy: null,
  groupWaitMs: null,
  groupIntervalMs: null,
  repeatIntervalMs: null,
  sendResolved: null,
};

export interface AlertRule {
  readonly name: string;
  readonly description: string;
  readonly severity: Severity;
  readonly labels: Readonly<Record<string, string>>;
  /** Values are template sources (templates.ts), checked to parse. */
  readonly annotations: Readonly<Record<string, string>>;
  readonly match: MatchMode;
  readonly conditions: readonly AlertCondition[];
  readonly forMs: number;
  readonly evaluationIntervalMs: number;
  readonly keepFiringForMs: number;
  readonly groupBy: readonly string[];
  /** Only with exactly one condition whose operator orders (GT, GTE, LT, LTE; a log anomaly counts as GTE). */
  readonly recoveryThreshold: number | null;
  readonly noDataState: NoDataState;
  readonly errorState: ErrorState;
  readonly enabled: boolean;
  readonly channels: readonly string[];
  readonly notification: NotificationOverrides;
}

/**
 * Defaults, in one place. `for` and `keepFiringFor` 0 and a 1-minute interval are Prometheus' and Grafana's
 * (SPEC §2: evaluationInterval default 1m). NODATA and ERROR are Grafana's defaults: a silent exporter or a
 * failing read shows as what it is, instead of resolving alerts that may still hold (OK) or paging for an
 * outage of the data path (ALERTING). MEDIUM is the store's default severity.
 */
export const RULE_DEFAULTS = {
  description: '',
  severity: 'MEDIUM',
  match: 'ALL',
  forMs: 0,
  evaluationIntervalMs: 60_000,
  keepFiringForMs: 0,
  noDataState: 'NODATA',
  errorState: 'ERROR',
  enabled: true,
} as const satisfies Partial<AlertRule>;

const DAY_MS = 86_400_000;

export const RULE_LIMITS = {
  nameLength: 200,
  descriptionLength: 4_000,
  conditions: 20,
  matchers: 20,
  labels: 64,
  labelValueLength: 1_024,
  annotations: 64,
  annotationValueLength: 4_096,
  groupBy: 20,
  channels: 20,
  services: 50,
  queryLength: 4_096,
  textLength: 256,
  /** SPEC §2: minimum 10s. */
  minEvaluationIntervalMs: 10_000,
  maxEvaluationIntervalMs: DAY_MS,
  minWindowMs: 1_000,
  /** notification.groupInterval and repeatInterval: shorter would page in a loop. */
  minNotificationIntervalMs: 1_000,
  /** window, for, keepFiringFor. */
  maxDurationMs: 30 * DAY_MS,
} as const;
