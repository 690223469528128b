// Random GraphQL requests for the fuzz suite, made from the gateway's own schema: fields of every subgraph with
// arguments of the right type or a wrong one (sizes huge, negative or zero, ranges reversed, ids malformed), deep
// nesting, many aliases, fragments spreading fragments (an expansion exponential in the text), wrongly typed
// variables, operationName mistakes, batches and text that is no GraphQL at all.
import * as fc from 'fast-check';
import {
  type GraphQLArgument,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  getNamedType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
} from 'graphql';

/** What is posted to /graphql: a request, a batch of them, or a text that is neither. */
export interface GraphQLCase {
  readonly body: string;
  /** Which kind of request it is, for the report. */
  readonly kind: string;
}

class EnumValue {
  constructor(readonly name: string) {}
}
type Value = string | number | boolean | null | EnumValue | Value[] | { [key: string]: Value };

const SIZE_ARGUMENTS = new Set(['limit', 'first', 'last', 'pageSize']);
const MAX_FIELDS = 30;

/** Draws from `choices` by weight. */
function pick<T>(g: fc.GeneratorValue, choices: readonly (readonly [number, T])[]): T {
  const total = choices.reduce((sum, [weight]) => sum + weight, 0);
  let drawn = g(fc.integer, { min: 0, max: total - 1 });
  for (const [weight, value] of choices) {
    if (drawn < weight) return value;
    drawn -= weight;
  }
  return choices[0]![1];
}

const chance = (g: fc.GeneratorValue, percent: number) => g(fc.integer, { min: 0, max: 99 }) < percent;
const one = <T>(g: fc.GeneratorValue, values: readonly T[]): T =>
  values[g(fc.integer, { min: 0, max: values.length - 1 })]!;

function literal(value: Value): string {
  if (value instanceof EnumValue) return value.name;
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (value !== null && typeof value === 'object')
    return `{ ${Object.entries(value)
      .map(([k, v]) => `${k}: ${literal(v)}`)
      .join(', ')} }`;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'NaN';
  return JSON.stringify(value);
}

function asJson(value: Value): unknown {
  if (value instanceof EnumValue) return value.name;
  if (Array.isArray(value)) return value.map(asJson);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asJson(v)]));
  return value;
}

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

/** One request's document, built from the schema with draws of `g`. */
class DocumentBuilder {
  private fields = 0;
  private readonly fragments: string[] = [];
  private readonly variableDefinitions: string[] = [];
  private readonly variables: Record<string, unknown> = {};
  private maxDepth = 4;
  /** Whether mistakes are made too (unknown fields, wrong types, missing arguments), or only hostile values. */
  private hostile = true;

  constructor(
    private readonly g: fc.GeneratorValue,
    private readonly schema: GraphQLSchema,
    private readonly service: string,
  ) {}

  /** A string for an argument or input field called `name`, shaped as that name asks, or not. */
  private string(name: string): string {
    const { g } = this;
    // A lone surrogate has no escape in GraphQL's text: a syntax error, so only among the mistakes.
    if (chance(g, 10))
      return one(g, [
        '',
        ' ',
        '\u0000',
        'x'.repeat(5_000),
        '"',
        '\\',
        '{',
        '<em>',
        '데이터베이스',
        '%',
        '.*',
        '(a+)+$',
        '*',
        ...(this.hostile ? ['\ud800'] : []),
      ]);
    switch (name) {
      case 'from':
        return one(g, [
          minutesAgo(60),
          minutesAgo(5),
          minutesAgo(60 * 24),
          minutesAgo(60 * 24 * 100),
          '1970-01-01T00:00:00Z',
          minutesAgo(-60),
          'yesterday',
          '2026-02-30T25:00:00Z',
          '1700000000000',
        ]);
      case 'to':
        return one(g, [minutesAgo(0), minutesAgo(-5), minutesAgo(120), '9999-12-31T23:59:59Z', 'now', '0']);
      case 'step':
      case 'interval':
      case 'duration':
      case 'for':
        return one(g, ['1m', '30s', '1h', '1d', '0s', '-5m', '1ms', '1y', 'abc', '1', '999999h']);
      case 'service':
      case 'name':
      case 'services':
        return one(g, [this.service, this.service, 'checkout', 'fuzz_metric', 'http_requests_total']);
      case 'traceId':
        return one(g, ['5b8efff798038103d269b633813fc60c', '0'.repeat(32), 'xyz', 'ab'.repeat(17), 'AB'.repeat(16)]);
      case 'spanId':
        return one(g, ['eee19b7ec3c1b174', '0'.repeat(16), 'xyz']);
      case 'query':
        return one(g, [
          'error',
          '실패 AND service:checkout',
          '((((',
          '"unterminated',
          'labels.region:kr',
          'NOT',
          '-',
          'a OR b AND NOT (c OR "d e")',
          'x'.repeat(5_000),
          'traceId:abc*',
        ]);
      case 'search':
      case 'value':
      case 'regex':
        return one(g, ['http', '.*', '(', '', 'a|b', '[[:alpha:]]', 'x'.repeat(2_000)]);
      case 'after':
        return one(g, ['', 'bm90IGEgY3Vyc29y', '0', 'eyJ0IjoxfQ==', '{}']);
      default:
        return g(fc.string, { maxLength: 12 });
    }
  }

