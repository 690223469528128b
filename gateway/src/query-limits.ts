/**
 * GraphQL limits checked before any planning (SPEC §8): depth, aliases and directives as validation rules
 * (graphql-armor), cost twice: as the first validation rule, before any other rule walks the document, with each
 * size taken from a variable counted as the least allowed; then once the variables are known. A list's selection
 * counts as many times as the size it asks for. Over a limit the answer is 400 LIMIT_EXCEEDED naming the limit
 * (`extensions.limit`) and no subgraph is called. Tokens and batch size are checked earlier still, on the HTTP
 * request (request-limits.ts).
 *
 * Every walk here is linear in the document's text: a fragment spread ten times, each spreading the next ten
 * times, expands to 10^n selections, so each fragment is measured once and its measure reused.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  type ASTVisitor,
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
  type ValueNode,
  valueFromASTUntyped,
} from 'graphql';
import { graphqlErrorWithStatus } from '@heimdall/shared/auth';
import { type HeimdallError, heimdallError } from '@heimdall/shared/errors';

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

/** Validation rules and plugins for Apollo Server: the cost pre-check and the graphql-armor protections, with catalog errors. */
export function queryLimitProtections(limits: QueryLimits): {
  validationRules: ValidationRule[];
  plugins: ApolloServerPlugin<BaseContext>[];
} {
  const report = (limit: string, max: number) => (context: ValidationContext | null, error: GraphQLError) => {
    // armor words its refusals as syntax errors; they are limits.
    const message = error.message.replace(/^Syntax Error: /, '');
    context?.reportError(new GraphQLError(message, { originalError: limitExceeded(limit, message, max) }));
  };
  const protection = (limit: string, n: number) => ({
    n,
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [report(limit, n)],
  });
  const { validationRules, plugins } = new ApolloArmor({
    // Depth counts fields: a fragment is no level of its own.
    maxDepth: { ...protection('depth', limits.maxDepth), flattenFragments: true },
    // `__typename` counts like any field: ten thousand aliases of it cost as much to plan and answer as any others.
    maxAliases: { ...protection('aliases', limits.maxAliases), allowList: [] },
    maxDirectives: protection('directives', limits.maxDirectives),
    costLimit: { enabled: false },
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: limits.blockFieldSuggestions },
  }).protect();
  return {
    validationRules: [costPreCheckRule(limits), ...validationRules],
    plugins: [...(plugins as ApolloServerPlugin<BaseContext>[]), operationPlugin(limits)],
  };
}

/** Arguments that say how many items a list field returns. */
const SIZE_ARGUMENTS: ReadonlySet<string> = new Set(['limit', 'first', 'last', 'pageSize']);

/** The least size a size argument may ask for; also what a size from a variable not known yet counts as. */
const MIN_SIZE = 1;

/** A variable whose value is not known yet (the pre-check, during validation). */
const UNKNOWN = Symbol('unknown variable');

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
function isAbstract(type: TypeShape | undefined): boolean {
  return type !== undefined && 'resolveType' in type;
}

/** Object types, read by shape: they have `isTypeOf` where interfaces and unions have `resolveType`. */
function isObjectShape(type: TypeShape | undefined): boolean {
  return type !== undefined && 'isTypeOf' in type;
}

const META_FIELD_TYPES: ReadonlyMap<string, string> = new Map([
  ['__typename', 'String'],
  ['__schema', '__Schema'],
  ['__type', '__Type'],
]);

/**
 * The field `name` of `type`, the introspection fields included: `__typename` is a String on every type, and
 * `__schema` and `__type` on the query type walk the introspection types like any other.
 */
function fieldOf(schema: GraphQLSchema, type: TypeShape | undefined, name: string): FieldShape | undefined {
  const own = type?.getFields?.()[name];
  if (own !== undefined) return own;
  const meta = META_FIELD_TYPES.get(name);
  const metaType = meta === undefined ? undefined : (schema.getType(meta) as TypeShape | null | undefined);
  return metaType === undefined || metaType === null ? undefined : { type: metaType, args: [] };
}

/**
 * A size argument that is not a whole number of at least 1 (`first: 0`, `limit: -5`, `$n` = 2.5); thrown inside
 * the walk to end it at the first one.
 */
export class InvalidSize extends Error {
  constructor(
    readonly argument: string,
    readonly value: unknown,
  ) {
    super(`${argument} must be a whole number of at least ${MIN_SIZE}, got ${JSON.stringify(value) ?? String(value)}`);
  }

  error(): HeimdallError {
    return heimdallError('BAD_USER_INPUT', { message: this.message, details: { argument: this.argument } });
  }
}

/** What an operation costs, or the size argument that makes it invalid. */
export type CostResult =
  | { readonly cost: number; readonly invalid?: undefined }
  | { readonly cost?: undefined; readonly invalid: InvalidSize };

