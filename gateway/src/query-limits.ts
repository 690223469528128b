/**
 * GraphQL limits checked before any planning (SPEC §8): depth, aliases and directives as validation rules
 * (graphql-armor), cost once the variables are known (a list's selection counts as many times as the size it asks
 * for). Over a limit the answer is 400 LIMIT_EXCEEDED naming the limit (`extensions.limit`) and no subgraph is
 * called. Tokens and batch size are checked earlier still, on the HTTP request (request-limits.ts).
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
  valueFromASTUntyped,
} from 'graphql';
import { type HeimdallError, graphqlErrorWithStatus, heimdallError } from '@heimdall/shared';

export interface QueryLimits {
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxDirectives: number;
  readonly maxCost: number;
  /** The size assumed for a list that asks for none. */
  readonly defaultListSize: number;
  /** With introspection off, "Did you mean …" suggestions would reveal the schema all the same. */
  readonly blockFieldSuggestions: boolean;
}

/** LIMIT_EXCEEDED naming the limit, e.g. `limitExceeded('depth', 'Query depth limit of 10 exceeded, found 12.', 10)`. */
export function limitExceeded(limit: string, message: string, max: number): HeimdallError {
  return heimdallError('LIMIT_EXCEEDED', { message, details: { limit, max } });
}

/** Validation rules and plugins for Apollo Server: the graphql-armor protections, with catalog errors. */
export function queryLimitProtections(limits: QueryLimits): { validationRules: ValidationRule[]; plugins: ApolloServerPlugin<BaseContext>[] } {
  const report = (limit: string, max: number) => (context: ValidationContext | null, error: GraphQLError) => {
    // armor words its refusals as syntax errors; they are limits.
    const message = error.message.replace(/^Syntax Error: /, '');
    context?.reportError(new GraphQLError(message, { originalError: limitExceeded(limit, message, max) }));
  };
  const protection = (limit: string, n: number) => ({ n, exposeLimits: true, propagateOnRejection: false, onReject: [report(limit, n)] });
  const { validationRules, plugins } = new ApolloArmor({
    // Depth counts fields: a fragment is no level of its own.
    maxDepth: { ...protection('depth', limits.maxDepth), flattenFragments: true },
    maxAliases: protection('aliases', limits.maxAliases),
    maxDirectives: protection('directives', limits.maxDirectives),
    costLimit: { enabled: false },
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: limits.blockFieldSuggestions },
  }).protect();
  return { validationRules, plugins: [...(plugins as ApolloServerPlugin<BaseContext>[]), costPlugin(limits)] };
}

/** Arguments that say how many items a list field returns. */
const SIZE_ARGUMENTS = ['limit', 'first', 'last', 'pageSize'];

/**
 * The parts of a schema type the cost walks, read by shape rather than with graphql-js's `isObjectType` & co: the
 * gateway's schema comes from @apollo/gateway's copy of graphql-js, and a copy's type guards do not recognise
 * another copy's types (as under vitest, which loads the ESM build for our code and the CJS one for Apollo's).
 */
interface TypeShape {
  readonly name?: string;
  readonly ofType?: TypeShape;
  readonly getFields?: () => Readonly<Record<string, FieldShape>>;
  toString(): string;
}

/** A field of an object or interface type, or of an input object (which has a default value, not arguments). */
interface FieldShape {
  readonly type: TypeShape;
  readonly args: readonly { readonly name: string; readonly type: TypeShape; readonly defaultValue: unknown }[];
  readonly defaultValue?: unknown;
}

function namedType(type: TypeShape): TypeShape {
  let named = type;
  while (named.ofType !== undefined) named = named.ofType;
  return named;
}

/** 0 for a single value, 1 for `[T]`, 2 for `[[T]]`… */
function listDepth(type: TypeShape): number {
  return String(type).split('[').length - 1;
}

/** Interfaces and unions: a selection on them takes one of several shapes. */
function isAbstract(type: TypeShape): boolean {
  return 'resolveType' in type;
}

