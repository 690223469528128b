import { heimdallError } from '@heimdall/shared';
import type { PostgresStore } from './postgres.js';

/** An alert rule as the alerts store returns it. */
export interface RuleRecord {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly severity: string;
  readonly enabled: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly version: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RULE_COLUMNS = 'id, name, description, severity, enabled, created_at AS "createdAt", updated_at AS "updatedAt", version';

/** An id as the rules table keys it; anything else is the caller's mistake, said before any query runs. */
export function ruleId(id: string, argument = 'id'): string {
  if (!UUID.test(id)) throw heimdallError('BAD_USER_INPUT', { message: `${argument}: "${id}" is not a rule id (a UUID)`, details: { argument } });
  return id.toLowerCase();
}

/** The rules' SQL. */
export class RulesStore {
  constructor(private readonly postgres: PostgresStore) {}

  async byId(id: string): Promise<RuleRecord | undefined> {
    const [row] = await this.postgres.query<RuleRecord>(`SELECT ${RULE_COLUMNS} FROM alert_rules WHERE id = $1`, [ruleId(id)], { idempotent: true });
    return row;
  }

  forService(service: string, limit: number): Promise<RuleRecord[]> {
    return this.postgres.query<RuleRecord>(
      `SELECT ${RULE_COLUMNS} FROM alert_rules WHERE labels ->> 'service' = $1 ORDER BY name, id LIMIT $2`,
      [service, limit],
      { idempotent: true },
    );
  }
}
