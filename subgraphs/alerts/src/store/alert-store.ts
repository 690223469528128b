import { heimdallError } from '@heimdall/shared/errors';
import type { Labels } from '../evaluation/conditions.js';
import type { FinishedEvaluation, NewStateChange, Retirement } from '../evaluation/finished-evaluation.js';
import type { AlertInstance, InstanceTransition } from '../evaluation/rule-instances.js';
import type { Severity } from '../rules/alert-rule.js';
import type { AlertStateChange, RuleIdentity, StateChangeReason } from '../state-changes/alert-state-change.js';
import { ALERT_STATES, type AlertState, type InstanceState } from '../evaluation/alert-state-machine.js';
import type { PostgresStore, Query } from './postgres.js';

export type { AlertStateChange } from '../state-changes/alert-state-change.js';

/** An alert instance as `alerts(filter)` lists it. */
export interface StoredAlert extends AlertInstance {
  readonly ruleId: string;
  readonly ruleName: string;
  readonly severity: Severity;
  /** The rule's own labels, which win over the instance's (alertLabels). */
  readonly ruleLabels: Labels;
  readonly annotations: Readonly<Record<string, string>>;
  /** When the instance entered its current state. */
  readonly since: Date;
}

/** A state change as `alertHistory` lists it. */
export interface StoredTransition {
  readonly id: string;
  readonly ruleId: string;
  readonly labels: Labels;
  readonly from: AlertState;
  readonly to: AlertState;
  readonly at: Date;
  readonly value: number | null;
  readonly annotations: Readonly<Record<string, string>>;
  readonly reason: StateChangeReason;
}

export interface AlertFilter {
  readonly ruleId?: string | null;
  readonly states?: readonly AlertState[] | null;
  readonly service?: string | null;
}

/** What recording one evaluation did. */
export type EvaluationRecord =
  | {
      readonly kind: 'recorded';
      readonly instances: readonly AlertInstance[];
      readonly transitions: readonly InstanceTransition[];
    }
  /** The rule's instances were already evaluated at this time or later (a retried or overtaken job). */
  | { readonly kind: 'stale' }
  /** The rule was deleted or disabled meanwhile. */
  | { readonly kind: 'gone' };

interface InstanceRow {
  rule_id: string;
  instance_key: string;
  labels: Labels;
  state: string;
  since: Date;
  value: number | null;
  active_at: Date | null;
  fired_at: Date | null;
  resolved_at: Date | null;
  keep_firing_since: Date | null;
  last_evaluated_at: Date | null;
  error: string | null;
  changes: number[];
}

const INSTANCE_COLUMNS = `i.rule_id, i.instance_key, i.labels, i.state, i.since, i.value, i.active_at, i.fired_at, i.resolved_at,
  i.keep_firing_since, i.last_evaluated_at, i.error, i.changes`;

const ms = (date: Date | null) => (date === null ? null : date.getTime());
const iso = (time: number | null) => (time === null ? null : new Date(time).toISOString());

function stateName(stored: string): AlertState {
  const name = stored.toUpperCase();
  if (!(ALERT_STATES as readonly string[]).includes(name)) throw new Error(`unexpected stored state ${stored}`);
  return name as AlertState;
}

function instanceOf(row: InstanceRow): AlertInstance {
  const state: InstanceState = {
    state: stateName(row.state),
    value: row.value,
    activeAt: ms(row.active_at),
    firedAt: ms(row.fired_at),
    resolvedAt: ms(row.resolved_at),
    keepFiringSince: ms(row.keep_firing_since),
    lastEvaluatedAt: ms(row.last_evaluated_at),
    error: row.error,
    changes: row.changes,
  };
  return { labels: row.labels, key: row.instance_key, state };
}

async function loadInstances(query: Query, ruleId: string): Promise<InstanceRow[]> {
  return query<InstanceRow>(`SELECT ${INSTANCE_COLUMNS} FROM alert_instances i WHERE i.rule_id = $1`, [ruleId]);
}

async function writeHistory(
  query: Query,
  rule: Pick<RuleIdentity, 'id' | 'version'>,
  changes: readonly NewStateChange[],
): Promise<void> {
  if (changes.length === 0) return;
  const rows = changes.map((c) => ({
    instance_key: c.instanceKey,
    labels: c.labels,
    from_state: c.from.toLowerCase(),
    to_state: c.to.toLowerCase(),
    at: c.at,
    value: c.value,
    event: c,
  }));
  await query(
    `INSERT INTO alert_state_history (rule_id, instance_key, labels, from_state, to_state, at, value, rule_version, event)
     SELECT $1, x.instance_key, x.labels, x.from_state, x.to_state, x.at, x.value, $2, x.event
     FROM jsonb_to_recordset($3::jsonb) AS x(instance_key text, labels jsonb, from_state text, to_state text, at timestamptz, value float8, event jsonb)`,
    [rule.id, rule.version, JSON.stringify(rows)],
  );
}

