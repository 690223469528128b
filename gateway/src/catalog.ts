import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';

/**
 * The entry points to the shared `Service` entity, served inside the gateway. Each signal's fields on Service
 * then come from its own subgraph through entity fetches, so one subgraph being down costs only its own fields.
 */
export const CATALOG_NAME = 'catalog';

export const catalogTypeDefs = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  type Service @key(fields: "name") {
    name: String!
  }

  type Query {
    "One service by name; its fields come from each signal's subgraph."
    service(name: String!): Service!
  }
`);

export function buildCatalogSchema() {
  return buildSubgraphSchema([{
    typeDefs: catalogTypeDefs,
    resolvers: {
      Query: { service: (_: unknown, args: { name: string }) => ({ name: args.name }) },
      Service: { __resolveReference: (ref: { name: string }) => ({ name: ref.name }) },
    },
  }]);
}
