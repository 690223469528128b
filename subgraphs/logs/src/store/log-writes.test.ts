import { type Client, errors } from '@elastic/elasticsearch';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ResilienceMetrics, createResiliencePolicy } from '@heimdall/shared/resilience';
import { LogWriter } from './log-writes.js';

/** A `_bulk` that refuses as a whole (413) any request holding the poison document, and stores the rest. */
function bulkRefusingPoison(requests: number[]) {
  return {
    bulk: ({ operations }: { operations: string[] }) => {
      requests.push(operations.length / 2);
      if (operations.some((line) => line.includes('poison'))) {
        const body = { error: { type: 'content_too_long_exception', reason: 'quoted text' }, status: 413 };
        return Promise.reject(
          new errors.ResponseError({
            body,
            statusCode: 413,
            headers: {},
            warnings: null,
            meta: {},
          } as unknown as ConstructorParameters<typeof errors.ResponseError>[0]),
        );
      }
      return Promise.resolve({
        errors: false,
        items: Array.from({ length: operations.length / 2 }, () => ({ create: { status: 201 } })),
      });
    },
  } as unknown as Client;
}

describe('bulk writes', () => {
  it('refuse only the document a request refused as a whole was refused for, store the others, and never count it against the store', async () => {
    const metrics = new ResilienceMetrics(new Registry());
    const policy = createResiliencePolicy('elasticsearch_bulk', undefined, metrics);
    const requests: number[] = [];
    const writer = new LogWriter(bulkRefusingPoison(requests), policy);
    const documents = Array.from({ length: 8 }, (_, i) => ({
      id: `d${i}`,
      source: JSON.stringify({ message: i === 5 ? 'poison' : 'fine' }),
    }));
    for (let round = 0; round < 3; round++) {
      expect(await writer.bulkCreate(documents)).toEqual([
        ...Array.from({ length: 5 }, () => ({ kind: 'stored' })),
        { kind: 'refused', reason: 'refused by Elasticsearch (HTTP 413 content_too_long_exception)' },
        { kind: 'stored' },
        { kind: 'stored' },
      ]);
    }
    expect(requests.slice(0, 7)).toEqual([8, 4, 4, 2, 1, 1, 2]);
    expect(policy.state).toBe('closed');
  });
});