/**
 * Ends every alert of a rule that is being disabled or deleted, in the caller's transaction: each instance that
 * was not INACTIVE changes to INACTIVE (recorded and published like any change, so that a firing alert is seen to
 * end), and the instances are removed.
 */
export async function retireInstances(
  query: Query,
  retire: Retirement,
  rule: RuleIdentity,
  at: number,
  reason: StateChangeReason,
): Promise<void> {
  const changes = retire(rule, (await loadInstances(query, rule.id)).map(instanceOf), at, reason);
  await writeHistory(query, rule, changes);
  await query('DELETE FROM alert_instances WHERE rule_id = $1', [rule.id]);
}

/** Alert cursors (and ids): the rule id and the instance key. */
export function alertId(ruleId: string, key: string): string {
  return Buffer.from(JSON.stringify([ruleId, key])).toString('base64url');
}

function decodeAlertCursor(cursor: string): [string, string] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string')
      return [parsed[0], parsed[1]];
  } catch {
    // Not JSON: reported below like any other malformed cursor.
  }
  throw heimdallError('BAD_USER_INPUT', { message: 'after: not the id of an alert', details: { argument: 'after' } });
}

interface AlertRow extends InstanceRow {
  rule_name: string;
  severity: string;
  rule_labels: Labels;
  annotations: Record<string, string>;
}

/** Alert instances, their evaluation and history in PostgreSQL. */
export class AlertsStore {
  constructor(private readonly postgres: PostgresStore) {}

  /**
   * Records one evaluation of a rule at `at` in one transaction: `evaluate` gets the rule's stored instances and
   * its finished result replaces them; its state changes go into the history, to be published. The rule's
   * row in alert_rule_evaluations is locked meanwhile, so that a time already evaluated (by this instance or
   * another) is never evaluated twice, and a later one that got there first wins.
   */
  recordEvaluation(
    rule: Pick<RuleIdentity, 'id' | 'version'>,
    at: number,
    evaluate: (previous: readonly AlertInstance[]) => FinishedEvaluation,
    outcome: { readonly durationMs: number; readonly error: string | null },
  ): Promise<EvaluationRecord> {
    return this.postgres.transaction(async (query): Promise<EvaluationRecord> => {
      const [live] = await query<{ enabled: boolean }>('SELECT enabled FROM alert_rules WHERE id = $1 FOR SHARE', [
        rule.id,
      ]);
      if (live?.enabled !== true) return { kind: 'gone' };
      const [last] = await query<{ last: Date }>(
        `INSERT INTO alert_rule_evaluations (rule_id, last_evaluated_at) VALUES ($1, 'epoch')
         ON CONFLICT (rule_id) DO UPDATE SET rule_id = EXCLUDED.rule_id RETURNING last_evaluated_at AS last`,
        [rule.id],
      );
      if (last !== undefined && last.last.getTime() >= at) return { kind: 'stale' };

      const rows = await loadInstances(query, rule.id);
      const since = new Map(rows.map((row) => [row.instance_key, row.since.getTime()]));
      const { instances, transitions, changes } = evaluate(rows.map(instanceOf));
      const stored = instances.map(({ instance, service, annotations, changed }) => {
        const { state } = instance;
        return {
          instance_key: instance.key,
          labels: instance.labels,
          service,
          state: state.state.toLowerCase(),
          since: iso(changed ? at : (since.get(instance.key) ?? at)),
          value: state.value,
          active_at: iso(state.activeAt),
          fired_at: iso(state.firedAt),
          resolved_at: iso(state.resolvedAt),
          keep_firing_since: iso(state.keepFiringSince),
          last_evaluated_at: iso(state.lastEvaluatedAt),
          error: state.error,
          changes: state.changes,
          annotations,
        };
      });
      await query(
        `INSERT INTO alert_instances (rule_id, instance_key, labels, service, state, since, value, active_at, fired_at, resolved_at,
           keep_firing_since, last_evaluated_at, error, changes, annotations, rule_version)
         SELECT $1, x.instance_key, x.labels, x.service, x.state, x.since, x.value, x.active_at, x.fired_at, x.resolved_at,
           x.keep_firing_since, x.last_evaluated_at, x.error, x.changes, x.annotations, $2
         FROM jsonb_to_recordset($3::jsonb) AS x(instance_key text, labels jsonb, service text, state text, since timestamptz, value float8,
           active_at timestamptz, fired_at timestamptz, resolved_at timestamptz, keep_firing_since timestamptz, last_evaluated_at timestamptz,
           error text, changes jsonb, annotations jsonb)
         ON CONFLICT (rule_id, instance_key) DO UPDATE SET labels = EXCLUDED.labels, service = EXCLUDED.service, state = EXCLUDED.state,
           since = EXCLUDED.since, value = EXCLUDED.value, active_at = EXCLUDED.active_at, fired_at = EXCLUDED.fired_at,
           resolved_at = EXCLUDED.resolved_at, keep_firing_since = EXCLUDED.keep_firing_since, last_evaluated_at = EXCLUDED.last_evaluated_at,
           error = EXCLUDED.error, changes = EXCLUDED.changes, annotations = EXCLUDED.annotations, rule_version = EXCLUDED.rule_version`,
        [rule.id, rule.version, JSON.stringify(stored)],
      );
      await query('DELETE FROM alert_instances WHERE rule_id = $1 AND instance_key <> ALL($2::text[])', [
        rule.id,
        instances.map((i) => i.instance.key),
      ]);
      await writeHistory(query, rule, changes);
      await query(
        `UPDATE alert_rule_evaluations SET last_evaluated_at = $2, evaluations = evaluations + 1, last_duration_ms = $3, last_error = $4 WHERE rule_id = $1`,
        [rule.id, new Date(at), outcome.durationMs, outcome.error],
      );
      return { kind: 'recorded', instances: instances.map((i) => i.instance), transitions };
    });
  }

