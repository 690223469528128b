/**
 * The error catalog: every failure a client can see has a stable code, one HTTP status and one GraphQL
 * `extensions.code`. Services throw `HeimdallError`s and map them at the edge with `toHttpError` or
 * `toGraphQLError`; anything else that reaches the edge is a bug and leaves as INTERNAL.
 */
import { GraphQLError } from 'graphql';

export interface ErrorCatalogEntry {
  /** HTTP status for REST and OTLP responses. */
  readonly status: number;
  /** `extensions.code` in GraphQL responses. */
  readonly graphqlCode: string;
  /** Default message, safe to show to clients. */
  readonly message: string;
  /** When to use the code; for documentation and reviewers. */
  readonly description: string;
}

function catalog<T extends Record<string, ErrorCatalogEntry>>(
  entries: T,
): { readonly [C in keyof T]: Readonly<T[C] & { code: C }> } {
  const withCodes = Object.fromEntries(
    Object.entries(entries).map(([code, entry]) => [code, Object.freeze({ code, ...entry })]),
  );
  return Object.freeze(withCodes) as { readonly [C in keyof T]: Readonly<T[C] & { code: C }> };
}

export const ERROR_CATALOG = catalog({
  BAD_USER_INPUT: {
    status: 400,
    graphqlCode: 'BAD_USER_INPUT',
    message: 'Invalid input',
    description:
      'The request is malformed or an argument is invalid (missing time range, bad selector, bad OTLP body).',
  },
  UNAUTHENTICATED: {
    status: 401,
    graphqlCode: 'UNAUTHENTICATED',
    message: 'Missing or invalid authorization header',
    description: 'No credentials, or credentials that do not verify (bad signature, expired, wrong issuer/audience).',
  },
  FORBIDDEN: {
    status: 403,
    graphqlCode: 'FORBIDDEN',
    message: 'Insufficient permissions',
    description: 'The caller is authenticated but its role does not allow the operation (SPEC §8 RBAC).',
  },
  NOT_FOUND: {
    status: 404,
    graphqlCode: 'NOT_FOUND',
    message: 'Not found',
    description: 'The addressed resource (rule, channel, silence, trace) does not exist.',
  },
  // 409: the request was valid when written but the resource has moved on (an update sent with the version it read,
  // which someone else has since changed); the client reloads and decides, retrying as is would fail again.
  CONFLICT: {
    status: 409,
    graphqlCode: 'CONFLICT',
    message: 'The resource was changed by someone else',
    description:
      'An optimistic-concurrency check failed: the caller sent a version (of a rule, a channel) that is no longer the current one.',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    graphqlCode: 'PAYLOAD_TOO_LARGE',
    message: 'Payload too large',
    description: 'The body exceeds the limit (20 MiB after decompression for OTLP).',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    graphqlCode: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'Unsupported media type',
    description: 'Content-Type or Content-Encoding the endpoint does not accept.',
  },
  // 422, not 400: the query is well-formed and would be valid with a narrower range or selector, and 422 is
  // what Prometheus-compatible query APIs (Prometheus, Cortex, Mimir) answer for "too many series/samples",
  // so clients can tell "narrow your query" from "fix your request". Neither is retryable as is.
  LIMIT_EXCEEDED: {
    status: 422,
    graphqlCode: 'LIMIT_EXCEEDED',
    message: 'Query exceeds the allowed number of series or rows',
    description: 'A valid query touching more series/rows/buckets than allowed, or over GraphQL depth/cost limits.',
  },
  RATE_LIMITED: {
    status: 429,
    graphqlCode: 'RATE_LIMITED',
    message: 'Too many requests',
    description: 'The client exceeded its request rate; carries retryAfterSeconds.',
  },
  UNAVAILABLE: {
    status: 503,
    graphqlCode: 'UNAVAILABLE',
    message: 'Service temporarily unavailable',
    description:
      'A store or subgraph is down, overloaded or too slow; carries retryAfterSeconds and optionally `service`.',
  },
  INTERNAL: {
    status: 500,
    // Apollo Server reports its own unexpected errors as INTERNAL_SERVER_ERROR; ours use the same code so
    // clients see one code for "server bug" whoever produced it.
    graphqlCode: 'INTERNAL_SERVER_ERROR',
    message: 'Internal server error',
    description: 'A bug or unexpected failure; the cause is logged, never sent to the client.',
  },
});

export type ErrorCode = keyof typeof ERROR_CATALOG;

export interface HeimdallErrorOptions {
  /** Client-visible message; defaults to the catalog message. Ignored on the wire for INTERNAL. */
  readonly message?: string;
  /** Client-visible structured details, sent as GraphQL extensions. Never put secrets or raw causes here. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Sent as `Retry-After` (HTTP) and `extensions.retryAfterSeconds` (GraphQL). */
  readonly retryAfterSeconds?: number;
  /** The underlying error, for logs only. */
  readonly cause?: unknown;
}

