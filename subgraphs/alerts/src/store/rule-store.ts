import { heimdallError } from '@heimdall/shared/errors';
import {
  type AlertCondition,
  type AlertRule,
  ERROR_STATES,
  type ErrorState,
  MATCH_MODES,
  type MatchMode,
  NO_DATA_STATES,
  NO_NOTIFICATION_OVERRIDES,
  type NoDataState,
  type NotificationOverrides,
  SEVERITIES,
  type Severity,
} from '../rules/alert-rule.js';
import type { Retirement } from '../evaluation/finished-evaluation.js';
import { retireInstances } from './alert-store.js';
import type { PostgresStore, Query } from './postgres.js';

/** An alert rule as the alerts store holds it: the validated model plus its identity and version. */
export interface RuleRecord extends AlertRule {
  readonly id: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly version: number;
}

/** What a rule change records about the rule and who made it (the audit log). */
export interface Change {
  /** Who made the change, as the request says (see server.ts). */
  readonly actor: string;
}

export interface RuleFilter {
  /** A part of the name, any case. */
  readonly search?: string | null;
  /** The rule's `service` label. */
  readonly service?: string | null;
  readonly severities?: readonly Severity[] | null;
  readonly enabled?: boolean | null;
}

export interface RulePage {
  readonly nodes: readonly RuleRecord[];
  readonly endCursor: string | null;
  readonly hasNextPage: boolean;
}