  private int(name: string): number {
    const sizes = [1, 1, 10, 100, 1_000, 1_001, 10_000, 1_000_000, 0, -5, 2_147_483_647];
    const out = this.hostile ? [2_147_483_648, -2_147_483_649] : [];
    return one(
      this.g,
      SIZE_ARGUMENTS.has(name) ? [...sizes, ...out] : [0, 1, -1, 5, 300, 2_147_483_647, -2_147_483_648, ...out],
    );
  }

  /** A value of `type` (rarely of another one). */
  private value(type: GraphQLInputType, name: string, depth = 0): Value {
    const { g } = this;
    if (this.hostile && chance(g, 4))
      return one<Value>(g, [null, 'wrong', 7, 1.5, true, [], new EnumValue('NOT_A_VALUE'), { unknownField: 1 }]);
    if (isNonNullType(type)) return this.value(type.ofType, name, depth);
    if (isListType(type)) {
      const length = pick(g, [
        [8, g(fc.integer, { min: 0, max: 3 })],
        [1, 200],
      ]);
      return Array.from({ length }, () => this.value(type.ofType, name, depth + 1));
    }
    if (isEnumType(type)) return new EnumValue(one(g, type.getValues()).name);
    if (isInputObjectType(type)) {
      if (depth > 4) return null;
      const object: Record<string, Value> = {};
      for (const field of Object.values(type.getFields())) {
        if (isNonNullType(field.type) || chance(g, 40))
          object[field.name] = this.value(field.type, field.name, depth + 1);
      }
      return object;
    }
    switch (type.name) {
      case 'Int':
        return this.int(name);
      case 'Float':
        return one(g, [0, 1.5, -1, 1e308, 0.0001, 99.9]);
      case 'Boolean':
        return g(fc.boolean);
      default:
        return this.string(name);
    }
  }

  /** An argument's value in the document, or a variable of the operation holding it (sometimes of the wrong type). */
  private argument(arg: GraphQLArgument): string {
    const { g } = this;
    const value = this.value(arg.type, arg.name);
    if (!chance(g, 15)) return literal(value);
    const name = `v${this.variableDefinitions.length}`;
    const declared =
      this.hostile && chance(g, 20)
        ? one(g, ['Int', 'String!', '[Int!]!', 'Boolean', 'TimeRangeInput!', 'Fuzz'])
        : String(arg.type);
    this.variableDefinitions.push(`$${name}: ${declared}`);
    // In a variable, a list can be long without costing tokens: 5,000 matchers took metrics down once.
    const json =
      this.hostile && chance(g, 10)
        ? one<unknown>(g, [
            'wrong',
            12,
            { a: 1 },
            [1, 2],
            null,
            Array.from({ length: 5_000 }, () => ({ key: 'k', op: 'EQ', value: 'v' })),
          ])
        : asJson(value);
    if (json !== undefined) this.variables[name] = json;
    return `$${name}`;
  }

  private fieldText(field: GraphQLField<unknown, unknown>, depth: number, aliasIndex?: number): string {
    const { g } = this;
    this.fields++;
    const alias = aliasIndex !== undefined ? `a${aliasIndex}: ` : chance(g, 15) ? `x${this.fields}: ` : '';
    const args = field.args.filter((arg) =>
      isNonNullType(arg.type) && arg.defaultValue === undefined ? !(this.hostile && chance(g, 3)) : chance(g, 40),
    );
    const argsText = args.length === 0 ? '' : `(${args.map((arg) => `${arg.name}: ${this.argument(arg)}`).join(', ')})`;
    const directive = chance(g, 5)
      ? one(
          g,
          this.hostile
            ? [' @include(if: true)', ' @fuzz', ' @include(if: "yes")', ' @deprecated']
            : [' @include(if: true)', ' @skip(if: false)'],
        )
      : '';
    const named = getNamedType(field.type);
    const selection = isCompositeType(named)
      ? ` ${this.selectionSet(named, depth + 1)}`
      : this.hostile && chance(g, 2)
        ? ' { name }'
        : '';
    return `${alias}${field.name}${argsText}${directive}${selection}`;
  }