/** A size argument in `value` (the arguments of a field, or an input object), given or by its default. */
function sizeFrom(value: unknown, inputType: TypeShape | undefined): number | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const inputFields = inputType === undefined ? undefined : namedType(inputType).getFields?.();
  for (const name of SIZE_ARGUMENTS) {
    const size = (value as Record<string, unknown>)[name] ?? inputFields?.[name]?.defaultValue;
    if (typeof size === 'number' && Number.isFinite(size) && size >= 0) return size;
  }
  return undefined;
}

/** The size a list field asks for: a size argument (given, or its default), or one inside an input object. */
function requestedSize(field: FieldShape, node: FieldNode, variables: Record<string, unknown>): number | undefined {
  const given = new Map((node.arguments ?? []).map((argument) => [argument.name.value, valueFromASTUntyped(argument.value, variables)]));
  const values = Object.fromEntries(field.args.map((arg) => [arg.name, given.has(arg.name) ? given.get(arg.name) : arg.defaultValue]));
  const direct = sizeFrom(values, undefined);
  if (direct !== undefined) return direct;
  for (const arg of field.args) {
    const size = sizeFrom(values[arg.name], arg.type);
    if (size !== undefined) return size;
  }
  return undefined;
}

/**
 * What an operation may cost: every field counts 1, and a field returning a list counts its selection (or 1, for
 * scalars) once per item it asks for (`limit`, `first`, `last` or `pageSize`, also inside an input object; else
 * `defaultListSize`), so nested lists multiply. Abstract types count their costliest fragment.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  defaultListSize: number,
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);

  const costOf = (set: SelectionSetNode, type: TypeShape, seen: ReadonlySet<string>): number => {
    let total = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const field = type.getFields?.()[selection.name.value];
        if (field === undefined) continue;
        const lists = listDepth(field.type);
        // An item of a list of scalars counts 1, an object its selection.
        const perItem = selection.selectionSet === undefined ? (lists === 0 ? 0 : 1) : costOf(selection.selectionSet, namedType(field.type), seen);
        const size = lists === 0 ? 1 : (requestedSize(field, selection, variables) ?? defaultListSize) * defaultListSize ** (lists - 1);
        total += 1 + size * perItem;
      } else {
        const fragment = selection.kind === Kind.FRAGMENT_SPREAD ? fragments.get(selection.name.value) : selection;
        if (fragment === undefined || (selection.kind === Kind.FRAGMENT_SPREAD && seen.has(selection.name.value))) continue;
        const condition = fragment.typeCondition === undefined ? type : (schema.getType(fragment.typeCondition.name.value) as TypeShape | null | undefined);
        if (condition === undefined || condition === null) continue;
        const next = selection.kind === Kind.FRAGMENT_SPREAD ? new Set([...seen, selection.name.value]) : seen;
        // On an abstract type each fragment is one possible shape: the costliest counts, not their sum.
        const cost = costOf(fragment.selectionSet, condition, next);
        total = isAbstract(type) ? Math.max(total, cost) : total + cost;
      }
    }
    return total;
  };

  const root = schema.getRootType(operation.operation) as TypeShape | null | undefined;
  return root === undefined || root === null ? 0 : costOf(operation.selectionSet, root, new Set());
}

/** Refuses an operation over the cost limit once its variables are known, before the gateway plans it. */
function costPlugin(limits: QueryLimits): ApolloServerPlugin<BaseContext> {
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ schema, document, operation, request }) {
          if (operation === undefined) return Promise.resolve();
          const cost = operationCost(schema, document, operation, request.variables ?? {}, limits.defaultListSize);
          if (cost <= limits.maxCost) return Promise.resolve();
          const error = limitExceeded('cost', `Query cost limit of ${limits.maxCost} exceeded, found ${cost}.`, limits.maxCost);
          return Promise.reject(graphqlErrorWithStatus(error, 400));
        },
      });
    },
  };
}
