import { describe, expect, it } from 'vitest';
import { checkRequestLimits } from './request-limits.js';

const limits = { maxBatch: 3, maxTokens: 20 };

describe('limits on the HTTP request', () => {
  it('refuses a batch of more operations than allowed, naming the limit', () => {
    const batch = Array.from({ length: 4 }, () => ({ query: '{ a }' }));
    expect(checkRequestLimits(batch, limits)).toMatchObject({
      code: 'LIMIT_EXCEEDED',
      details: { limit: 'batch', max: 3 },
    });
    expect(checkRequestLimits(batch.slice(1), limits)).toBeUndefined();
  });

  it('refuses a query of more tokens than allowed, in any operation of a batch', () => {
    const long = `{ ${Array.from({ length: 20 }, (_, i) => `f${i}`).join(' ')} }`;
    expect(checkRequestLimits({ query: long }, limits)).toMatchObject({
      code: 'LIMIT_EXCEEDED',
      details: { limit: 'tokens', max: 20 },
    });
    expect(checkRequestLimits([{ query: '{ a }' }, { query: long }], limits)).toMatchObject({
      details: { limit: 'tokens' },
    });
  });

  it('counts tokens, not characters: long names and strings are one token each', () => {
    expect(
      checkRequestLimits({ query: `{ service(name: "${'x'.repeat(500)}") { ${'n'.repeat(200)} } }` }, limits),
    ).toBeUndefined();
  });

  it("leaves a query that does not lex to Apollo's syntax error", () => {
    expect(checkRequestLimits({ query: `{ a ${'"'.repeat(1)} ${'b '.repeat(30)}` }, limits)).toBeUndefined();
  });
});
