import { createRequire } from 'node:module';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type * as GraphQLJs from 'graphql';

/**
 * graphql-js as Apollo's packages load it (CommonJS). The catalog schema comes from @apollo/subgraph, and graphql-js
 * refuses a schema from another copy of itself: under Node both are the CommonJS build anyway, but vitest gives
 * our own imports the ESM one.
 */
const graphql = createRequire(import.meta.url)('graphql') as typeof GraphQLJs;

/** Documents kept; the planner sends the catalog the same few operations over and over. */
const MAX_DOCUMENTS = 1000;

/**
 * Runs the catalog's part of a query plan in-process, like Apollo's LocalGraphQLDataSource, but parses and
 * validates each distinct operation once: LocalGraphQLDataSource does both on every call (≈0.3 ms, against
 * ≈0.01 ms to execute a cached document).
 */
export class CatalogDataSource implements GraphQLDataSource {
  private readonly documents = new Map<
    string,
    { document: GraphQLJs.DocumentNode } | { errors: readonly GraphQLJs.GraphQLError[] }
  >();

  constructor(private readonly schema: GraphQLJs.GraphQLSchema) {}

  async process({ request, context }: GraphQLDataSourceProcessOptions): Promise<GatewayGraphQLResponse> {
    const prepared = this.prepare(request.query ?? '');
    if ('errors' in prepared) return { errors: prepared.errors };
    const result = await graphql.execute({
      schema: this.schema,
      document: prepared.document,
      variableValues: request.variables,
      operationName: request.operationName,
      contextValue: context,
    });
    return result;
  }

  private prepare(query: string) {
    const known = this.documents.get(query);
    if (known !== undefined) return known;
    let prepared: { document: GraphQLJs.DocumentNode } | { errors: readonly GraphQLJs.GraphQLError[] };
    try {
      const document = graphql.parse(query);
      const errors = graphql.validate(this.schema, document);
      prepared = errors.length === 0 ? { document } : { errors };
    } catch (error) {
      prepared = { errors: [error as GraphQLJs.GraphQLError] };
    }
    if (this.documents.size >= MAX_DOCUMENTS) this.documents.clear();
    this.documents.set(query, prepared);
    return prepared;
  }
}
