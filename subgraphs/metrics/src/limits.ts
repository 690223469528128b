import type { HeimdallError } from '@heimdall/shared/errors';
import { badUserInput } from '@heimdall/shared/user-input';

/**
 * The bounds every metrics query is checked against before ClickHouse sees it (README, Metrics). Beyond one, the
 * query is BAD_USER_INPUT naming the argument: the caller asked for too much, the store is not failing.
 */

/** Label matchers one query may carry: selectors rarely need ten; 1,000 took ClickHouse 2.3 s. */
export const MAX_MATCHERS = 64;
/** Characters of a label key in a matcher or in groupBy. */
export const MAX_LABEL_KEY_LENGTH = 1024;
/**
 * Characters of a label value (and of a scope's name and version) ingest stores; a longer one is cut there and
 * counted in the push's answer. OpenTelemetry SDKs have no default; 4,096 keeps any URL, SQL text or stack frame
 * label a dashboard would match while one hostile value cannot cost more than that per series.
 */
export const MAX_LABEL_VALUE_LENGTH = 4096;
/** Attributes kept per resource, scope and point (OpenTelemetry SDKs' default attribute count limit); more are dropped and counted. */
export const MAX_ATTRIBUTES = 128;
/** Characters of an EQ/NEQ matcher's value: the longest label value ingest stores, so any stored value matches. */
export const MAX_MATCHER_VALUE_LENGTH = MAX_LABEL_VALUE_LENGTH;
/** Characters of an RE/NRE matcher's regular expression: 64 of them compile in about 60 ms on the event loop. */
export const MAX_REGEX_LENGTH = 1024;
/** Characters of a metric name (OpenTelemetry's instrument names have at most 255). */
export const MAX_METRIC_NAME_LENGTH = 1024;
/** Labels one metricQuery may group by. */
export const MAX_GROUP_BY = 16;

/** Most of `metricNames(limit)` and `Service.series(limit)` (default 100). */
export const MAX_NAMES_PAGE = 1000;
/** Most keys of `metricLabels(limit)` (default 100) and values per key of `metricLabels(valuesLimit)` (default 100). */
export const MAX_LABEL_KEYS = 1000;
export const MAX_LABEL_VALUES = 1000;
/** Characters of a value in `metricLabels`' answer: a longer one is cut there and its key marked truncated. */
export const LABEL_ANSWER_VALUE_LENGTH = 256;
/** Bytes of values in one `metricLabels` answer: once spent, the keys after it list no more values (truncated). */
export const LABEL_ANSWER_MAX_BYTES = 1024 * 1024;

/** An argument over its bound: BAD_USER_INPUT naming the argument and the bound. */
export function overBound(argument: string, what: string, max: number): HeimdallError {
  return badUserInput(argument, `${what}; at most ${max}`, { max });
}

/** Checks a text argument's length against its bound. */
export function checkLength(argument: string, text: string, max: number): void {
  if (text.length > max) throw overBound(argument, `${text.length} characters`, max);
}
