import { BrokenCircuitError, BulkheadRejectedError } from 'cockatiel';
import { GraphQLError } from 'graphql';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HeimdallError } from '../errors/heimdall-error.js';
import {
  HttpStatusError,
  ResilienceMetrics,
  createResiliencePolicy,
  isRetryableError,
  parseRetryAfter,
  type ResilienceOptions,
  type ResiliencePolicy,
} from './policy.js';

function makePolicy(options?: ResilienceOptions, name = 'clickhouse') {
  const registry = new Registry();
  const metrics = new ResilienceMetrics(registry);
  return { registry, metrics, policy: createResiliencePolicy(name, options, metrics) };
}

/** A store call that answers or fails as scripted, repeating its last step. */
function scripted(...steps: Array<string | Error>) {
  let call = 0;
  return vi.fn((_signal: AbortSignal): Promise<string | undefined> => {
    const step = steps[Math.min(call++, steps.length - 1)];
    return step instanceof Error ? Promise.reject(step) : Promise.resolve(step);
  });
}

/** A store call that honours its signal: it only ends, with the abort reason, when aborted. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
}

/** Watches a promise without awaiting it, so fake time can advance while it is pending. */
function watch<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const busy = () => new HttpStatusError(503, 'busy');
const never = () => new Promise<never>(() => undefined);

