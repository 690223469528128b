import { createRequire } from 'node:module';
import type * as GraphQL from 'graphql';
import { describe, expect, it } from 'vitest';
import type { HeimdallError } from '@heimdall/shared/errors';
import { hexId } from '@heimdall/shared/otlp';
import { attribute, makeExport, makeSpan } from './otlp-builders.fixtures.js';
import { buildSchema } from './schema.js';
import { DEFAULT_SEARCH_LIMITS } from './trace-search.js';
import { type TraceModel, tracesFromOtlp } from './trace-model.js';

const schema = buildSchema();
// The schema is built by @apollo/subgraph, which loads graphql's CommonJS build; an ESM import would be a second copy.
const { graphql } = createRequire(import.meta.url)('graphql') as typeof GraphQL;

/** The schema over a Jaeger holding `traces` , as the gateway asks it. */
function ask(query: string, traces: TraceModel[] = [], services: string[] = []) {
  const store = {
    trace: (id: string) => Promise.resolve(traces.find((t) => t.traceId === id)),
    services: () => Promise.resolve(services),
  };
  const context = {
    store,
    metrics: { graphql: () => Promise.reject(new Error('not asked')) },
    limits: DEFAULT_SEARCH_LIMITS,
    maxValueBytes: 16_384,
  };
  return graphql({ schema, source: query, contextValue: context });
}

describe('the traces schema', () => {
  it('answers tag values up to 16 KiB, cutting a longer one at a character boundary and marking it', async () => {
    const span = makeSpan({
      attributes: [
        attribute('short', { case: 'stringValue', value: 'ok' }),
        attribute('long', { case: 'stringValue', value: 'ü'.repeat(9000) }),
      ],
    });
    const [trace] = tracesFromOtlp(makeExport({ service: 'checkout', spans: [span] }));
    const result = await ask(
      `{ trace(traceId: "${hexId(span.traceId)}") { spans { tags { key value truncated } } } }`,
      [trace!],
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      trace: {
        spans: [
          {
            tags: [
              { key: 'short', value: 'ok', truncated: false },
              { key: 'long', value: 'ü'.repeat(8192), truncated: true },
            ],
          },
        ],
      },
    });
  });

  it('answers 1 to 1,000 services; another limit is BAD_USER_INPUT naming it, and the default is usable', async () => {
    const services = Array.from({ length: 150 }, (_, i) => `svc-${String(i).padStart(3, '0')}`);
    for (const limit of [0, -5, 1001]) {
      const result = await ask(`{ services(limit: ${limit}) { name } }`, [], services);
      expect(result.errors?.map((e) => [(e.originalError as HeimdallError).code, e.message])).toEqual([
        ['BAD_USER_INPUT', `limit: must be from 1 to 1000, not ${limit}`],
      ]);
    }
    const byDefault = await ask('{ services { name } }', [], services);
    expect((byDefault.data?.services as unknown[]).length).toBe(100);
  });
});