  /** Current instances, by rule and label set, `first` at a time after the id of the previous page's last. */
  async list(filter: AlertFilter, first: number, after: string | null): Promise<StoredAlert[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const param = (value: unknown) => `$${values.push(value)}`;
    if (filter.ruleId) where.push(`i.rule_id = ${param(filter.ruleId)}`);
    if (filter.states) where.push(`i.state = ANY(${param(filter.states.map((s) => s.toLowerCase()))})`);
    if (filter.service) where.push(`i.service = ${param(filter.service)}`);
    if (after !== null) {
      const [ruleId, key] = decodeAlertCursor(after);
      where.push(`(i.rule_id::text, i.instance_key) > (${param(ruleId)}, ${param(key)})`);
    }
    const rows = await this.postgres.query<AlertRow>(
      `SELECT ${INSTANCE_COLUMNS}, i.annotations, r.name AS rule_name, r.severity, r.labels AS rule_labels
       FROM alert_instances i JOIN alert_rules r ON r.id = i.rule_id
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY i.rule_id::text, i.instance_key LIMIT ${param(first)}`,
      values,
      { idempotent: true },
    );
    return rows.map((row) => {
      const instance = instanceOf(row);
      return {
        ...instance,
        ruleId: row.rule_id,
        ruleName: row.rule_name,
        severity: row.severity.toUpperCase() as Severity,
        ruleLabels: row.rule_labels,
        annotations: row.annotations,
        since: row.since,
      };
    });
  }

  /** The state changes of a rule's alerts in [from, to), newest first. */
  async history(ruleId: string, from: number, to: number, limit: number): Promise<StoredTransition[]> {
    const rows = await this.postgres.query<{ id: string; rule_id: string; event: AlertStateChange }>(
      `SELECT id::text, rule_id, event FROM alert_state_history WHERE rule_id = $1 AND at >= $2 AND at < $3 ORDER BY at DESC, id DESC LIMIT $4`,
      [ruleId, new Date(from), new Date(to), limit],
      { idempotent: true },
    );
    return rows.map(({ id, rule_id, event }) => ({
      id,
      ruleId: rule_id,
      labels: event.labels,
      from: event.from,
      to: event.to,
      at: new Date(event.at),
      value: event.value,
      annotations: event.annotations,
      reason: event.reason,
    }));
  }

  /**
   * Publishes the oldest state changes not yet published (at most `limit`), in one transaction: rows another
   * instance is publishing are skipped, and a row is marked published only once `publish` has resolved.
   */
  publishPending(publish: (changes: readonly AlertStateChange[]) => Promise<void>, limit: number): Promise<number> {
    return this.postgres.transaction(async (query) => {
      const rows = await query<{ id: string; event: Omit<AlertStateChange, 'id'> }>(
        'SELECT id::text, event FROM alert_state_history WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED',
        [limit],
      );
      if (rows.length === 0) return 0;
      await publish(rows.map(({ id, event }) => ({ ...event, id })));
      await query('UPDATE alert_state_history SET published_at = now() WHERE id = ANY($1::bigint[])', [
        rows.map((r) => r.id),
      ]);
      return rows.length;
    });
  }
}
