import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import type { CallerContext } from '@heimdall/shared/auth';
import { badUserInput } from '@heimdall/shared/user-input';
import type { ApiKeyRecord, ApiKeys } from './api-keys.js';

/**
 * The gateway's own subgraph, served in-process: the entry points to the shared `Service` entity (each signal's
 * fields on Service then come from its own subgraph through entity fetches, so one subgraph being down costs only
 * its own fields), and the API keys agents push with, which only admins see and manage (access.ts in shared).
 */
export const CATALOG_NAME = 'catalog';

export const catalogTypeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  type Service @key(fields: "name") {
    name: String!
  }

  "What an API key may do: AGENT ingests only (:4318 and /api/v1/logs); VIEWER reads only (GraphQL queries, the query APIs)."
  enum ApiKeyRole {
    AGENT
    VIEWER
  }
  "An API key for agents or read-only tools. Heimdall keeps only its hash."
  type ApiKey {
    id: ID!
    name: String!
    role: ApiKeyRole!
    createdAt: String!
    "The subject of the admin who created it."
    createdBy: String!
  }

  type CreatedApiKey {
    apiKey: ApiKey!
    "The key, shown only in this answer: send it as \`Authorization: Bearer <key>\` or \`x-api-key: <key>\`."
    key: String!
  }

  type Query {
    "One service by name; its fields come from each signal's subgraph."
    service(name: String!): Service!
    "Every API key, oldest first (admins only)."
    apiKeys: [ApiKey!]!
  }

  type Mutation {
    "Creates an API key (admins only), for an agent by default or a read-only VIEWER (a Grafana data source, a script); the key is in this answer and never again."
    createApiKey(name: String!, role: ApiKeyRole = AGENT): CreatedApiKey!
    "Revokes an API key (admins only): it stops working on every gateway instance within 5 s. False when there is no such key."
    revokeApiKey(id: ID!): Boolean!
  }
`);

const MAX_NAME_LENGTH = 100;

/** A key's record as the schema shows it: its role as the enum. */
function apiKeyAnswer(record: ApiKeyRecord) {
  return { ...record, role: record.role === 'viewer' ? 'VIEWER' : 'AGENT' };
}

export interface CatalogDeps {
  readonly apiKeys: ApiKeys;
}

export function buildCatalogSchema(deps: CatalogDeps) {
  return buildSubgraphSchema([
    {
      typeDefs: catalogTypeDefs,
      resolvers: {
        Query: {
          service: (_: unknown, args: { name: string }) => ({ name: args.name }),
          apiKeys: async () => (await deps.apiKeys.list()).map(apiKeyAnswer),
        },
        Mutation: {
          createApiKey: async (
            _: unknown,
            args: { name: string; role?: 'AGENT' | 'VIEWER' | null },
            context: CallerContext,
          ) => {
            const name = args.name.trim();
            if (name === '' || name.length > MAX_NAME_LENGTH) {
              throw badUserInput('name', `1 to ${MAX_NAME_LENGTH} characters`);
            }
            const role = args.role === 'VIEWER' ? 'viewer' : 'agent';
            const { record, key } = await deps.apiKeys.create(name, context.caller?.subject ?? 'unknown', role);
            return { apiKey: apiKeyAnswer(record), key };
          },
          revokeApiKey: (_: unknown, args: { id: string }) => deps.apiKeys.revoke(args.id),
        },
        Service: { __resolveReference: (ref: { name: string }) => ({ name: ref.name }) },
      },
    },
  ]);
}
