/**
 * Limits on the HTTP request itself, checked before Apollo Server parses anything: operations per batch, and
 * lexical tokens per query (a document of millions of tokens costs its parse before any other limit can look at
 * it). Over one → 400 LIMIT_EXCEEDED naming it.
 */
import type { preHandlerHookHandler } from '@heimdall/shared/http';
import { Lexer, Source, TokenKind } from 'graphql';
import type { HeimdallError } from '@heimdall/shared/errors';
import { replyWithGraphQLError } from './graphql-http.js';
import { limitExceeded } from './query-limits.js';

export interface RequestLimits {
  readonly maxBatch: number;
  readonly maxTokens: number;
}

/** Whether `query` has more than `max` tokens; stops counting there. A syntax error is Apollo's to report. */
function exceedsTokens(query: string, max: number): boolean {
  // Every token takes at least one character.
  if (query.length <= max) return false;
  const lexer = new Lexer(new Source(query));
  let count = 0;
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance())
      if (++count > max) return true;
  } catch {
    return false;
  }
  return false;
}

/** The limit a GraphQL request body (or GET query string) breaks, if any. */
export function checkRequestLimits(body: unknown, limits: RequestLimits): HeimdallError | undefined {
  const operations = Array.isArray(body) ? (body as unknown[]) : [body];
  if (operations.length > limits.maxBatch) {
    return limitExceeded(
      'batch',
      `Batch limit of ${limits.maxBatch} operations exceeded, found ${operations.length}.`,
      limits.maxBatch,
    );
  }
  for (const operation of operations) {
    const query =
      typeof operation === 'object' && operation !== null ? (operation as { query?: unknown }).query : undefined;
    if (typeof query === 'string' && exceedsTokens(query, limits.maxTokens)) {
      return limitExceeded('tokens', `Token limit of ${limits.maxTokens} exceeded.`, limits.maxTokens);
    }
  }
  return undefined;
}

export function requestLimitsHook(limits: RequestLimits): preHandlerHookHandler {
  return (request, reply, done) => {
    const error = checkRequestLimits(request.method === 'GET' ? request.query : request.body, limits);
    if (error === undefined) return done();
    replyWithGraphQLError(request, reply, error, 400);
  };
}