/** The value of an argument: variables read from `variables`, or UNKNOWN while they are not known. */
function valueOf(node: ValueNode, variables: Readonly<Record<string, unknown>> | undefined): unknown {
  if (node.kind === Kind.VARIABLE) return variables === undefined ? UNKNOWN : variables[node.name.value];
  if (node.kind === Kind.OBJECT)
    return Object.fromEntries(node.fields.map((field) => [field.name.value, valueOf(field.value, variables)]));
  if (node.kind === Kind.LIST) return node.values.map((value) => valueOf(value, variables));
  return valueFromASTUntyped(node);
}

/** A size argument's value as a size: undefined when there is none, else a whole number ≥ 1 or the reason it is not. */
function asSize(argument: string, value: unknown): number | InvalidSize | undefined {
  if (value === UNKNOWN) return MIN_SIZE;
  if (value === undefined || value === null) return undefined;
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= MIN_SIZE
    ? value
    : new InvalidSize(argument, value);
}

/** Whether `name: type` says how many items a list returns: a size argument's name, on an Int. */
function isSize(name: string, type: TypeShape): boolean {
  return SIZE_ARGUMENTS.has(name) && namedType(type).name === 'Int';
}

/** The size inside an input object argument (`filter: { limit: 10 }`), given or by its default. */
function sizeIn(value: unknown, inputType: TypeShape, path: string): number | InvalidSize | undefined {
  const sizes = Object.entries(namedType(inputType).getFields?.() ?? {}).filter(([name, field]) =>
    isSize(name, field.type),
  );
  if (sizes.length === 0) return undefined;
  // An input object from a variable not known yet asks for the least size it may.
  if (value === UNKNOWN) return MIN_SIZE;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  for (const [name, field] of sizes) {
    const size = asSize(`${path}.${name}`, (value as Record<string, unknown>)[name] ?? field.defaultValue);
    if (size !== undefined) return size;
  }
  return undefined;
}

/**
 * The size a field asks for: a size argument (given, or its default), or one inside an input object. An argument
 * not given, or a variable without a value, takes the argument's default, as GraphQL's coercion does.
 */
function requestedSize(
  field: FieldShape,
  node: FieldNode,
  variables: Readonly<Record<string, unknown>> | undefined,
): number | InvalidSize | undefined {
  const given = new Map(
    (node.arguments ?? []).map((argument) => [argument.name.value, valueOf(argument.value, variables)]),
  );
  const valueOfArg = (arg: FieldShape['args'][number]) => given.get(arg.name) ?? arg.defaultValue;
  for (const arg of field.args) {
    const size = isSize(arg.name, arg.type) ? asSize(arg.name, valueOfArg(arg)) : undefined;
    if (size !== undefined) return size;
  }
  for (const arg of field.args) {
    const size = sizeIn(valueOfArg(arg), arg.type, arg.name);
    if (size !== undefined) return size;
  }
  return undefined;
}

/** The variables of `operation` as execution sees them: the given values, else the defaults it declares. */
function withDeclaredDefaults(
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const declared = (operation.variableDefinitions ?? []).flatMap((definition) =>
    definition.defaultValue === undefined
      ? []
      : [[definition.variable.name.value, valueFromASTUntyped(definition.defaultValue)] as const],
  );
  return { ...Object.fromEntries(declared), ...variables };
}

