export { MIGRATIONS_DIR, migrate } from './migrations.js';
export { type PostgresLimits, PostgresStore } from './postgres.js';
export { type RuleRecord, RulesStore, ruleId } from './rules.js';
