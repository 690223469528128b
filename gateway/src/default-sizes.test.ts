import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { composeServices } from '@apollo/composition';
import type * as graphql from 'graphql';
import {
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  buildSchema,
  getIntrospectionQuery,
  getNamedType,
  getNullableType,
  isInputObjectType,
  isLeafType,
  isListType,
  isObjectType,
  isUnionType,
  Kind,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { REPO_DIR } from '@heimdall/stack';
import { catalogTypeDefs } from './catalog.js';
import { gatewayEnvSchema } from './config.js';
import { operationCost, queryLimitProtections } from './query-limits.js';

const SUBGRAPHS = ['metrics', 'logs', 'traces', 'alerts'];
const SIZE_ARGUMENTS = new Set(['limit', 'first', 'last', 'pageSize']);
const defaults = gatewayEnvSchema.parse({ AUTH_DISABLED: 'true', SERVICE_AUTH_SECRET: 'x'.repeat(32) });

/** The supergraph's API schema as the gateway serves it: its own catalog and the four subgraphs' schemas. */
function supergraphSchema(): GraphQLSchema {
  const result = composeServices([
    { name: 'catalog', url: 'http://catalog', typeDefs: catalogTypeDefs },
    ...SUBGRAPHS.map((name) => ({
      name,
      url: `http://${name}`,
      typeDefs: parse(readFileSync(`${REPO_DIR}/subgraphs/${name}/src/schema.graphql`, 'utf8')),
    })),
  ]);
  if (result.errors !== undefined) throw new Error(result.errors.map(String).join('\n'));
  // Printed and built again with this module's copy of graphql-js (federation's is the CommonJS one), so its type guards work here.
  const federations = createRequire(import.meta.url)('graphql') as typeof graphql;
  return buildSchema(federations.printSchema(result.schema.toAPISchema().toGraphQLJSSchema()));
}

type Field = GraphQLField<unknown, unknown>;

/** A field a client can select without arguments of its own (they all have defaults or may be null). */
const selectable = (field: Field) =>
  field.args.every((arg) => arg.defaultValue !== undefined || !String(arg.type).endsWith('!'));
const sized = (field: Field) => field.args.some((arg) => SIZE_ARGUMENTS.has(arg.name));

/**
 * What a dashboard asks of an item: each of its scalars, and the scalars of each object it holds (an entry's
 * labels, a rule's state); lists sized by arguments of their own are left out, each is checked on its own.
 */
function itemSelection(type: GraphQLNamedType, levels = 1): string {
  if (isLeafType(type)) return '';
  if (isUnionType(type))
    return `{ __typename ${type
      .getTypes()
      .map((member) => `... on ${member.name} ${itemSelection(member, levels)}`)
      .join(' ')} }`;
  const parts = Object.values((type as GraphQLObjectType).getFields()).flatMap((field) => {
    if (!selectable(field) || sized(field)) return [];
    const named = getNamedType(field.type);
    if (isLeafType(named)) return [field.name];
    return levels > 0 ? [`${field.name} ${itemSelection(named, levels - 1)}`] : [];
  });
  return `{ ${parts.length > 0 ? parts.join(' ') : '__typename'} }`;
}

/** `name(required: $required)`, its variables' declarations, and values that leave every size at its default. */
function invocation(field: Field): { text: string; declarations: string[]; variables: Record<string, unknown> } {
  const required = field.args.filter((arg) => String(arg.type).endsWith('!') && arg.defaultValue === undefined);
  return {
    text: `${field.name}${required.length > 0 ? `(${required.map((arg) => `${arg.name}: $${arg.name}`).join(', ')})` : ''}`,
    declarations: required.map((arg) => `$${arg.name}: ${String(arg.type)}`),
    // An input object given without its size takes the size's default, as a client leaving it out gets.
    variables: Object.fromEntries(
      required.filter((arg) => isInputObjectType(getNamedType(arg.type))).map((arg) => [arg.name, {}]),
    ),
  };
}

const operation = (declarations: string[], selection: string) =>
  `query${declarations.length > 0 ? `(${declarations.join(', ')})` : ''} { ${selection} }`;

/** Every list field and every sized field, as a query: a root field directly, another through a root field returning one of its type. */
function listQueries(schema: GraphQLSchema): { name: string; query: string; variables: Record<string, unknown> }[] {
  const queries: { name: string; query: string; variables: Record<string, unknown> }[] = [];
  const isList = (field: Field) => isListType(getNullableType(field.type));
  const root = Object.values(schema.getQueryType()!.getFields());
  for (const field of root.filter((f) => isList(f) || sized(f))) {
    const { text, declarations, variables } = invocation(field);
    queries.push({
      name: `Query.${field.name}`,
      query: operation(declarations, `${text} ${itemSelection(getNamedType(field.type))}`),
      variables,
    });
  }
  for (const accessor of root.filter((f) => !isList(f) && isObjectType(getNamedType(f.type)))) {
    const type = getNamedType(accessor.type) as GraphQLObjectType;
    for (const field of Object.values(type.getFields()).filter(sized)) {
      const outer = invocation(accessor);
      const inner = invocation(field);
      queries.push({
        name: `${type.name}.${field.name}`,
        query: operation(
          [...outer.declarations, ...inner.declarations],
          `${outer.text} { ${inner.text} ${itemSelection(getNamedType(field.type))} }`,
        ),
        variables: { ...outer.variables, ...inner.variables },
      });
    }
  }
  return queries;
}

describe('default sizes', () => {
  const schema = supergraphSchema();
  const queries = listQueries(schema);

  it('finds the list fields of the supergraph', () => {
    expect(queries.map((q) => q.name)).toEqual(
      expect.arrayContaining([
        'Query.metricsByName',
        'Query.alertRules',
        'Query.logSearch',
        'Service.series',
        'AlertRule.changes',
      ]),
    );
  });

  it.each(queries.map((q) => [q.name, q] as const))(
    '%s, every field of its items selected, is within the default cost limit',
    (_name, { query, variables }) => {
      const document = parse(query);
      const operation = document.definitions[0]!;
      if (operation.kind !== Kind.OPERATION_DEFINITION) throw new Error('not an operation');
      const { cost } = operationCost(schema, document, operation, variables, defaults.GRAPHQL_DEFAULT_LIST_SIZE);
      expect(cost).toBeLessThanOrEqual(defaults.GRAPHQL_MAX_COST);
    },
  );

  it('lets the introspection query of GraphiQL and code generators through: introspection fields count, within the limits', () => {
    const { validationRules } = queryLimitProtections({
      maxDepth: defaults.GRAPHQL_MAX_DEPTH,
      maxAliases: defaults.GRAPHQL_MAX_ALIASES,
      maxDirectives: defaults.GRAPHQL_MAX_DIRECTIVES,
      maxCost: defaults.GRAPHQL_MAX_COST,
      defaultListSize: defaults.GRAPHQL_DEFAULT_LIST_SIZE,
      blockFieldSuggestions: false,
    });
    expect(validate(schema, parse(getIntrospectionQuery()), [...specifiedRules, ...validationRules])).toEqual([]);
  });
});
