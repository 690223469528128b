/**
 * How the logs store calls Elasticsearch: every call under a resilience policy, with the policy's abort signal and
 * none of the client's own retries (the policy decides what is retried), and the client's failures translated into
 * what the policy understands.
 */
import { errors } from '@elastic/elasticsearch';
import { HttpStatusError, type ResiliencePolicy, parseRetryAfter } from '@heimdall/shared/resilience';

/** The transport options of every request: the caller's (the policy's) signal, and retries left to the policy. */
export function requestOptions(signal: AbortSignal): { signal: AbortSignal; maxRetries: number } {
  return { signal, maxRetries: 0 };
}

/**
 * Runs one call under `policy`. No answer at all (refused, reset, the client's own timeout) reads as a 503 from the
 * dependency, as a proxy would say; 429 and 5xx answers become HttpStatusErrors: both are retried when the call is
 * idempotent and counted by the breaker. Other answers (4xx: a request the cluster refuses) become an
 * ElasticsearchRefusal for the caller to judge; their text is never sent to a client.
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

/**
 * A request Elasticsearch refused (a 4xx other than 429): a bug of ours or a limit of the cluster. Deliberately
 * without a `statusCode`: the shared error mapping would take such an error for a client's bad HTTP request and
 * show its message, which quotes Elasticsearch. Callers look at `type` and `causes`; clients see INTERNAL.
 */
export class ElasticsearchRefusal extends Error {
  override readonly name = 'ElasticsearchRefusal';

  constructor(
    readonly status: number,
    /** Elasticsearch's error type, such as `resource_already_exists_exception`. */
    readonly type: string | undefined,
    /** Every error type in its answer: root causes, causes, and the causes of each failed shard. */
    readonly causes: readonly string[],
    cause: unknown,
  ) {
    super(`Elasticsearch refused the request: HTTP ${status} ${type ?? ''}`.trim(), { cause });
  }

  /** What Elasticsearch said, for logs only. */
  get detail(): string {
    return this.cause instanceof Error ? this.cause.message : this.message;
  }
}

function asDependencyFailure(error: unknown): unknown {
  if (error instanceof errors.ResponseError) {
    const status = error.statusCode ?? 500;
    if (status === 429 || status >= 500) {
      const retryAfter = error.headers?.['retry-after'];
      return new HttpStatusError(
        status,
        `HTTP ${status}`,
        parseRetryAfter(typeof retryAfter === 'string' ? retryAfter : null),
      );
    }
    const body = error.body as { error?: { type?: unknown } } | undefined;
    const type = typeof body?.error?.type === 'string' ? body.error.type : undefined;
    return new ElasticsearchRefusal(status, type, [...errorTypes(body?.error, 0)], error);
  }
  if (error instanceof errors.ConnectionError || error instanceof errors.NoLivingConnectionsError)
    return new HttpStatusError(503, 'no connection');
  if (error instanceof errors.TimeoutError) return new HttpStatusError(504, 'no answer in time');
  return error;
}

/** The `type` of an error object and of every error object within it, a few levels deep. */
function* errorTypes(value: unknown, depth: number): Generator<string> {
  if (depth > 6 || typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) yield* errorTypes(item, depth + 1);
    return;
  }
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'type' && typeof inner === 'string') yield inner;
    else yield* errorTypes(inner, depth + 1);
  }
}

/** Shard failure types that say a shard could not answer now, not that the query is wrong: worth another try. */
const TRANSIENT_SHARD_FAILURES = new Set([
  'node_not_connected_exception',
  'no_shard_available_action_exception',
  'es_rejected_execution_exception',
  'circuit_breaking_exception',
  'node_closed_exception',
]);

/**
 * A search answered 200 although some shards failed (a query one index can run and another cannot, a shard being
 * moved): its hits are partial. Such an answer is never passed on as whole: a failure that may pass is a 503 the
 * policy retries; any other is a refusal whose causes the caller judges.
 */
export function refusePartialResults<T>(result: T): T {
  const failures = [...shardFailures(result)];
  if (failures.length === 0) return result;
  const causes = [...errorTypes(failures, 0)];
  if (causes.some((type) => TRANSIENT_SHARD_FAILURES.has(type)))
    throw new HttpStatusError(503, `${failures.length} shards failed`);
  throw new ElasticsearchRefusal(
    200,
    'shard_failures',
    causes,
    new Error(`${failures.length} shards failed: ${causes.join(', ')}`),
  );
}

function* shardFailures(result: unknown): Generator<unknown> {
  if (typeof result !== 'object' || result === null) return;
  const answer = result as { _shards?: { failures?: unknown[] }; responses?: unknown[] };
  yield* answer._shards?.failures ?? [];
  for (const response of answer.responses ?? []) yield* shardFailures(response);
}

/** The error type Elasticsearch gave for a refused request (`resource_already_exists_exception`), if it gave one. */
export function errorType(error: unknown): string | undefined {
  return error instanceof ElasticsearchRefusal ? error.type : undefined;
}

/** The HTTP status of a request Elasticsearch refused. */
export function responseStatus(error: unknown): number | undefined {
  return error instanceof ElasticsearchRefusal ? error.status : undefined;
}
