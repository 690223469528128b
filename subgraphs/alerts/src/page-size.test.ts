import { createRequire } from 'node:module';
import type * as GraphQL from 'graphql';
import { describe, expect, it } from 'vitest';
import type { HeimdallError } from '@heimdall/shared/errors';
import { buildSchema } from './schema.js';

const schema = buildSchema();
// The schema is built by @apollo/subgraph, which loads graphql's CommonJS build; an ESM import would be a second copy.
const { graphql } = createRequire(import.meta.url)('graphql') as typeof GraphQL;

const RULE = '6f1c2a4e-9b3d-4c5e-8f7a-1b2c3d4e5f60';

const parens = (args: string) => (args === '' ? '' : `(${args})`);

/** Every paged field of the alerts schema with its default and documented maximum; `query` takes its arguments. */
const FIELDS = [
  {
    field: 'alertRules',
    query: (args: string) => `{ alertRules${parens(args)} { hasNextPage } }`,
    byDefault: 50,
    max: 500,
  },
  { field: 'alerts', query: (args: string) => `{ alerts${parens(args)} { id } }`, byDefault: 100, max: 1000 },
  {
    field: 'alertHistory',
    query: (args: string) =>
      `{ alertHistory(ruleId: "${RULE}" range: { from: "2026-11-22T10:00:00Z", to: "2026-11-22T11:00:00Z" } ${args}) { at } }`,
    byDefault: 1000,
    max: 10_000,
  },
  {
    field: 'AlertRule.changes',
    query: (args: string) => `{ alertRule(id: "${RULE}") { changes${parens(args)} { version } } }`,
    byDefault: 20,
    max: 100,
  },
  { field: 'incidents', query: (args: string) => `{ incidents${parens(args)} { id } }`, byDefault: 100, max: 1000 },
  {
    field: 'failedNotifications',
    query: (args: string) => `{ failedNotifications${parens(args)} { id } }`,
    byDefault: 100,
    max: 1000,
  },
  {
    field: 'notificationLog',
    query: (args: string) => `{ notificationLog${parens(args)} { id } }`,
    byDefault: 100,
    max: 1000,
  },
];

/** Runs a query over stores that answer nothing and remember the page sizes they were asked for. */
async function ask(query: string) {
  const sizes: number[] = [];
  const asked =
    <T>(answer: T) =>
    (...args: unknown[]) => {
      sizes.push(...args.filter((a) => typeof a === 'number'));
      return Promise.resolve(answer);
    };
  const contextValue = {
    rules: {
      list: asked({ nodes: [], endCursor: null, hasNextPage: false }),
      byId: () => Promise.resolve({ id: RULE }),
      changes: asked([]),
    },
    alerts: {
      list: asked([]),
      history: (_rule: string, _from: number, _to: number, first: number) => asked([])(first),
    },
    notifications: { incidents: { incidents: asked([]) }, outbox: { deliveries: asked([]) } },
  };
  const result = await graphql({ schema, source: query, contextValue });
  return {
    sizes,
    errors: result.errors?.map((e) => [(e.originalError as HeimdallError | undefined)?.code, e.message]),
  };
}

describe('page sizes of the alerts schema', () => {
  for (const { field, query, byDefault, max } of FIELDS) {
    it(`${field}: first from 1 to ${max}, BAD_USER_INPUT otherwise before any store is asked; the default ${byDefault} is usable`, async () => {
      for (const first of [0, -5, max + 1, 1_000_000]) {
        expect(await ask(query(`first: ${first}`))).toEqual({
          sizes: [],
          errors: [['BAD_USER_INPUT', `first: must be from 1 to ${max}, not ${first}`]],
        });
      }
      expect(await ask(query(`first: ${max}`))).toEqual({ sizes: [max], errors: undefined });
      expect(await ask(query(''))).toEqual({ sizes: [byDefault], errors: undefined });
    });
  }
});

describe('the range of alertHistory', () => {
  const history = (from: string, to: string) =>
    `{ alertHistory(ruleId: "${RULE}" range: { from: "${from}", to: "${to}" }) { at } }`;

  it('takes RFC 3339 times with any zone, to the nanosecond, within 90 days', async () => {
    expect(await ask(history('2026-11-22T19:00:00.123456789+09:00', '2026-11-22T11:00:00Z'))).toEqual({
      sizes: [1000],
      errors: undefined,
    });
    expect(await ask(history('2026-08-24T11:00:00Z', '2026-11-22T11:00:00Z'))).toEqual({
      sizes: [1000],
      errors: undefined,
    });
  });

  it('refuses a time without a zone, a reversed range or one over 90 days before the store is asked', async () => {
    expect(await ask(history('2026-11-22T10:00:00', '2026-11-22T11:00:00Z'))).toEqual({
      sizes: [],
      errors: [
        ['BAD_USER_INPUT', 'range.from: "2026-11-22T10:00:00" has no zone; add Z (UTC) or an offset such as +09:00'],
      ],
    });
    expect(await ask(history('2026-11-22T11:00:00Z', '2026-11-22T10:00:00Z'))).toEqual({
      sizes: [],
      errors: [['BAD_USER_INPUT', 'range: from must be before to']],
    });
    expect(await ask(history('2026-08-24T10:59:59Z', '2026-11-22T11:00:00Z'))).toEqual({
      sizes: [],
      errors: [['BAD_USER_INPUT', 'range: longer than the 90 days allowed']],
    });
  });
});
