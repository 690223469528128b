/**
 * Answers the gateway gives on :4000 before Apollo Server sees a request (credentials, rate limit, request
 * limits), in GraphQL over HTTP's shape: `{ "errors": [...] }` with the catalog's code, in
 * `application/graphql-response+json` when the client accepts it, else `application/json`.
 */
import type { FastifyReply, FastifyRequest } from '@heimdall/shared/http';
import { type HeimdallError, toGraphQLError } from '@heimdall/shared/errors';

export const GRAPHQL_RESPONSE_JSON = 'application/graphql-response+json';

export function responseMediaType(accept: string | undefined): string {
  return accept?.includes(GRAPHQL_RESPONSE_JSON) === true ? GRAPHQL_RESPONSE_JSON : 'application/json';
}

/** Sends `error` as a GraphQL response with its catalog status (or `status`), Retry-After and WWW-Authenticate as due. */
export function replyWithGraphQLError(
  request: FastifyRequest,
  reply: FastifyReply,
  error: HeimdallError,
  status = error.status,
): FastifyReply {
  const headers: Record<string, string> = {
    'content-type': `${responseMediaType(request.headers.accept)}; charset=utf-8`,
  };
  if (error.retryAfterSeconds !== undefined)
    headers['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfterSeconds)));
  if (error.code === 'UNAUTHENTICATED') {
    headers['www-authenticate'] =
      request.headers.authorization === undefined
        ? 'Bearer realm="heimdall"'
        : 'Bearer realm="heimdall", error="invalid_token"';
  }
  return reply
    .code(status)
    .headers(headers)
    .send(JSON.stringify({ errors: [toGraphQLError(error).toJSON()] }));
}
