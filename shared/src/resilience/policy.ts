/**
 * The one resilience module (SPEC §7). Every store call and every gateway→subgraph call runs through a
 * `ResiliencePolicy` from here, so timeouts, retries, circuit breaking and load shedding behave the same
 * everywhere and show up in `/metrics` under the same names.
 */
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  CircuitState,
  DelegateBackoff,
  IsolatedCircuitError,
  SamplingBreaker,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  type BulkheadPolicy,
  type CircuitBreakerPolicy,
  type IRetryBackoffContext,
  type RetryPolicy,
  type TimeoutPolicy,
} from 'cockatiel';
import { Counter, Gauge, type Registry } from 'prom-client';
import { HeimdallError, heimdallError } from '../errors/heimdall-error.js';

export interface ResilienceOptions {
  /** Time one attempt may take, in ms; then its signal aborts and the call fails with UNAVAILABLE. Default 3000. */
  readonly timeoutMs?: number;
  readonly retry?: RetryOptions;
  readonly breaker?: BreakerOptions;
  readonly bulkhead?: BulkheadOptions;
}

/** Retries apply only to calls executed with `idempotent: true`. */
export interface RetryOptions {
  /** Attempts in total, the first included. Default 3. */
  readonly maxAttempts?: number;
  /** Backoff before the first retry, in ms; it doubles on each retry, with jitter. Default 100. */
  readonly initialDelayMs?: number;
  /** Ceiling for one backoff, in ms. Default 2000. */
  readonly maxDelayMs?: number;
  /**
   * Longest `Retry-After` we wait for, in ms. A failure asking for longer is not retried: retrying earlier
   * than the server asked would only be refused again, so the caller gets the error (and its hint) at once.
   * Default 5000.
   */
  readonly maxRetryAfterMs?: number;
}

export interface BreakerOptions {
  /** The circuit opens when more than this share of calls in the window fail. Default 0.5. */
  readonly failureRatio?: number;
  /** Length of the sliding window, in ms. Default 10000. */
  readonly samplingDurationMs?: number;
  /** Calls the window must hold before it may open, so two failures at night do not cut a store off. Default 5. */
  readonly minimumRequests?: number;
  /** How long the circuit stays open before one test call may go through, in ms. Default 30000. */
  readonly halfOpenAfterMs?: number;
}

export interface BulkheadOptions {
  /** Calls running at once. Default 10. */
  readonly limit?: number;
  /** Calls waiting for a slot; one more fails fast with UNAVAILABLE. Default 100. */
  readonly queue?: number;
}

interface Resolved {
  readonly timeoutMs: number;
  readonly retry: Required<RetryOptions>;
  readonly breaker: Required<BreakerOptions>;
  readonly bulkhead: Required<BulkheadOptions>;
}

export interface ExecuteOptions {
  /** Retry transient failures. Only for calls that are safe to repeat (reads, upserts by key). Default false. */
  readonly idempotent?: boolean;
  /** The caller's abort (e.g. the client went away): aborts the call, stops retries, rejects with its reason. */
  readonly signal?: AbortSignal;
}

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

export interface ResiliencePolicy {
  readonly name: string;
  /** Stays 'open' after `halfOpenAfterMs` until the next call becomes the test call. */
  readonly state: BreakerState;
  /**
   * Runs `fn` under the policy. `fn` must honour the signal (pass it to fetch or the driver); one that ignores
   * it is still abandoned at the timeout. Rejections by the policy itself are HeimdallErrors with code
   * UNAVAILABLE; `fn`'s own errors pass through unchanged.
   */
  execute<T>(fn: (signal: AbortSignal) => Promise<T>, options?: ExecuteOptions): Promise<T>;
  /** Holds the circuit open (maintenance, a store known to be bad) until the handle is disposed. */
  isolate(): { dispose(): void };
}

/** A failed HTTP exchange with a dependency; 429, 502, 503 and 504 are retried. */
export class HttpStatusError extends Error {
  override readonly name = 'HttpStatusError';