/** An enabled rule with something to evaluate, as the evaluation schedule needs it. */
export interface ScheduledRule {
  readonly id: string;
  readonly evaluationIntervalMs: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id as the rules table keys it; anything else is the caller's mistake, said before any query runs. */
export function ruleId(id: string, argument = 'id'): string {
  if (!UUID.test(id))
    throw heimdallError('BAD_USER_INPUT', {
      message: `${argument}: "${id}" is not a rule id (a UUID)`,
      details: { argument },
    });
  return id.toLowerCase();
}

export function ruleNotFound(id: string) {
  return heimdallError('NOT_FOUND', { message: `no alert rule with id ${id}`, details: { id } });
}

function conflict(id: string, sent: number, current: number) {
  return heimdallError('CONFLICT', {
    message: `alert rule ${id} is at version ${current}, not ${sent}: someone changed it since you read it; read it again and reapply your change`,
    details: { id, version: sent, currentVersion: current },
  });
}

const RULE_COLUMNS = `id, name, description, severity, labels, annotations, match, conditions, for_ms::float8 AS for_ms,
  evaluation_interval_ms::float8 AS evaluation_interval_ms, keep_firing_for_ms::float8 AS keep_firing_for_ms, group_by,
  recovery_threshold, no_data_state, error_state, enabled, channels, notification, created_at, updated_at, version`;

interface RuleRow {
  id: string;
  name: string;
  description: string;
  severity: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  match: string;
  conditions: AlertCondition[];
  for_ms: number;
  evaluation_interval_ms: number;
  keep_firing_for_ms: number;
  group_by: string[];
  recovery_threshold: number | null;
  no_data_state: string;
  error_state: string;
  enabled: boolean;
  channels: string[];
  notification: Partial<NotificationOverrides>;
  created_at: Date;
  updated_at: Date;
  version: number;
}

/** Enumerations are stored as SPEC §2 spells them (lower case) and modelled as GraphQL does (upper case). */
function upper<T extends string>(value: string, allowed: readonly T[]): T {
  const name = value.toUpperCase();
  if (!(allowed as readonly string[]).includes(name)) throw new Error(`unexpected stored value ${value}`);
  return name as T;
}

function recordOf(row: RuleRow): RuleRecord {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    severity: upper<Severity>(row.severity, SEVERITIES),
    labels: row.labels,
    annotations: row.annotations,
    match: upper<MatchMode>(row.match, MATCH_MODES),
    conditions: row.conditions,
    forMs: row.for_ms,
    evaluationIntervalMs: row.evaluation_interval_ms,
    keepFiringForMs: row.keep_firing_for_ms,
    groupBy: row.group_by,
    recoveryThreshold: row.recovery_threshold,
    noDataState: upper<NoDataState>(row.no_data_state, NO_DATA_STATES),
    errorState: upper<ErrorState>(row.error_state, ERROR_STATES),
    enabled: row.enabled,
    channels: row.channels,
    notification: { ...NO_NOTIFICATION_OVERRIDES, ...row.notification },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

/** The stored form of a rule's fields, in the order of the columns below. */
function ruleValues(rule: AlertRule): unknown[] {
  return [
    rule.name,
    rule.description,
    rule.severity.toLowerCase(),
    JSON.stringify(rule.labels),
    JSON.stringify(rule.annotations),
    rule.match.toLowerCase(),
    JSON.stringify(rule.conditions),
    rule.forMs,
    rule.evaluationIntervalMs,
    rule.keepFiringForMs,
    JSON.stringify(rule.groupBy),
    rule.recoveryThreshold,
    rule.noDataState.toLowerCase(),
    rule.errorState.toLowerCase(),
    rule.enabled,
    JSON.stringify(rule.channels),
    JSON.stringify(rule.notification),
  ];
}

const WRITABLE = `name, description, severity, labels, annotations, match, conditions, for_ms, evaluation_interval_ms, keep_firing_for_ms,
  group_by, recovery_threshold, no_data_state, error_state, enabled, channels, notification`;

/** The rule as the audit log compares it: the model's fields, nothing of its identity. */
function modelOf(record: AlertRule): AlertRule {
  return {
    name: record.name,
    description: record.description,
    severity: record.severity,
    labels: record.labels,
    annotations: record.annotations,
    match: record.match,
    conditions: record.conditions,
    forMs: record.forMs,
    evaluationIntervalMs: record.evaluationIntervalMs,
    keepFiringForMs: record.keepFiringForMs,
    groupBy: record.groupBy,
    recoveryThreshold: record.recoveryThreshold,
    noDataState: record.noDataState,
    errorState: record.errorState,
    enabled: record.enabled,
    channels: record.channels,
    notification: record.notification,
  };
}

/** JSON with object keys sorted, so that equal values compare equal whatever order their keys came in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export type RuleDiff = Record<string, { readonly from: unknown; readonly to: unknown }>;

/** The fields that differ between two versions of a rule, each with its value before and after (null: none). */
export function ruleDiff(before: AlertRule | null, after: AlertRule | null): RuleDiff {
  const from = before === null ? {} : modelOf(before);
  const to = after === null ? {} : modelOf(after);
  const diff: RuleDiff = {};
  for (const key of new Set([...Object.keys(from), ...Object.keys(to)])) {
    const a = (from as Record<string, unknown>)[key] ?? null;
    const b = (to as Record<string, unknown>)[key] ?? null;
    if (canonical(a) !== canonical(b)) diff[key] = { from: a, to: b };
  }
  return diff;
}

type AuditAction = 'create' | 'update' | 'delete' | 'enable' | 'disable';

async function audit(
  query: Query,
  action: AuditAction,
  id: string,
  version: number,
  change: Change,
  diff: RuleDiff,
): Promise<void> {
  await query('INSERT INTO alert_rule_audit (rule_id, action, actor, version, diff) VALUES ($1, $2, $3, $4, $5)', [
    id,
    action,
    change.actor,
    version,
    JSON.stringify(diff),
  ]);
}

/**
 * The rule locked for a change in this transaction; CONFLICT when `version` is stale; NOT_FOUND when there is none
 * (or undefined, when asked to).
 */
async function lockForChange(query: Query, id: string, version: number | null): Promise<RuleRecord>;
async function lockForChange(
  query: Query,
  id: string,
  version: number | null,
  options: { missing: 'undefined' },
): Promise<RuleRecord | undefined>;
async function lockForChange(
  query: Query,
  id: string,
  version: number | null,
  options?: { missing: 'undefined' },
): Promise<RuleRecord | undefined> {
  const [row] = await query<RuleRow>(`SELECT ${RULE_COLUMNS} FROM alert_rules WHERE id = $1 FOR UPDATE`, [id]);
  if (row === undefined) {
    if (options?.missing === 'undefined') return undefined;
    throw ruleNotFound(id);
  }
  if (version !== null && row.version !== version) throw conflict(id, version, row.version);
  return recordOf(row);
}

/** Cursors of the rule list: the last rule's name and id. */
function encodeCursor(record: RuleRecord): string {
  return Buffer.from(JSON.stringify([record.name, record.id])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      typeof parsed[1] === 'string' &&
      UUID.test(parsed[1])
    ) {
      return [parsed[0], parsed[1]];
    }
  } catch {
    // Not JSON: reported below like any other malformed cursor.
  }
  throw heimdallError('BAD_USER_INPUT', {
    message: 'after: not a cursor this list gave out',
    details: { argument: 'after' },
  });
}

/** The rules' SQL; every change also writes the audit log, in the same transaction. */
export class RulesStore {
  /** `retire`: what disabling or deleting a rule means for its alerts, decided outside the store. */
  constructor(
    private readonly postgres: PostgresStore,
    private readonly retire: Retirement,
  ) {}

  async byId(id: string): Promise<RuleRecord | undefined> {
    const [row] = await this.postgres.query<RuleRow>(
      `SELECT ${RULE_COLUMNS} FROM alert_rules WHERE id = $1`,
      [ruleId(id)],
      { idempotent: true },
    );
    return row === undefined ? undefined : recordOf(row);
  }

  async forService(service: string, limit: number): Promise<RuleRecord[]> {
    const rows = await this.postgres.query<RuleRow>(
      `SELECT ${RULE_COLUMNS} FROM alert_rules WHERE labels ->> 'service' = $1 ORDER BY name, id LIMIT $2`,
      [service, limit],
      { idempotent: true },
    );
    return rows.map(recordOf);
  }

