import {
  type AlertRule,
  type LogAnomalyCondition,
  type LogCondition,
  type MetricCondition,
  NO_NOTIFICATION_OVERRIDES,
  RULE_DEFAULTS,
} from './alert-rule.js';

export function makeMetricCondition(overrides: Partial<Omit<MetricCondition, 'kind'>> = {}): MetricCondition {
  return {
    kind: 'metric',
    name: 'cpu_usage',
    matchers: [],
    aggregation: 'AVG',
    windowMs: 300_000,
    operator: 'GT',
    threshold: 90,
    ...overrides,
  };
}

export function makeLogCondition(overrides: Partial<Omit<LogCondition, 'kind'>> = {}): LogCondition {
  return {
    kind: 'log',
    query: 'timeout',
    services: [],
    levels: ['ERROR'],
    windowMs: 300_000,
    operator: 'GT',
    threshold: 10,
    ...overrides,
  };
}

export function makeLogAnomalyCondition(
  overrides: Partial<Omit<LogAnomalyCondition, 'kind'>> = {},
): LogAnomalyCondition {
  return { kind: 'logAnomaly', service: 'checkout', minScore: 3, ...overrides };
}

export function makeRule(overrides: Partial<AlertRule> = {}): AlertRule {
  return {
    ...RULE_DEFAULTS,
    name: 'High CPU',
    labels: {},
    annotations: {},
    conditions: [makeMetricCondition()],
    groupBy: [],
    recoveryThreshold: null,
    channels: [],
    notification: NO_NOTIFICATION_OVERRIDES,
    ...overrides,
  };
}