  constructor(
    readonly status: number,
    message = `HTTP ${status}`,
    /** From the response's Retry-After header. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  static fromResponse(response: {
    status: number;
    statusText: string;
    headers: { get(name: string): string | null };
  }): HttpStatusError {
    const message = `HTTP ${response.status} ${response.statusText}`.trim();
    return new HttpStatusError(response.status, message, parseRetryAfter(response.headers.get('retry-after')));
  }
}

/** A Retry-After header (delay-seconds or HTTP-date) as milliseconds from `now`; undefined when absent or invalid. */
export function parseRetryAfter(headerValue: string | null, now: number = Date.now()): number | undefined {
  const value = headerValue?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // Every HTTP-date form starts with a day name; without this check Date.parse accepts things like "1.5".
  if (!/^[A-Za-z]{3}/.test(value)) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Whether a failure is transient and worth repeating: a connection error (also wrapped, as in fetch's
 * `TypeError: fetch failed` whose `cause` carries the code) or an HttpStatusError with 429, 502, 503 or 504.
 */
export function isRetryableError(error: unknown): boolean {
  if (error instanceof HttpStatusError) return RETRYABLE_STATUSES.has(error.status);
  if (error instanceof HeimdallError) return false;
  return isConnectionError(error, 0);
}

function isConnectionError(error: unknown, depth: number): boolean {
  if (!(error instanceof Error) || depth > 4) return false;
  const code = (error as { code?: unknown }).code;
  return (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) || isConnectionError(error.cause, depth + 1);
}

/**
 * What the breaker counts against a dependency: transient errors, 5xx, and UNAVAILABLE (our own timeouts, or a
 * nested policy giving up). Bad requests, GraphQL errors and caller aborts say nothing about its health.
 */
function isDependencyFailure(error: Error): boolean {
  return (
    isRetryableError(error) ||
    (error instanceof HttpStatusError && error.status >= 500) ||
    (error instanceof HeimdallError && error.code === 'UNAVAILABLE')
  );
}

export type RejectionReason = 'circuit_open' | 'bulkhead_full' | 'timeout';
const REJECTION_REASONS: readonly RejectionReason[] = ['circuit_open', 'bulkhead_full', 'timeout'];
const STATE_VALUES: Readonly<Record<BreakerState, number>> = { closed: 0, 'half-open': 1, open: 2, isolated: 3 };

/** The policies' Prometheus metrics, one instance per registry; share it between all policies of a service. */
export class ResilienceMetrics {
  private readonly breakerState: Gauge<'policy'>;
  private readonly rejections: Counter<'policy' | 'reason'>;
  private readonly retries: Counter<'policy'>;

  constructor(registry: Registry) {
    this.breakerState = new Gauge({
      name: 'heimdall_circuit_breaker_state',
      help: 'Circuit breaker state per policy: 0 closed, 1 half-open, 2 open, 3 isolated',
      labelNames: ['policy'],
      registers: [registry],
    });
    this.rejections = new Counter({
      name: 'heimdall_resilience_rejections_total',
      help: 'Calls failed by a resilience policy rather than by the dependency: circuit open, bulkhead full, timeout',
      labelNames: ['policy', 'reason'],
      registers: [registry],
    });
    this.retries = new Counter({
      name: 'heimdall_resilience_retries_total',
      help: 'Retried attempts per policy',
      labelNames: ['policy'],
      registers: [registry],
    });
  }

  /** Starts a policy's series at zero, so dashboards and rate() see it before its first failure. */
  track(policy: string): void {
    this.breakerState.set({ policy }, STATE_VALUES.closed);
    for (const reason of REJECTION_REASONS) this.rejections.inc({ policy, reason }, 0);
    this.retries.inc({ policy }, 0);
  }

  breakerStateChanged(policy: string, state: BreakerState): void {
    this.breakerState.set({ policy }, STATE_VALUES[state]);
  }

  rejected(policy: string, reason: RejectionReason): void {
    this.rejections.inc({ policy, reason });
  }

  retried(policy: string): void {
    this.retries.inc({ policy });
  }
}

const STATE_NAMES: Readonly<Record<CircuitState, BreakerState>> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * A policy's name becomes the `policy` label of its metrics and is named in its errors, so one convention holds
 * for all of them: the dependency, then what the policy guards, in snake_case (`clickhouse_ingest`, `peer_metrics`).
 */
const POLICY_NAME = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

/** Builds the policy for one dependency (`name` labels its metrics and errors, e.g. "clickhouse_read"). */
export function createResiliencePolicy(
  name: string,
  options: ResilienceOptions | undefined,
  metrics: ResilienceMetrics,
): ResiliencePolicy {
  if (!POLICY_NAME.test(name))
    throw new Error(`resilience policy name ${JSON.stringify(name)} is not snake_case (dependency_purpose)`);
  const { retry: r, breaker: b, bulkhead: h } = options ?? {};
  const resolved: Resolved = {
    timeoutMs: options?.timeoutMs ?? 3000,
    retry: {
      maxAttempts: r?.maxAttempts ?? 3,
      initialDelayMs: r?.initialDelayMs ?? 100,
      maxDelayMs: r?.maxDelayMs ?? 2000,
      maxRetryAfterMs: r?.maxRetryAfterMs ?? 5000,
    },
    breaker: {
      failureRatio: b?.failureRatio ?? 0.5,
      samplingDurationMs: b?.samplingDurationMs ?? 10_000,
      minimumRequests: b?.minimumRequests ?? 5,
      halfOpenAfterMs: b?.halfOpenAfterMs ?? 30_000,
    },
    bulkhead: { limit: h?.limit ?? 10, queue: h?.queue ?? 100 },
  };
  return new CockatielPolicy(name, resolved, metrics);
}

class CockatielPolicy implements ResiliencePolicy {
  private readonly bulkhead: BulkheadPolicy;
  private readonly retry: RetryPolicy;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly timeout: TimeoutPolicy;
  private openedAt = 0;

  constructor(
    readonly name: string,
    private readonly options: Resolved,
    private readonly metrics: ResilienceMetrics,
  ) {
    const { retry: retryOptions, breaker: breakerOptions } = options;
    this.bulkhead = bulkhead(options.bulkhead.limit, options.bulkhead.queue);

    const waitsTooLong = (error: Error) =>
      error instanceof HttpStatusError && (error.retryAfterMs ?? 0) > retryOptions.maxRetryAfterMs;
    this.retry = retry(
      handleWhen((error) => isRetryableError(error) && !waitsTooLong(error)),
      {
        maxAttempts: retryOptions.maxAttempts - 1, // cockatiel counts retries, we count attempts
        backoff: new DelegateBackoff<IRetryBackoffContext<unknown>>((context) => {
          const hinted =
            'error' in context.result && context.result.error instanceof HttpStatusError
              ? context.result.error.retryAfterMs
              : undefined;
          return hinted ?? backoffMs(context.attempt, retryOptions);
        }),
      },
    );
    this.retry.onRetry(() => metrics.retried(name));

    this.breaker = circuitBreaker(handleWhen(isDependencyFailure), {
      halfOpenAfter: breakerOptions.halfOpenAfterMs,
      breaker: new SamplingBreaker({
        threshold: breakerOptions.failureRatio,
        duration: breakerOptions.samplingDurationMs,
        minimumRps: breakerOptions.minimumRequests / (breakerOptions.samplingDurationMs / 1000),
      }),
    });
    this.breaker.onStateChange((state) => {
      if (state === CircuitState.Open) this.openedAt = Date.now();
      metrics.breakerStateChanged(name, STATE_NAMES[state]);
    });

    // Aggressive: a function that ignores its signal is abandoned at the deadline instead of holding the call.
    // abortOnReturn off: a returned value (a response whose body is read later) must not be aborted.
    this.timeout = timeout(options.timeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
    metrics.track(name);
  }

  get state(): BreakerState {
    return STATE_NAMES[this.breaker.state];
  }

  isolate(): { dispose(): void } {
    return this.breaker.isolate();
  }

  // Outermost first: bulkhead → retry → circuit breaker → timeout → fn.
  // - Bulkhead outermost: a call keeps its one slot through its retries and backoff, so retries never raise
  //   concurrency against a struggling store, and a full bulkhead fails fast before anything else runs.
  // - Retry outside the breaker: each retry asks the breaker again, so once it opens retrying stops at once
  //   (BrokenCircuitError is not retryable) instead of hammering a dependency known to be down.
  // - Timeout innermost, per attempt: the breaker sees every timeout as a failure at the moment it happens,
  //   even when `fn` ignores its signal and never settles. Timeouts are not retried, so a call rarely takes
  //   longer than `timeoutMs` plus backoff.
  async execute<T>(
    fn: (signal: AbortSignal) => Promise<T>,
    { idempotent = false, signal }: ExecuteOptions = {},
  ): Promise<T> {
    const once = ({ signal }: { signal: AbortSignal }) =>
      this.breaker.execute(({ signal }) => this.attempt(fn, signal), signal);
    try {
      return await this.bulkhead.execute(
        ({ signal }) => (idempotent ? this.retry.execute(once, signal) : once({ signal })),
        signal,
      );
    } catch (error) {
      throw this.rejection(error, signal);
    }
  }

  private async attempt<T>(fn: (signal: AbortSignal) => Promise<T>, callerSignal: AbortSignal): Promise<T> {
    const attempt: { signal?: AbortSignal } = {};
    try {
      return await this.timeout.execute(({ signal }) => {
        attempt.signal = signal;
        return fn(signal);
      }, callerSignal);
    } catch (error) {
      // The attempt's signal aborts on the deadline or on the caller's abort; only the first is a timeout.
      if (attempt.signal?.aborted && !callerSignal.aborted) {
        throw this.unavailable('timeout', `timed out after ${this.options.timeoutMs} ms`, 1, error);
      }
      throw error;
    }
  }

  private rejection(error: unknown, callerSignal: AbortSignal | undefined): unknown {
    if (callerSignal?.aborted) return callerSignal.reason;
    if (error instanceof IsolatedCircuitError) {
      return this.unavailable(
        'circuit_open',
        'circuit isolated',
        Math.ceil(this.options.breaker.halfOpenAfterMs / 1000),
        error,
      );
    }
    if (error instanceof BrokenCircuitError) {
      const remainingMs = this.options.breaker.halfOpenAfterMs - (Date.now() - this.openedAt);
      return this.unavailable('circuit_open', 'circuit open', Math.max(1, Math.ceil(remainingMs / 1000)), error);
    }
    if (error instanceof BulkheadRejectedError)
      return this.unavailable('bulkhead_full', 'too many concurrent calls', 1, error);
    // A dependency that stayed down through the retries is UNAVAILABLE to our caller (503 + Retry-After),
    // not an INTERNAL error of ours.
    if (error instanceof Error && !(error instanceof HeimdallError) && isDependencyFailure(error)) {
      const hintMs = error instanceof HttpStatusError ? error.retryAfterMs : undefined;
      return heimdallError('UNAVAILABLE', {
        message: `${this.name} is unavailable: ${error.message}`,
        retryAfterSeconds: Math.max(1, Math.ceil((hintMs ?? 1000) / 1000)),
        service: this.name,
        cause: error,
      });
    }
    return error;
  }

  private unavailable(reason: RejectionReason, what: string, retryAfterSeconds: number, cause: unknown): HeimdallError {
    this.metrics.rejected(this.name, reason);
    return heimdallError('UNAVAILABLE', {
      message: `${this.name} is unavailable: ${what}`,
      retryAfterSeconds,
      service: this.name,
      cause,
    });
  }
}

/**
 * Exponential backoff for retry `attempt` (1 = first retry) with "equal jitter": half fixed, half random, so
 * callers that failed together spread out while each retry still waits at least as long as the one before.
 */
function backoffMs(attempt: number, options: Resolved['retry']): number {
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}