/**
 * What an operation may cost: every field counts 1 (`__typename` and introspection fields too), and a field
 * returning a list counts its selection (or 1, for scalars) once per item it asks for (`limit`, `first`, `last` or
 * `pageSize`, also inside an input object; else `defaultListSize`), so nested lists multiply. A size argument on a
 * field that returns one object (a page) sizes the lists directly in that object (the page's nodes). Abstract
 * types count their costliest shape. Without `variables`, each size taken from a variable counts as 1: the least
 * the operation can cost whatever they are.
 *
 * Linear in the text: a fragment's cost is computed once per page size it is spread under, then reused.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | undefined,
  defaultListSize: number,
): CostResult {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const values = variables === undefined ? undefined : withDeclaredDefaults(operation, variables);
  const known = new Map<string, number>();
  // A cycle of fragments is invalid (and refused by validation after this pre-check); meanwhile it adds nothing.
  const walking = new Set<string>();

  const fragmentCost = (fragment: FragmentDefinitionNode, pageSize: number | undefined): number => {
    const key = `${fragment.name.value}\u0000${pageSize ?? ''}`;
    const cached = known.get(key);
    if (cached !== undefined) return cached;
    if (walking.has(key)) return 0;
    walking.add(key);
    const condition = schema.getType(fragment.typeCondition.name.value) as TypeShape | null | undefined;
    const cost = costOf(fragment.selectionSet, condition ?? undefined, pageSize);
    walking.delete(key);
    known.set(key, cost);
    return cost;
  };

  const fieldCost = (selection: FieldNode, type: TypeShape | undefined, pageSize: number | undefined): number => {
    const field = fieldOf(schema, type, selection.name.value);
    // A field the schema lacks still counts (validation refuses it after this pre-check): text is no free lunch.
    if (field === undefined)
      return 1 + (selection.selectionSet === undefined ? 0 : costOf(selection.selectionSet, undefined, undefined));
    const asked = requestedSize(field, selection, values);
    if (asked instanceof InvalidSize) throw asked;
    const lists = listDepth(field.type);
    // A page (one object) with a size argument passes it on to its lists.
    const inner = lists === 0 ? asked : undefined;
    // An item of a list of scalars counts 1, an object its selection.
    const perItem =
      selection.selectionSet === undefined
        ? lists === 0
          ? 0
          : 1
        : costOf(selection.selectionSet, namedType(field.type), inner);
    const size = lists === 0 ? 1 : (asked ?? pageSize ?? defaultListSize) * defaultListSize ** (lists - 1);
    return 1 + size * perItem;
  };

  /**
   * On an abstract type, fragments on one object type are one possible shape: they add up among themselves, and
   * the costliest shape counts. Fields and fragments on the abstract type itself apply to every shape.
   */
  const costOf = (set: SelectionSetNode, type: TypeShape | undefined, pageSize: number | undefined): number => {
    let common = 0;
    const shapes = new Map<string, number>();
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        common += fieldCost(selection, type, pageSize);
        continue;
      }
      let conditionName: string | undefined;
      let cost: number;
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        if (fragment === undefined) continue;
        conditionName = fragment.typeCondition.name.value;
        cost = fragmentCost(fragment, pageSize);
      } else {
        conditionName = selection.typeCondition?.name.value;
        const condition =
          conditionName === undefined
            ? type
            : ((schema.getType(conditionName) as TypeShape | null | undefined) ?? undefined);
        cost = costOf(selection.selectionSet, condition, pageSize);
      }
      const shape =
        conditionName === undefined ? undefined : (schema.getType(conditionName) as TypeShape | null | undefined);
      if (isAbstract(type) && conditionName !== undefined && isObjectShape(shape ?? undefined)) {
        shapes.set(conditionName, (shapes.get(conditionName) ?? 0) + cost);
      } else {
        common += cost;
      }
    }
    return common + Math.max(0, ...shapes.values());
  };

  const root = schema.getRootType(operation.operation) as TypeShape | null | undefined;
  try {
    return { cost: root === undefined || root === null ? 0 : costOf(operation.selectionSet, root, undefined) };
  } catch (error) {
    if (error instanceof InvalidSize) return { invalid: error };
    throw error;
  }
}

/** The refusal for an operation's cost, if it is over the limit or asks for an invalid size. */
function costRefusal(result: CostResult, limits: QueryLimits): HeimdallError | undefined {
  if (result.invalid !== undefined) return result.invalid.error();
  if (result.cost <= limits.maxCost) return undefined;
  return limitExceeded('cost', `Query cost limit of ${limits.maxCost} exceeded, found ${result.cost}.`, limits.maxCost);
}

/**
 * The cost of each operation before any other validation rule walks the document: a document whose expansion is
 * over the limit whatever its variables is refused on the spot. graphql-js visits the rules in parallel, node by
 * node; returning null from the document's `enter` removes it from the walk, so no rule visits anything of it.
 */
function costPreCheckRule(limits: QueryLimits): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    Document: {
      enter(document) {
        for (const definition of document.definitions) {
          if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
          const refusal = costRefusal(
            operationCost(context.getSchema(), document, definition, undefined, limits.defaultListSize),
            limits,
          );
          if (refusal === undefined) continue;
          context.reportError(new GraphQLError(refusal.message, { originalError: refusal }));
          return null;
        }
        return undefined;
      },
    },
  });
}

/**
 * Once the operation is chosen and its variables are known, before the gateway plans it: an `operationName` that
 * names no operation (or none given for a document of several) is the client's mistake, 400 as GraphQL over HTTP
 * has it; then the exact cost.
 */
function operationPlugin(limits: QueryLimits): ApolloServerPlugin<BaseContext> {
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ schema, document, operation, request }) {
          if (operation === undefined) {
            const message =
              request.operationName === undefined || request.operationName === null
                ? 'Must provide operation name if query contains multiple operations.'
                : `Unknown operation named "${request.operationName}".`;
            return Promise.reject(graphqlErrorWithStatus(heimdallError('BAD_USER_INPUT', { message }), 400));
          }
          const refusal = costRefusal(
            operationCost(schema, document, operation, request.variables ?? {}, limits.defaultListSize),
            limits,
          );
          return refusal === undefined ? Promise.resolve() : Promise.reject(graphqlErrorWithStatus(refusal, 400));
        },
      });
    },
  };
}
