import { createRequire } from 'node:module';
import * as graphql from 'graphql';
import { buildSchema, getOperationAST, parse, validate, specifiedRules } from 'graphql';
import { describe, expect, it } from 'vitest';
import { HeimdallError } from '@heimdall/shared/errors';
import { operationCost, queryLimitProtections } from './query-limits.js';

const SDL = `
  type Query { service(name: String!): Service  search(filter: Filter!): [Entry!]!  node: Node  rules(first: Int! = 50, after: String): RulePage! }
  type RulePage { nodes: [Entry!]!  endCursor: String }
  input Filter { text: String  limit: Int = 50 }
  interface Node { id: ID! }
  type Service implements Node { id: ID! name: String! logs(limit: Int! = 20): [Entry!]  series: [Series!]  calls: Service }
  type Series implements Node { id: ID! name: String! points: [[Float!]!] }
  type Entry { message: String! }
`;
const schema = buildSchema(SDL);

const LIMITS = {
  maxDepth: 4,
  maxAliases: 2,
  maxDirectives: 3,
  maxCost: 1000,
  defaultListSize: 10,
  blockFieldSuggestions: false,
};

function cost(query: string, variables: Record<string, unknown> = {}) {
  const document = parse(query);
  return operationCost(schema, document, getOperationAST(document)!, variables, LIMITS.defaultListSize).cost;
}

/** The cost before the variables are known, as validation sees it. */
function leastCost(query: string) {
  const document = parse(query);
  return operationCost(schema, document, getOperationAST(document)!, undefined, LIMITS.defaultListSize).cost;
}

function refusals(query: string) {
  const { validationRules } = queryLimitProtections(LIMITS);
  return validate(schema, parse(query), [...specifiedRules, ...validationRules]).map((error) => {
    expect(error.originalError).toBeInstanceOf(HeimdallError);
    return { message: error.message, ...(error.originalError as HeimdallError).details };
  });
}

describe('operation cost', () => {
  it('counts each field once, and a list selection once per item it asks for', () => {
    expect(cost('{ service(name: "a") { name } }')).toBe(2);
    expect(cost('{ service(name: "a") { logs(limit: 100) { message } } }')).toBe(1 + 1 + 100 * 1);
  });

  it('takes the size from variables, from an input object, or from the default of the argument', () => {
    expect(cost('query($n: Int!) { service(name: "a") { logs(limit: $n) { message } } }', { n: 500 })).toBe(502);
    expect(cost('{ search(filter: { text: "x", limit: 7 }) { message } }')).toBe(1 + 7);
    expect(cost('{ search(filter: { text: "x" }) { message } }')).toBe(1 + 50);
    expect(cost('{ service(name: "a") { logs { message } } }')).toBe(1 + 1 + 20);
  });

  it('multiplies nested lists, assuming the default size where none is asked for', () => {
    // series: 10 × (1 + points: 10 × 10 lists of floats)
    expect(cost('{ service(name: "a") { series { points } } }')).toBe(1 + 1 + 10 * (1 + 100));
  });

  it("counts a schema built by another copy of graphql-js, as the gateway's is", () => {
    // Under vitest, our code gets graphql-js's ESM build and Apollo's CommonJS code its CJS one.
    const other = createRequire(import.meta.url)('graphql') as typeof graphql;
    expect(other.buildSchema).not.toBe(graphql.buildSchema);
    const document = parse('{ service(name: "a") { logs(limit: 100) { message } } }');
    expect(operationCost(other.buildSchema(SDL), document, getOperationAST(document)!, {}, 10).cost).toBe(102);
  });

  it('counts fragments, and the costliest shape of an abstract type', () => {
    expect(cost('{ service(name: "a") { ...F } } fragment F on Service { logs(limit: 30) { message } }')).toBe(
      1 + 1 + 30,
    );
    expect(cost('{ node { ... on Service { logs(limit: 40) { message } } ... on Series { name } } }')).toBe(1 + 41);
  });
});

describe('sizes', () => {
  it('counts __typename and introspection fields like any other', () => {
    expect(cost('{ __typename a: __typename }')).toBe(2);
    // __schema 1, types 1 + 10 items × name 1
    expect(cost('{ __schema { types { name } } }')).toBe(1 + 1 + 10);
  });

  it("sizes a page's lists by the size asked of the page", () => {
    expect(cost('{ rules(first: 5) { nodes { message } endCursor } }')).toBe(1 + 1 + 5 + 1);
    expect(cost('{ rules { nodes { message } } }')).toBe(1 + 1 + 50);
    expect(cost('{ rules(first: 1000000) { nodes { message } } }')).toBe(1 + 1 + 1_000_000);
  });

  it("takes a variable without a value from the default the operation declares, else the argument's", () => {
    expect(cost('query($n: Int! = 500) { service(name: "a") { logs(limit: $n) { message } } }')).toBe(502);
    expect(cost('query($n: Int) { rules(first: $n) { nodes { message } } }')).toBe(1 + 1 + 50);
    expect(cost('query($n: Int) { search(filter: { limit: $n }) { message } }')).toBe(1 + 50);
  });

  it('counts each size from a variable as the least allowed while the variables are not known', () => {
    expect(leastCost('query($n: Int!) { service(name: "a") { logs(limit: $n) { message } } }')).toBe(1 + 1 + 1);
    expect(leastCost('query($f: Filter!) { search(filter: $f) { message } }')).toBe(1 + 1);
    expect(leastCost('query($name: String!) { service(name: $name) { name } }')).toBe(2);
  });

  it.each([
    ['a size below 1', '{ rules(first: 0) { endCursor } }', {}, 'first', 0],
    ['a negative size in an input object', '{ search(filter: { limit: -5 }) { message } }', {}, 'filter.limit', -5],
    [
      'a size from a variable that is no whole number',
      'query($n: Int!) { rules(first: $n) { endCursor } }',
      { n: 2.5 },
      'first',
      2.5,
    ],
  ])('refuses %s as BAD_USER_INPUT naming the argument', (_case, query, variables, argument, value) => {
    const document = parse(query);
    const { invalid } = operationCost(schema, document, getOperationAST(document)!, variables, 10);
    expect(invalid?.error()).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: `${argument} must be a whole number of at least 1, got ${value}`,
    });
  });
});

