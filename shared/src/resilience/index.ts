/**
 * What keeps a dependency's trouble from spreading: cockatiel policies (timeout, retry, breaker, bulkhead) with
 * their metrics, and the group-commit batcher's backpressure.
 */
export {
  type BreakerOptions,
  type BreakerState,
  type BulkheadOptions,
  type ExecuteOptions,
  HttpStatusError,
  type RejectionReason,
  ResilienceMetrics,
  type ResilienceOptions,
  type ResiliencePolicy,
  type RetryOptions,
  createResiliencePolicy,
  isRetryableError,
  parseRetryAfter,
} from './policy.js';
export { type BatcherOptions, GroupCommitBatcher, type ItemOutcomes } from './group-commit-batcher.js';