  /** Rules by name (then id), `first` at a time after the cursor of a previous page. */
  async list(filter: RuleFilter, first: number, after: string | null): Promise<RulePage> {
    const where: string[] = [];
    const values: unknown[] = [];
    const param = (value: unknown) => `$${values.push(value)}`;
    if (filter.search) where.push(`name ILIKE ${param(`%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)}`);
    if (filter.service) where.push(`labels ->> 'service' = ${param(filter.service)}`);
    if (filter.severities) where.push(`severity = ANY(${param(filter.severities.map((s) => s.toLowerCase()))})`);
    if (filter.enabled !== null && filter.enabled !== undefined) where.push(`enabled = ${param(filter.enabled)}`);
    if (after !== null) {
      const [name, id] = decodeCursor(after);
      where.push(`(name, id) > (${param(name)}, ${param(id)})`);
    }
    const rows = await this.postgres.query<RuleRow>(
      `SELECT ${RULE_COLUMNS} FROM alert_rules ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY name, id LIMIT ${param(first + 1)}`,
      values,
      { idempotent: true },
    );
    const nodes = rows.slice(0, first).map(recordOf);
    const last = nodes.at(-1);
    return { nodes, endCursor: last === undefined ? null : encodeCursor(last), hasNextPage: rows.length > first };
  }

  /** The enabled rules that have conditions: what the evaluation schedule should hold. */
  async scheduled(): Promise<ScheduledRule[]> {
    const rows = await this.postgres.query<{ id: string; interval: number }>(
      `SELECT id, evaluation_interval_ms::float8 AS interval FROM alert_rules WHERE enabled AND jsonb_array_length(conditions) > 0`,
      [],
      { idempotent: true },
    );
    return rows.map((row) => ({ id: row.id, evaluationIntervalMs: row.interval }));
  }

  create(rule: AlertRule, change: Change): Promise<RuleRecord> {
    return this.postgres.transaction(async (query) => {
      const [row] = await query<RuleRow>(
        `INSERT INTO alert_rules (${WRITABLE}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING ${RULE_COLUMNS}`,
        ruleValues(rule),
      );
      const record = recordOf(row!);
      await audit(query, 'create', record.id, record.version, change, ruleDiff(null, record));
      return record;
    });
  }

  /** Replaces a rule's fields; `version` is the one the caller read (CONFLICT when it is no longer current). */
  update(id: string, version: number, rule: AlertRule, change: Change, at: number): Promise<RuleRecord> {
    const key = ruleId(id);
    return this.postgres.transaction(async (query) => {
      const before = await lockForChange(query, key, version);
      const [row] = await query<RuleRow>(
        `UPDATE alert_rules SET (${WRITABLE}) = ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18), version = version + 1, updated_at = now()
         WHERE id = $1 RETURNING ${RULE_COLUMNS}`,
        [key, ...ruleValues(rule)],
      );
      const record = recordOf(row!);
      if (before.enabled && !record.enabled) await retireInstances(query, this.retire, record, at, 'rule disabled');
      await audit(query, 'update', key, record.version, change, ruleDiff(before, record));
      return record;
    });
  }

  /** Enables or disables a rule; a rule already in that state is returned as it is. Disabling ends its alerts. */
  setEnabled(id: string, enabled: boolean, version: number | null, change: Change, at: number): Promise<RuleRecord> {
    const key = ruleId(id);
    return this.postgres.transaction(async (query) => {
      const before = await lockForChange(query, key, version);
      if (before.enabled === enabled) return before;
      const [row] = await query<RuleRow>(
        `UPDATE alert_rules SET enabled = $2, version = version + 1, updated_at = now() WHERE id = $1 RETURNING ${RULE_COLUMNS}`,
        [key, enabled],
      );
      const record = recordOf(row!);
      if (!enabled) await retireInstances(query, this.retire, record, at, 'rule disabled');
      await audit(query, enabled ? 'enable' : 'disable', key, record.version, change, ruleDiff(before, record));
      return record;
    });
  }

  /**
   * Deletes a rule (its alerts end, its history stays); `version`, when given, must be the current one. Resolves
   * with the rule as it was, or undefined when there was none.
   */
  delete(id: string, version: number | null, change: Change, at: number): Promise<RuleRecord | undefined> {
    const key = ruleId(id);
    return this.postgres.transaction(async (query) => {
      const before = await lockForChange(query, key, version, { missing: 'undefined' });
      if (before === undefined) return undefined;
      await retireInstances(query, this.retire, before, at, 'rule deleted');
      await query('DELETE FROM alert_rules WHERE id = $1', [key]);
      await audit(query, 'delete', key, before.version, change, ruleDiff(before, null));
      return before;
    });
  }

  /** The audit log of a rule, newest first. */
  async changes(id: string, limit: number): Promise<RuleChange[]> {
    const rows = await this.postgres.query<{
      action: AuditAction;
      actor: string;
      at: Date;
      version: number;
      diff: RuleDiff;
    }>(
      'SELECT action, actor, at, version, diff FROM alert_rule_audit WHERE rule_id = $1 ORDER BY id DESC LIMIT $2',
      [ruleId(id), limit],
      { idempotent: true },
    );
    return rows;
  }
}

export interface RuleChange {
  readonly action: AuditAction;
  readonly actor: string;
  readonly at: Date;
  readonly version: number;
  readonly diff: RuleDiff;
}
