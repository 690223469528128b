export {
  type AlertFilter,
  type AlertStateChange,
  AlertsStore,
  type EvaluationRecord,
  type StoredAlert,
  type StoredTransition,
  alertId,
  retireInstances,
} from './alert-store.js';
export { MIGRATIONS_DIR, migrate } from './migrations.js';
export { type PostgresLimits, PostgresStore, type Query } from './postgres.js';
export {
  type Change,
  type RuleChange,
  type RuleDiff,
  type RuleFilter,
  type RulePage,
  type RuleRecord,
  RulesStore,
  type ScheduledRule,
  ruleDiff,
  ruleId,
  ruleNotFound,
} from './rule-store.js';