/** `levels` fragments on `on`, each selecting `spread(next)` `fanout` times; the last selects `leaf`. */
function exponential(options: {
  root: string;
  on: string;
  leaf: string;
  levels?: number;
  fanout?: number;
  spread?: (next: string) => string;
}): string {
  const { root, on, leaf, levels = 10, fanout = 10, spread = (next: string) => `...${next}` } = options;
  const fragments = Array.from(
    { length: levels - 1 },
    (_, i) =>
      `fragment L${i} on ${on} { ${Array(fanout)
        .fill(spread(`L${i + 1}`))
        .join(' ')} }`,
  );
  return `${root} ${fragments.join(' ')} fragment L${levels - 1} on ${on} { ${leaf} }`;
}

const TYPENAMES = `__typename ${Array.from({ length: 10 }, (_, i) => `a${i}: __typename`).join(' ')}`;

describe('documents whose expansion is exponential in their text', () => {
  it('are costed without expanding them: each fragment once', () => {
    // The document of the incident: 10 levels of 10 spreads, 11 selections at the bottom.
    expect(leastCost(exponential({ root: '{ ...L0 }', on: 'Query', leaf: TYPENAMES }))).toBe(11 * 10 ** 9);
    expect(
      cost(exponential({ root: '{ ...L0 }', on: 'Query', leaf: 'service(name: "a") { logs { message } }', levels: 8 })),
    ).toBe(10 ** 7 * 22);
  });

  it.each([
    ['nested spreads of __typename aliases', exponential({ root: '{ ...L0 }', on: 'Query', leaf: TYPENAMES })],
    [
      'nested spreads of a list',
      exponential({ root: '{ ...L0 }', on: 'Query', leaf: 'search(filter: {}) { message }', levels: 6 }),
    ],
    [
      'spreads inside inline fragments',
      exponential({
        root: '{ ...L0 }',
        on: 'Query',
        leaf: '__typename',
        spread: (next) => `... on Query { ...${next} } ... { ...${next} }`,
      }),
    ],
    ['spreads on an interface', exponential({ root: '{ node { ...L0 } }', on: 'Node', leaf: 'id', levels: 8 })],
    [
      'many operations sharing the fragments',
      `${Array.from({ length: 20 }, (_, i) => `query Q${i} { ...L0 }`).join(' ')} ${exponential({ root: '', on: 'Query', leaf: TYPENAMES, levels: 7 })}`,
    ],
    ['fields the schema lacks', exponential({ root: '{ ...L0 }', on: 'Query', leaf: 'nothing', levels: 5 })],
  ])('refuse %s as LIMIT_EXCEEDED before any other rule walks them', (_case, query) => {
    // No other rule's error (unknown fields, unused fragments): the cost pre-check took the document out of the walk.
    expect(refusals(query)).toEqual([
      {
        message: expect.stringMatching(/^Query cost limit of 1000 exceeded, found /) as unknown,
        limit: 'cost',
        max: 1000,
      },
    ]);
  });

  it('leave a cycle of fragments to the rule made for it', () => {
    const { validationRules } = queryLimitProtections(LIMITS);
    const errors = validate(
      schema,
      parse('{ ...A } fragment A on Query { ...B ...B } fragment B on Query { ...A ...A __typename }'),
      [...specifiedRules, ...validationRules],
    );
    expect(errors.map((e) => e.message)).toContain('Cannot spread fragment "A" within itself via "B".');
  });
});

describe('query limits as validation', () => {
  it('refuses a query nested deeper than allowed, naming the limit; fragments are no level of their own', () => {
    expect(refusals('{ service(name: "a") { calls { calls { name } } } }')).toEqual([]);
    expect(refusals('{ node { ... on Service { calls { ...C } } } } fragment C on Service { calls { name } }')).toEqual(
      [],
    );
    const tooDeep = '{ service(name: "a") { ...C } } fragment C on Service { calls { calls { calls { name } } } }';
    expect(refusals(tooDeep)).toEqual([
      { message: 'Query depth limit of 4 exceeded, found 5.', limit: 'depth', max: 4 },
    ]);
  });

  it('refuses more aliases than allowed', () => {
    expect(
      refusals('{ a: service(name: "a") { id } b: service(name: "b") { id } c: service(name: "c") { id } }'),
    ).toEqual([{ message: 'Aliases limit of 2 exceeded, found 3.', limit: 'aliases', max: 2 }]);
  });

  it('refuses more directives than allowed', () => {
    const query =
      '{ service(name: "a") { id @include(if: true) name @include(if: true) logs @skip(if: false) { message @skip(if: false) } } }';
    expect(refusals(query)).toEqual([
      { message: expect.stringMatching(/^Directives limit of 3 exceeded/) as unknown, limit: 'directives', max: 3 },
    ]);
  });
});