export class HeimdallError extends Error {
  override readonly name = 'HeimdallError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Readonly<Record<string, unknown>>;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, options: HeimdallErrorOptions = {}) {
    super(options.message ?? ERROR_CATALOG[code].message, { cause: options.cause });
    this.code = code;
    this.status = ERROR_CATALOG[code].status;
    this.details = Object.freeze({ ...options.details });
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

type BaseOptions = Omit<HeimdallErrorOptions, 'retryAfterSeconds'>;

/** Per-code options: a 429 or 503 without a retry hint would leave clients guessing, so the types demand one. */
export type HeimdallErrorArgs<C extends ErrorCode> = C extends 'RATE_LIMITED'
  ? [options: BaseOptions & { readonly retryAfterSeconds: number }]
  : C extends 'UNAVAILABLE'
    ? [
        options: BaseOptions & {
          readonly retryAfterSeconds: number;
          /** The store or subgraph that failed. */ readonly service?: string;
        },
      ]
    : [options?: BaseOptions];

/** Builds a `HeimdallError`, e.g. `throw heimdallError('UNAVAILABLE', { retryAfterSeconds: 5, service: 'logs' })`. */
export function heimdallError<C extends ErrorCode>(code: C, ...[options]: HeimdallErrorArgs<C>): HeimdallError {
  if (options && 'service' in options && options.service !== undefined) {
    return new HeimdallError(code, { ...options, details: { ...options.details, service: options.service } });
  }
  return new HeimdallError(code, options);
}

function publicMessage(error: HeimdallError): string {
  return error.code === 'INTERNAL' ? ERROR_CATALOG.INTERNAL.message : error.message;
}

/** What the HTTP layer knew about a request it refused, so that the message can say what was wrong. */
export interface RefusedRequest {
  readonly contentType?: string | undefined;
  readonly bodyLimitBytes?: number | undefined;
}

/**
 * A client error the HTTP layer raised before any handler ran (fastify's own: a malformed JSON body, a body
 * over the limit, a content type no parser reads) as a catalog error with a message that says what was wrong.
 * Anything else, a 5xx included, stays as it is.
 */
export function fromHttpLayerError(error: unknown, request: RefusedRequest = {}): unknown {
  if (error instanceof HeimdallError || !(error instanceof Error)) return error;
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return error;
  if (status === 413) {
    const limit = request.bodyLimitBytes === undefined ? '' : ` of ${request.bodyLimitBytes} bytes`;
    return new HeimdallError('PAYLOAD_TOO_LARGE', { message: `request body exceeds the limit${limit}`, cause: error });
  }
  if (status === 415) {
    return new HeimdallError('UNSUPPORTED_MEDIA_TYPE', {
      message: `Content-Type ${request.contentType ?? '(none)'} is not accepted here`,
      cause: error,
    });
  }
  // Fastify writes its other client errors (malformed JSON or Content-Length) for clients.
  return new HeimdallError('BAD_USER_INPUT', { message: error.message, cause: error });
}

function asHeimdallError(error: unknown): HeimdallError {
  const mapped = fromHttpLayerError(error);
  return mapped instanceof HeimdallError ? mapped : new HeimdallError('INTERNAL', { cause: error });
}

function extensionsOf(error: HeimdallError): Record<string, unknown> {
  return {
    ...error.details,
    ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
    code: ERROR_CATALOG[error.code].graphqlCode,
  };
}

/**
 * Maps any thrown value to a GraphQLError. A located GraphQLError wrapping a resolver's error keeps its
 * path and locations; a GraphQLError of graphql-js's own (syntax, validation) passes through unchanged.
 * The `originalError` of an unknown error is an INTERNAL HeimdallError whose `cause` is the original, so
 * loggers see it while stack traces shown in development reveal nothing of it.
 */
export function toGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) {
    if (error.originalError === undefined || error.originalError instanceof GraphQLError) return error;
    const mapped = asHeimdallError(error.originalError);
    return new GraphQLError(publicMessage(mapped), {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      originalError: mapped,
      extensions: extensionsOf(mapped),
    });
  }
  const mapped = asHeimdallError(error);
  return new GraphQLError(publicMessage(mapped), { originalError: mapped, extensions: extensionsOf(mapped) });
}

export interface HttpError {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: { readonly error: { readonly code: string; readonly message: string } };
}

/** Maps any thrown value to an HTTP response; unknown errors become a 500 that reveals nothing of the cause. */
export function toHttpError(error: unknown): HttpError {
  const mapped = asHeimdallError(error);
  const headers: Record<string, string> =
    mapped.retryAfterSeconds === undefined
      ? {}
      : { 'Retry-After': String(Math.max(0, Math.ceil(mapped.retryAfterSeconds))) };
  return { status: mapped.status, headers, body: { error: { code: mapped.code, message: publicMessage(mapped) } } };
}
