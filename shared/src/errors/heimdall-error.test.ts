import { GraphQLError, Kind, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  ERROR_CATALOG,
  HeimdallError,
  heimdallError,
  toGraphQLError,
  toHttpError,
  type ErrorCode,
} from './heimdall-error.js';

const SECRET = 'password=hunter2 at db.internal:5432';

describe('error catalog', () => {
  it.each<[ErrorCode, number, string]>([
    ['BAD_USER_INPUT', 400, 'BAD_USER_INPUT'],
    ['UNAUTHENTICATED', 401, 'UNAUTHENTICATED'],
    ['FORBIDDEN', 403, 'FORBIDDEN'],
    ['NOT_FOUND', 404, 'NOT_FOUND'],
    ['CONFLICT', 409, 'CONFLICT'],
    ['PAYLOAD_TOO_LARGE', 413, 'PAYLOAD_TOO_LARGE'],
    ['UNSUPPORTED_MEDIA_TYPE', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['LIMIT_EXCEEDED', 422, 'LIMIT_EXCEEDED'],
    ['RATE_LIMITED', 429, 'RATE_LIMITED'],
    ['UNAVAILABLE', 503, 'UNAVAILABLE'],
    ['INTERNAL', 500, 'INTERNAL_SERVER_ERROR'],
  ])('answers %s with HTTP %i and GraphQL code %s', (code, status, graphqlCode) => {
    expect(ERROR_CATALOG[code]).toMatchObject({ code, status, graphqlCode });
    expect(toHttpError(new HeimdallError(code)).status).toBe(status);
    expect(toGraphQLError(new HeimdallError(code)).extensions.code).toBe(graphqlCode);
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(ERROR_CATALOG)).toBe(true);
    expect(Object.isFrozen(ERROR_CATALOG.NOT_FOUND)).toBe(true);
  });
});

describe('heimdallError', () => {
  it('uses the catalog message unless given one, and keeps the cause for logs', () => {
    const cause = new Error('row 42 missing');
    expect(heimdallError('NOT_FOUND').message).toBe('Not found');
    const error = heimdallError('NOT_FOUND', { message: 'No alert rule with id 42', cause });
    expect(error).toBeInstanceOf(HeimdallError);
    expect(error).toMatchObject({ code: 'NOT_FOUND', status: 404, message: 'No alert rule with id 42', cause });
  });

  it('records the unavailable service among the details', () => {
    const error = heimdallError('UNAVAILABLE', { retryAfterSeconds: 5, service: 'logs' });
    expect(error.details).toEqual({ service: 'logs' });
    expect(error.retryAfterSeconds).toBe(5);
  });
});

describe('toHttpError', () => {
  it('answers with the code and message, without Retry-After for a client error', () => {
    const response = toHttpError(heimdallError('BAD_USER_INPUT', { message: 'from must be before to' }));
    expect(response).toEqual({
      status: 400,
      headers: {},
      body: { error: { code: 'BAD_USER_INPUT', message: 'from must be before to' } },
    });
  });

  it('tells a rate-limited client when to come back', () => {
    const response = toHttpError(heimdallError('RATE_LIMITED', { retryAfterSeconds: 7 }));
    expect(response.status).toBe(429);
    expect(response.headers['Retry-After']).toBe('7');
  });

  it('tells the client when to retry a store that is down, in whole seconds', () => {
    const response = toHttpError(heimdallError('UNAVAILABLE', { retryAfterSeconds: 2.2, service: 'clickhouse' }));
    expect(response.status).toBe(503);
    expect(response.headers['Retry-After']).toBe('3');
    expect(response.body.error.code).toBe('UNAVAILABLE');
  });

  it('answers 500 with a generic message for an unknown error, revealing nothing of it', () => {
    const response = toHttpError(new Error(SECRET));
    expect(response).toEqual({
      status: 500,
      headers: {},
      body: { error: { code: 'INTERNAL', message: 'Internal server error' } },
    });
  });

  it('hides even an explicit INTERNAL message, and copes with non-Error values', () => {
    expect(toHttpError(heimdallError('INTERNAL', { message: SECRET })).body.error.message).toBe(
      'Internal server error',
    );
    expect(toHttpError(SECRET).body.error.message).toBe('Internal server error');
  });
});

describe('toGraphQLError', () => {
  it('puts the code and details in extensions', () => {
    const error = toGraphQLError(
      heimdallError('BAD_USER_INPUT', { message: 'Time range is required', details: { argument: 'range' } }),
    );
    expect(error.message).toBe('Time range is required');
    expect(error.extensions).toEqual({ code: 'BAD_USER_INPUT', argument: 'range' });
  });

  it('names the missing subgraph and when to retry', () => {
    const error = toGraphQLError(heimdallError('UNAVAILABLE', { retryAfterSeconds: 30, service: 'traces' }));
    expect(error.extensions).toEqual({ code: 'UNAVAILABLE', service: 'traces', retryAfterSeconds: 30 });
  });

  it('turns an unknown error into INTERNAL_SERVER_ERROR without its message, keeping it as the cause for logs', () => {
    const original = new Error(SECRET);
    const error = toGraphQLError(original);
    expect(error.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    expect(JSON.stringify(error.toJSON())).not.toContain('hunter2');
    expect(error.originalError?.message).not.toContain('hunter2');
    expect(error.originalError?.cause).toBe(original);
  });

  it('keeps the path and location of a resolver error while mapping its code', () => {
    const document = parse('{ rule(id: "42") { name } }');
    const field =
      document.definitions[0]?.kind === Kind.OPERATION_DEFINITION
        ? document.definitions[0].selectionSet.selections[0]
        : undefined;
    const located = new GraphQLError('No rule', {
      nodes: field,
      path: ['rule'],
      originalError: heimdallError('NOT_FOUND', { message: 'No rule 42' }),
    });
    const error = toGraphQLError(located);
    expect(error.path).toEqual(['rule']);
    expect(error.locations).toEqual([{ line: 1, column: 3 }]);
    expect(error.extensions.code).toBe('NOT_FOUND');
    expect(error.message).toBe('No rule 42');
  });

  it("leaves graphql-js's own errors (syntax, validation) as they are", () => {
    const validation = new GraphQLError('Cannot query field "nope" on type "Query".');
    expect(toGraphQLError(validation)).toBe(validation);
  });
});
