import type pg from 'pg';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import type { ResiliencePolicy } from '@heimdall/shared';

export const typeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  type Service @key(fields: "name") {
    name: String!
    "Alert rules labelled with this service. Null when the alerts store cannot be read."
    rules: [AlertRule!]
  }

  enum Severity {
    LOW
    MEDIUM
    HIGH
    CRITICAL
  }

  type AlertRule @key(fields: "id") {
    id: ID!
    name: String!
    description: String!
    severity: Severity!
    enabled: Boolean!
    createdAt: String!
    updatedAt: String!
    version: Int!
  }
`);

export interface AlertsContext {
  readonly pool: pg.Pool;
  readonly policy: ResiliencePolicy;
}

interface RuleRow {
  id: string;
  name: string;
  description: string;
  severity: string;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
  version: number;
}

const RULE_COLUMNS = 'id, name, description, severity, enabled, created_at, updated_at, version';

function toRule(row: RuleRow) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    severity: row.severity.toUpperCase(),
    enabled: row.enabled,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    version: row.version,
  };
}

export function buildSchema() {
  // The module-list form types each resolver's context as the service's own, not unknown.
  return buildSubgraphSchema([{
    typeDefs,
    resolvers: {
      Service: {
        __resolveReference: (ref: { name: string }) => ({ name: ref.name }),
        rules: async (service: { name: string }, _: unknown, ctx: AlertsContext) => {
          const { rows } = await ctx.policy.execute(
            () =>
              ctx.pool.query<RuleRow>(
                `SELECT ${RULE_COLUMNS} FROM alert_rules WHERE labels ->> 'service' = $1 ORDER BY name, id LIMIT 1000`,
                [service.name],
              ),
            { idempotent: true },
          );
          return rows.map(toRule);
        },
      },
      AlertRule: {
        __resolveReference: async (ref: { id: string }, ctx: AlertsContext) => {
          const { rows } = await ctx.policy.execute(
            () => ctx.pool.query<RuleRow>(`SELECT ${RULE_COLUMNS} FROM alert_rules WHERE id = $1`, [ref.id]),
            { idempotent: true },
          );
          return rows[0] === undefined ? null : toRule(rows[0]);
        },
      },
    },
  }]);
}
