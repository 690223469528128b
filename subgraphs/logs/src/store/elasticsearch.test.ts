import { describe, expect, it } from 'vitest';
import { HttpStatusError } from '@heimdall/shared/resilience';
import { ElasticsearchRefusal, refusePartialResults } from './elasticsearch.js';

const failure = (type: string) => ({
  shard: 0,
  index: 'logs-000002',
  node: 'n1',
  reason: { type, reason: 'quoted text' },
});
const answer = (failures: unknown[]) => ({
  hits: { hits: [] },
  _shards: { total: 2, successful: 2 - failures.length, failed: failures.length, failures },
});

describe('partial search answers', () => {
  it('passes a whole answer on as it is', () => {
    const whole = answer([]);
    expect(refusePartialResults(whole)).toBe(whole);
  });

  it('refuses an answer with a shard that could not run the query, naming the causes', () => {
    const error = (() => {
      try {
        refusePartialResults(answer([failure('query_shard_exception')]));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ElasticsearchRefusal);
    expect((error as ElasticsearchRefusal).causes).toEqual(['query_shard_exception']);
  });

  it('makes a shard that could not answer now a 503 to try again, also inside a multi-search', () => {
    expect(() =>
      refusePartialResults({ responses: [answer([]), answer([failure('no_shard_available_action_exception')])] }),
    ).toThrow(HttpStatusError);
  });
});