  /** A selection on `type`, `depth` levels down. */
  selectionSet(type: GraphQLCompositeType, depth: number): string {
    const { g } = this;
    if (depth >= this.maxDepth || this.fields >= MAX_FIELDS)
      return this.hostile && chance(g, 3) ? '{ }' : '{ __typename }';
    if (isUnionType(type)) {
      const members = type.getTypes();
      return `{ __typename ${Array.from({ length: g(fc.integer, { min: 1, max: 2 }) }, () => {
        const member = one(g, members);
        return `... on ${member.name} ${this.selectionSet(member, depth)}`;
      }).join(' ')} }`;
    }
    const fields = Object.values(type.getFields());
    const parts: string[] = [];
    if (chance(g, 5)) {
      // Many aliases of one field (past GRAPHQL_MAX_ALIASES, 15, sometimes).
      const field = one(g, fields);
      const copies = g(fc.integer, { min: 2, max: 20 });
      for (let i = 0; i < copies; i++) parts.push(this.fieldText(field, depth, i));
    } else {
      const count = g(fc.integer, { min: 1, max: 3 });
      for (let i = 0; i < count; i++)
        parts.push(
          chance(g, 10)
            ? one(g, this.hostile ? ['__typename', 'fuzzUnknownField'] : ['__typename'])
            : this.fieldText(one(g, fields), depth),
        );
    }
    if (isInterfaceType(type) && chance(g, 50)) {
      const member = one(g, this.schema.getPossibleTypes(type));
      parts.push(`... on ${member.name} ${this.selectionSet(member, depth)}`);
    }
    if (isObjectType(type) && chance(g, 10)) {
      const selection = this.selectionSet(type, depth);
      const fragment = `F${this.fragments.length}`;
      this.fragments.push(`fragment ${fragment} on ${type.name} ${selection}`);
      parts.push(`...${fragment}`);
    }
    return `{ ${parts.join(' ')} }`;
  }

  /** An operation of the schema's query (or mutation) type, with its fragments, variables and operationName. */
  request(operation: 'query' | 'mutation'): string {
    const { g } = this;
    const root = operation === 'query' ? this.schema.getQueryType()! : this.schema.getMutationType()!;
    this.hostile = chance(g, 50);
    this.maxDepth = pick(g, [
      [6, g(fc.integer, { min: 1, max: 5 })],
      [3, g(fc.integer, { min: 6, max: 10 })],
      [1, g(fc.integer, { min: 11, max: 14 })],
    ]);
    const selection = this.selectionSet(root, 0);
    const name = chance(g, 40) ? 'Fuzz' : undefined;
    const variables = this.variableDefinitions.length === 0 ? '' : `(${this.variableDefinitions.join(', ')})`;
    const head =
      name === undefined && variables === '' && operation === 'query' && chance(g, 50)
        ? ''
        : `${operation} ${name ?? ''}${variables} `;
    let query = `${head}${selection} ${this.fragments.join(' ')}`.trim();
    const body: Record<string, unknown> = { query };
    const mistake = pick(g, [
      [this.hostile ? 12 : 100, 'none'],
      [1, 'unknown operationName'],
      [1, 'two operations, no operationName'],
      [1, 'two operations, named'],
      [1, 'operationName of a wrong type'],
      [1, 'variables of a wrong type'],
    ] as const);
    switch (mistake) {
      case 'none':
        if (name !== undefined && chance(g, 50)) body.operationName = name;
        break;
      case 'unknown operationName':
        body.operationName = one(g, ['Nope', '', 'fuzz', ' Fuzz']);
        break;
      case 'two operations, no operationName':
      case 'two operations, named':
        query = `${query.startsWith('{') ? `query Fuzz ${query}` : query} query Other { __typename }`;
        body.query = query;
        if (mistake === 'two operations, named') body.operationName = one(g, ['Other', 'Fuzz']);
        break;
      case 'operationName of a wrong type':
        body.operationName = one<unknown>(g, [1, [], {}, true]);
        break;
      case 'variables of a wrong type':
        body.variables = one<unknown>(g, ['{}', 1, [], true]);
        break;
    }
    if (Object.keys(this.variables).length > 0 && body.variables === undefined) body.variables = this.variables;
    return JSON.stringify(body);
  }
}

