/**
 * How the logs store calls Elasticsearch: every call under a resilience policy, with the policy's abort signal and
 * none of the client's own retries (the policy decides what is retried), and the client's failures translated into
 * what the policy understands.
 */
import { errors } from '@elastic/elasticsearch';
import { HttpStatusError, type ResiliencePolicy, parseRetryAfter } from '@heimdall/shared';

/** The transport options of every request: the caller's (the policy's) signal, and retries left to the policy. */
export function requestOptions(signal: AbortSignal): { signal: AbortSignal; maxRetries: number } {
  return { signal, maxRetries: 0 };
}

/**
 * Runs one call under `policy`. No answer at all (refused, reset, the client's own timeout) reads as a 503 from the
 * dependency, as a proxy would say; 429 and 5xx answers become HttpStatusErrors: both are retried when the call is
 * idempotent and counted by the breaker. Other answers (4xx: a request the cluster refuses) pass unchanged for the
 * caller to judge; their text is never sent to a client.
 */
export function callElasticsearch<T>(
  policy: ResiliencePolicy,
  call: (signal: AbortSignal) => Promise<T>,
  options: { readonly idempotent?: boolean; readonly signal?: AbortSignal } = {},
): Promise<T> {
  return policy.execute(async (signal) => {
    try {
      return await call(signal);
    } catch (error) {
      throw asDependencyFailure(error);
    }
  }, options);
}

function asDependencyFailure(error: unknown): unknown {
  if (error instanceof errors.ResponseError) {
    const status = error.statusCode ?? 500;
    if (status === 429 || status >= 500) {
      const retryAfter = error.headers?.['retry-after'];
      return new HttpStatusError(status, `HTTP ${status}`, parseRetryAfter(typeof retryAfter === 'string' ? retryAfter : null));
    }
    return error;
  }
  if (error instanceof errors.ConnectionError || error instanceof errors.NoLivingConnectionsError) return new HttpStatusError(503, 'no connection');
  if (error instanceof errors.TimeoutError) return new HttpStatusError(504, 'no answer in time');
  return error;
}

/** The error type Elasticsearch gave for a refused request (`resource_already_exists_exception`), if it gave one. */
export function errorType(error: unknown): string | undefined {
  if (!(error instanceof errors.ResponseError)) return undefined;
  const body: unknown = error.body;
  const type = (body as { error?: { type?: unknown } } | undefined)?.error?.type;
  return typeof type === 'string' ? type : undefined;
}

/** The HTTP status of an answer Elasticsearch gave, if the failure was one. */
export function responseStatus(error: unknown): number | undefined {
  return error instanceof errors.ResponseError ? error.statusCode : undefined;
}