/** Two successes then three 503s: more than half of the default breaker's minimum of 5 calls failed. */
async function openCircuit(policy: ResiliencePolicy): Promise<void> {
  const fn = scripted('ok', 'ok', busy());
  for (let i = 0; i < 5; i++) await policy.execute(fn).catch(() => undefined);
  expect(policy.state).toBe('open');
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('retries', () => {
  it('retries an idempotent call that got 503 and returns the later answer', async () => {
    const { policy } = makePolicy();
    const fn = scripted(busy(), busy(), 'rows');
    const call = watch(policy.execute(fn, { idempotent: true }));
    await vi.advanceTimersByTimeAsync(5000);
    expect(call).toEqual({ settled: true, value: 'rows' });
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('gives up after 3 attempts in total with UNAVAILABLE caused by the last error', async () => {
    const { policy } = makePolicy();
    const last = new HttpStatusError(502, 'third');
    const fn = scripted(new HttpStatusError(503, 'first'), new HttpStatusError(504, 'second'), last, 'never reached');
    const call = watch(policy.execute(fn, { idempotent: true }));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(call.error).toMatchObject({ code: 'UNAVAILABLE', cause: last, retryAfterSeconds: 1 });
    expect((call.error as Error).message).toContain('third');
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('never retries a call that is not idempotent', async () => {
    const { policy } = makePolicy();
    const fn = scripted(busy(), 'ok');
    const call = watch(policy.execute(fn));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(call.error).toMatchObject({ code: 'UNAVAILABLE' });
    expect((call.error as Error).cause).toBeInstanceOf(HttpStatusError);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('never retries a 400, even for an idempotent call', async () => {
    const { policy } = makePolicy();
    const fn = scripted(new HttpStatusError(400, 'bad selector'), 'ok');
    const call = watch(policy.execute(fn, { idempotent: true }));
    await vi.advanceTimersByTimeAsync(10_000);
    expect((call.error as HttpStatusError).status).toBe(400);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  const connectionError = (code: string) => Object.assign(new Error(`connect ${code}`), { code });
  it.each<[string, unknown, boolean]>([
    [
      'fetch failed because the connection was refused',
      new TypeError('fetch failed', { cause: connectionError('ECONNREFUSED') }),
      true,
    ],
    ['a connection reset', connectionError('ECONNRESET'), true],
    ['a temporary DNS failure', connectionError('EAI_AGAIN'), true],
    ["undici's socket error", new TypeError('fetch failed', { cause: connectionError('UND_ERR_SOCKET') }), true],
    ['429', new HttpStatusError(429), true],
    ['502', new HttpStatusError(502), true],
    ['503', new HttpStatusError(503), true],
    ['504', new HttpStatusError(504), true],
    ['500', new HttpStatusError(500), false],
    ['404', new HttpStatusError(404), false],
    ['a GraphQL error', new GraphQLError('Cannot query field'), false],
    ["the caller's abort", new DOMException('aborted', 'AbortError'), false],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'rows')"), false],
  ])('treats %s as retryable: %s', (_what, error, retryable) => {
    expect(isRetryableError(error)).toBe(retryable);
  });

  it('waits as long as Retry-After asks instead of the backoff', async () => {
    const { policy } = makePolicy();
    const fn = scripted(new HttpStatusError(503, 'busy', 1500), 'ok');
    const call = watch(policy.execute(fn, { idempotent: true }));
    await vi.advanceTimersByTimeAsync(1499);
    expect(fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fn).toHaveBeenCalledTimes(2);
    expect(call.value).toBe('ok');
  });

  it('gives up at once when Retry-After asks for longer than it is willing to wait', async () => {
    const { policy } = makePolicy();
    const fn = scripted(new HttpStatusError(429, 'slow down', 60_000), 'ok');
    const call = watch(policy.execute(fn, { idempotent: true }));
    await vi.advanceTimersByTimeAsync(0);
    expect(call.settled).toBe(true);
    expect(call.error).toMatchObject({ code: 'UNAVAILABLE', retryAfterSeconds: 60 });
    expect(((call.error as Error).cause as HttpStatusError).retryAfterMs).toBe(60_000);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('waits exponentially longer between attempts, never more than maxDelayMs', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const { policy } = makePolicy({ retry: { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 400 } });
    const times: number[] = [];
    const call = watch(
      policy.execute(
        () => {
          times.push(Date.now());
          return Promise.reject(busy());
        },
        { idempotent: true },
      ),
    );
    await vi.advanceTimersByTimeAsync(10_000);
    expect(call.settled).toBe(true);
    const gaps = times.slice(1).map((time, i) => time - (times[i] ?? 0));
    // Three quarters (the mocked jitter) of 100, 200, 400, then of the 400 cap again.
    expect(gaps).toEqual([75, 150, 300, 300]);
  });

  it.each([
    [0, 50],
    [0.9999, 100],
  ])('spreads the first retry between half and all of initialDelayMs (random %d → %i ms)', async (random, expected) => {
    vi.spyOn(Math, 'random').mockReturnValue(random);
    const { policy } = makePolicy();
    const fn = scripted(busy(), 'ok');
    void policy.execute(fn, { idempotent: true });
    await vi.advanceTimersByTimeAsync(expected - 1);
    expect(fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fn).toHaveBeenCalledTimes(2);
  });
});

describe('circuit breaker', () => {
  it('opens when more than half the calls in the window fail, then fails fast with UNAVAILABLE without calling the store', async () => {
    const { policy } = makePolicy();
    await openCircuit(policy);

    const fn = scripted('ok');
    const error = await rejectionOf(policy.execute(fn));
    expect(fn).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(HeimdallError);
    expect(error).toMatchObject({
      code: 'UNAVAILABLE',
      status: 503,
      message: 'clickhouse is unavailable: circuit open',
      retryAfterSeconds: 30,
      details: { service: 'clickhouse' },
    });
    expect((error as HeimdallError).cause).toBeInstanceOf(BrokenCircuitError);

    await vi.advanceTimersByTimeAsync(12_000);
    expect(await rejectionOf(policy.execute(fn))).toMatchObject({ retryAfterSeconds: 18 });
  });

  it('stays closed at exactly half failures', async () => {
    const { policy } = makePolicy();
    const fn = scripted('ok', 'ok', 'ok', busy());
    for (let i = 0; i < 6; i++) await policy.execute(fn).catch(() => undefined);
    expect(policy.state).toBe('closed');
  });

  it('stays closed while the window holds fewer calls than minimumRequests', async () => {
    const { policy } = makePolicy();
    const fn = scripted(busy());
    for (let i = 0; i < 4; i++) await policy.execute(fn).catch(() => undefined);
    expect(policy.state).toBe('closed');
  });

  it("is not opened by the caller's bad requests", async () => {
    const { policy } = makePolicy();
    const fn = scripted(new HttpStatusError(400, 'bad query'));
    for (let i = 0; i < 10; i++) await policy.execute(fn).catch(() => undefined);
    expect(policy.state).toBe('closed');
  });

  it('lets one test call through after 30 s and closes when it succeeds', async () => {
    const { policy } = makePolicy();
    await openCircuit(policy);

    await vi.advanceTimersByTimeAsync(29_999);
    expect(await rejectionOf(policy.execute(scripted('ok')))).toBeInstanceOf(HeimdallError);

    await vi.advanceTimersByTimeAsync(1);
    const answer = deferred<string>();
    const test = watch(policy.execute(() => answer.promise));
    expect(policy.state).toBe('half-open');
    answer.resolve('ok');
    await vi.advanceTimersByTimeAsync(0);
    expect(test.value).toBe('ok');
    expect(policy.state).toBe('closed');
  });

  it('opens again for another 30 s when the test call fails', async () => {
    const { policy } = makePolicy();
    await openCircuit(policy);
    await vi.advanceTimersByTimeAsync(30_000);

    await policy.execute(scripted(busy())).catch(() => undefined);
    expect(policy.state).toBe('open');
    expect(await rejectionOf(policy.execute(scripted('ok')))).toMatchObject({
      code: 'UNAVAILABLE',
      retryAfterSeconds: 30,
    });
  });

  it('stops retrying as soon as the circuit opens', async () => {
    const { policy } = makePolicy({ breaker: { minimumRequests: 2 } });
    const fn = scripted(busy());
    const call = watch(policy.execute(fn, { idempotent: true }));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fn).toHaveBeenCalledTimes(2);
    expect(call.error).toMatchObject({ code: 'UNAVAILABLE', message: 'clickhouse is unavailable: circuit open' });
  });

  it('rejects every call while isolated, and resumes when released', async () => {
    const { policy, registry } = makePolicy();
    const handle = policy.isolate();
    expect(policy.state).toBe('isolated');
    expect(await registry.metrics()).toContain('heimdall_circuit_breaker_state{policy="clickhouse"} 3');
    expect(await rejectionOf(policy.execute(scripted('ok')))).toMatchObject({
      code: 'UNAVAILABLE',
      message: 'clickhouse is unavailable: circuit isolated',
    });
    handle.dispose();
    expect(await policy.execute(scripted('ok'))).toBe('ok');
  });
});

describe('bulkhead', () => {
  it('runs `limit` calls at once, queues `queue` more and rejects the rest with UNAVAILABLE', async () => {
    const { policy } = makePolicy({ bulkhead: { limit: 2, queue: 1 } });
    const answers = [deferred<number>(), deferred<number>(), deferred<number>()];
    let started = 0;
    const calls = answers.map((answer) =>
      watch(
        policy.execute(() => {
          started++;
          return answer.promise;
        }),
      ),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toBe(2);

    const error = await rejectionOf(policy.execute(scripted('ok')));
    expect(error).toMatchObject({
      code: 'UNAVAILABLE',
      message: 'clickhouse is unavailable: too many concurrent calls',
      retryAfterSeconds: 1,
    });
    expect((error as HeimdallError).cause).toBeInstanceOf(BulkheadRejectedError);

    answers[0]?.resolve(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toBe(3);
    answers[1]?.resolve(1);
    answers[2]?.resolve(2);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.map((call) => call.value)).toEqual([0, 1, 2]);
  });
});

describe('timeout', () => {
  it('aborts the signal of a call still running after 3 s and fails it with UNAVAILABLE', async () => {
    const { policy } = makePolicy();
    let seen: AbortSignal | undefined;
    const call = watch(
      policy.execute((signal) => {
        seen = signal;
        return untilAborted(signal);
      }),
    );
    await vi.advanceTimersByTimeAsync(2999);
    expect(call.settled).toBe(false);
    expect(seen?.aborted).toBe(false);

    await vi.advanceTimersByTimeAsync(1);
    expect(seen?.aborted).toBe(true);
    expect(call.error).toMatchObject({
      code: 'UNAVAILABLE',
      message: 'clickhouse is unavailable: timed out after 3000 ms',
    });
  });

  it('abandons a call that ignores its signal', async () => {
    const { policy } = makePolicy({ timeoutMs: 500 });
    const call = watch(policy.execute(never));
    await vi.advanceTimersByTimeAsync(500);
    expect(call.error).toMatchObject({
      code: 'UNAVAILABLE',
      message: 'clickhouse is unavailable: timed out after 500 ms',
    });
  });

  it('opens the circuit when most calls time out', async () => {
    const { policy } = makePolicy();
    for (let i = 0; i < 5; i++) void policy.execute(never).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(3000);
    expect(policy.state).toBe('open');
  });

  it("passes the caller's abort through without retrying it or reporting a timeout", async () => {
    const { policy, registry } = makePolicy();
    const controller = new AbortController();
    const reason = new Error('client went away');
    const fn = vi.fn(untilAborted);
    const call = watch(policy.execute(fn, { idempotent: true, signal: controller.signal }));
    await vi.advanceTimersByTimeAsync(100);
    controller.abort(reason);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(call.error).toBe(reason);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(await registry.metrics()).toContain(
      'heimdall_resilience_rejections_total{policy="clickhouse",reason="timeout"} 0',
    );
  });
});

describe('metrics', () => {
  it("shows each policy's breaker state, rejections and retries in /metrics", async () => {
    const { policy, metrics, registry } = makePolicy();
    createResiliencePolicy('elasticsearch', undefined, metrics);
    await openCircuit(policy);
    await policy.execute(scripted('ok')).catch(() => undefined);

    const text = await registry.metrics();
    expect(text).toContain('heimdall_circuit_breaker_state{policy="clickhouse"} 2');
    expect(text).toContain('heimdall_circuit_breaker_state{policy="elasticsearch"} 0');
    expect(text).toContain('heimdall_resilience_rejections_total{policy="clickhouse",reason="circuit_open"} 1');
    expect(text).toContain('heimdall_resilience_rejections_total{policy="elasticsearch",reason="circuit_open"} 0');
  });

  it('counts retries, timeouts and bulkhead rejections', async () => {
    const { policy, registry } = makePolicy({ bulkhead: { limit: 1, queue: 0 }, timeoutMs: 1000 });
    const retried = watch(policy.execute(scripted(busy(), 'ok'), { idempotent: true }));
    await vi.advanceTimersByTimeAsync(1000);
    expect(retried.value).toBe('ok');

    const slow = watch(policy.execute(never));
    await policy.execute(scripted('ok')).catch(() => undefined);
    await vi.advanceTimersByTimeAsync(1000);
    expect(slow.settled).toBe(true);

    const text = await registry.metrics();
    expect(text).toContain('heimdall_resilience_retries_total{policy="clickhouse"} 1');
    expect(text).toContain('heimdall_resilience_rejections_total{policy="clickhouse",reason="timeout"} 1');
    expect(text).toContain('heimdall_resilience_rejections_total{policy="clickhouse",reason="bulkhead_full"} 1');
  });

  it('keeps services in one process apart: each registry holds only its own policies', async () => {
    const first = makePolicy(undefined, 'postgres');
    const second = makePolicy(undefined, 'jaeger');
    expect(await first.registry.metrics()).not.toContain('jaeger');
    expect(await second.registry.metrics()).not.toContain('postgres');
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-03T10:00:00Z');
  it.each<[string | null, number | undefined]>([
    ['120', 120_000],
    [' 3 ', 3000],
    ['0', 0],
    ['Tue, 03 Nov 2026 10:00:30 GMT', 30_000],
    ['Tue, 03 Nov 2026 09:59:00 GMT', 0],
    ['-1', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    ['', undefined],
    [null, undefined],
  ])('reads %j as %s ms', (header, expected) => {
    expect(parseRetryAfter(header, now)).toBe(expected);
  });

  it('is read from a response by HttpStatusError.fromResponse', () => {
    const error = HttpStatusError.fromResponse(
      new Response(null, { status: 503, statusText: 'Service Unavailable', headers: { 'Retry-After': '2' } }),
    );
    expect(error).toMatchObject({ status: 503, retryAfterMs: 2000, message: 'HTTP 503 Service Unavailable' });
    expect(isRetryableError(error)).toBe(true);
  });
});

describe('policy names', () => {
  it('takes snake_case names, which become the policy label of its metrics', () => {
    expect(() => makePolicy(undefined, 'peer_metrics')).not.toThrow();
    expect(() => makePolicy(undefined, 'clickhouse')).not.toThrow();
  });

  it.each(['peer-metrics', 'elasticsearch-bulk', 'jaegerSearch', '_redis', 'redis_', ''])(
    'refuses %j, so that no two conventions reach the dashboards',
    (name) => {
      expect(() => makePolicy(undefined, name)).toThrow(/snake_case/);
    },
  );
});