/** `levels` fragments on Query, each spreading the next `spread` times; the last selects `leaf`. */
function exponential(g: fc.GeneratorValue): string {
  const levels = g(fc.integer, { min: 2, max: 10 });
  const spread = g(fc.integer, { min: 2, max: 10 });
  const leaf = one(g, [
    '__typename',
    `__typename ${Array.from({ length: 10 }, (_, i) => `a${i}: __typename`).join(' ')}`,
    'validateLogQuery(query: "a") { valid }',
    'services(limit: 1) { name }',
    'metricNames(limit: 1) { name }',
  ]);
  const via = one(g, ['spread', 'inline', 'cycle'] as const);
  const next = (i: number) => (via === 'inline' ? `... on Query { ...L${i + 1} }` : `...L${i + 1}`);
  const fragments = Array.from(
    { length: levels - 1 },
    (_, i) => `fragment L${i} on Query { ${Array(spread).fill(next(i)).join(' ')} }`,
  );
  const last =
    via === 'cycle'
      ? `fragment L${levels - 1} on Query { ${leaf} ...L0 }`
      : `fragment L${levels - 1} on Query { ${leaf} }`;
  return JSON.stringify({ query: `{ ...L0 } ${fragments.join(' ')} ${last}` });
}

function introspection(g: fc.GeneratorValue, schema: GraphQLSchema): string {
  const typeName = one(g, [...Object.keys(schema.getTypeMap()).slice(0, 40), 'Nope', '']);
  const nested = (depth: number): string => (depth === 0 ? 'name' : `name kind ofType { ${nested(depth - 1)} }`);
  return JSON.stringify({
    query: one(g, [
      `{ __type(name: ${JSON.stringify(typeName)}) { name kind fields(includeDeprecated: true) { name args { name type { ${nested(g(fc.integer, { min: 0, max: 12 }))} } } } } }`,
      `{ __schema { types { name fields { name type { ${nested(g(fc.integer, { min: 0, max: 8 }))} } } } } }`,
      '{ __schema { queryType { fields { name } } mutationType { name } subscriptionType { name } directives { name args { name } } } }',
    ]),
  });
}

function notGraphQL(g: fc.GeneratorValue): string {
  return one(g, [
    JSON.stringify({ query: g(fc.string, { unit: 'binary', maxLength: 80 }) }),
    JSON.stringify({ query: '{' }),
    JSON.stringify({ query: 'query { services(limit: ) { name } }' }),
    JSON.stringify({ query: 'subscription { services { name } }' }),
    JSON.stringify({ query: `{ ${'services { name } '.repeat(g(fc.integer, { min: 1, max: 400 }))}}` }),
    JSON.stringify({
      query: `{ validateLogQuery(query: ${JSON.stringify('x'.repeat(g(fc.integer, { min: 1, max: 300_000 })))}) { valid } }`,
    }),
    JSON.stringify({ query: null }),
    JSON.stringify({ query: 123 }),
    JSON.stringify({}),
    JSON.stringify([]),
    JSON.stringify('just a string'),
    '{"query": "{ __typename }"',
    '',
    'null',
  ]);
}

/** Every kind of request, drawn with `g`, from `schema`; `service` is the name put where a service is asked for. */
export function graphqlCase(g: fc.GeneratorValue, schema: GraphQLSchema, service: string): GraphQLCase {
  const kind = pick(g, [
    [14, 'query'],
    [3, 'exponential'],
    [1, 'mutation'],
    [1, 'batch'],
    [1, 'introspection'],
    [2, 'not GraphQL'],
  ] as const);
  switch (kind) {
    case 'query':
      return { kind, body: new DocumentBuilder(g, schema, service).request('query') };
    case 'mutation':
      return { kind, body: new DocumentBuilder(g, schema, service).request('mutation') };
    case 'exponential':
      return { kind, body: exponential(g) };
    case 'batch': {
      const size = g(fc.integer, { min: 1, max: 12 });
      const requests = Array.from(
        { length: size },
        () => JSON.parse(new DocumentBuilder(g, schema, service).request('query')) as unknown,
      );
      return { kind, body: JSON.stringify(requests) };
    }
    case 'introspection':
      return { kind, body: introspection(g, schema) };
    case 'not GraphQL':
      return { kind, body: notGraphQL(g) };
  }
}
