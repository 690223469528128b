import { createRequire } from 'node:module';
import * as graphql from 'graphql';
import { buildSchema, getOperationAST, parse, validate, specifiedRules } from 'graphql';
import { describe, expect, it } from 'vitest';
import { HeimdallError } from '@heimdall/shared';
import { operationCost, queryLimitProtections } from './query-limits.js';

const SDL = `
  type Query { service(name: String!): Service  search(filter: Filter!): [Entry!]!  node: Node }
  input Filter { text: String  limit: Int = 50 }
  interface Node { id: ID! }
  type Service implements Node { id: ID! name: String! logs(limit: Int! = 20): [Entry!]  series: [Series!]  calls: Service }
  type Series implements Node { id: ID! name: String! points: [[Float!]!] }
  type Entry { message: String! }
`;
const schema = buildSchema(SDL);

const LIMITS = { maxDepth: 4, maxAliases: 2, maxDirectives: 3, maxCost: 1000, defaultListSize: 10, blockFieldSuggestions: false };

function cost(query: string, variables: Record<string, unknown> = {}) {
  const document = parse(query);
  return operationCost(schema, document, getOperationAST(document)!, variables, LIMITS.defaultListSize);
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
    expect(operationCost(other.buildSchema(SDL), document, getOperationAST(document)!, {}, 10)).toBe(102);
  });

  it('counts fragments, and the costliest shape of an abstract type', () => {
    expect(cost('{ service(name: "a") { ...F } } fragment F on Service { logs(limit: 30) { message } }')).toBe(1 + 1 + 30);
    expect(cost('{ node { ... on Service { logs(limit: 40) { message } } ... on Series { name } } }')).toBe(1 + 41);
  });
});

describe('query limits as validation', () => {
  it('refuses a query nested deeper than allowed, naming the limit; fragments are no level of their own', () => {
    expect(refusals('{ service(name: "a") { calls { calls { name } } } }')).toEqual([]);
    expect(refusals('{ node { ... on Service { calls { ...C } } } } fragment C on Service { calls { name } }')).toEqual([]);
    const tooDeep = '{ service(name: "a") { ...C } } fragment C on Service { calls { calls { calls { name } } } }';
    expect(refusals(tooDeep)).toEqual([{ message: 'Query depth limit of 4 exceeded, found 5.', limit: 'depth', max: 4 }]);
  });

  it('refuses more aliases than allowed', () => {
    expect(refusals('{ a: service(name: "a") { id } b: service(name: "b") { id } c: service(name: "c") { id } }')).toEqual([
      { message: 'Aliases limit of 2 exceeded, found 3.', limit: 'aliases', max: 2 },
    ]);
  });

  it('refuses more directives than allowed', () => {
    const query = '{ service(name: "a") { id @include(if: true) name @include(if: true) logs @skip(if: false) { message @skip(if: false) } } }';
    expect(refusals(query)).toEqual([{ message: expect.stringMatching(/^Directives limit of 3 exceeded/) as unknown, limit: 'directives', max: 3 }]);
  });
});
