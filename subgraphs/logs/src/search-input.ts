/**
 * The input of the log queries as GraphQL carries it, checked: a `LogFilter` argument becomes the checked filter the
 * store turns into Elasticsearch's query DSL (store/query-dsl.ts), and a client's page cursor becomes the sort
 * values to continue after. Problems are values naming the input field at fault.
 */
import { parseRange } from '@heimdall/shared/user-input';
import { LOG_LEVELS, type LogLevel, parseLevel } from './log-document.js';
import { parseLogQuery } from './query-language.js';
import type { LabelMatcher, LogCursor, LogFilter } from './store/index.js';
import { BEFORE_STORED_TIMES, parseTimestamp } from './timestamps.js';

/** `LogFilter` as the GraphQL input carries it. */
export interface LogFilterInput {
  readonly query?: string | null;
  readonly services?: readonly string[] | null;
  readonly levels?: readonly string[] | null;
  readonly traceId?: string | null;
  readonly labels?: readonly LabelMatcher[] | null;
  /** RFC 3339 times with a zone; `from` inclusive, `to` exclusive. */
  readonly range: { readonly from: string; readonly to: string };
}

export interface LogQueryLimits {
  /** The longest range a search may cover, in ms. Default: 90 days, the retention (SPEC §5). */
  readonly maxRangeMs: number;
}

export const DEFAULT_LOG_QUERY_LIMITS: LogQueryLimits = { maxRangeMs: 90 * 86_400_000 };

/** `argument` names the input field at fault (`query`, `range.from`, `labels[1].value`); `position` is set for `query`. */
export type ParsedLogFilter =
  { ok: true; filter: LogFilter } | { ok: false; message: string; argument: string; position?: number };

const MAX_LIST = 100;
const MAX_REGEX_LENGTH = 256;
/** Longest service name and label key a filter takes (the JSON API stores none longer) and label value (longer ones are not indexed). */
const MAX_NAME_LENGTH = 256;
const MAX_LABEL_VALUE_LENGTH = 1024;

export function parseLogFilter(
  input: LogFilterInput,
  limits: LogQueryLimits = DEFAULT_LOG_QUERY_LIMITS,
): ParsedLogFilter {
  const bad = (argument: string, message: string, position?: number): ParsedLogFilter => ({
    ok: false,
    message: `${argument}: ${message}`,
    argument,
    ...(position === undefined ? {} : { position }),
  });

  const range = parseRange('range', input.range, { maxSpanMs: limits.maxRangeMs });
  if (!range.ok) return bad(range.argument, range.message);
  if (range.from < 0n) return bad('range.from', BEFORE_STORED_TIMES);
  const { from, to } = range;

  const query = parseLogQuery(input.query ?? '');
  if (!query.ok) return bad('query', `${query.message} (at ${query.position})`, query.position);

  const services = input.services ?? [];
  if (services.length > MAX_LIST) return bad('services', `at most ${MAX_LIST} services`);
  const longService = services.findIndex((service) => service.length > MAX_NAME_LENGTH);
  if (longService >= 0) return bad(`services[${longService}]`, `must be at most ${MAX_NAME_LENGTH} characters`);

  const levels: LogLevel[] = [];
  for (const [i, text] of (input.levels ?? []).entries()) {
    const level = parseLevel(text);
    if (level === undefined) return bad(`levels[${i}]`, `must be one of ${LOG_LEVELS.join(', ')}`);
    levels.push(level);
  }

  let traceId: string | undefined;
  if (input.traceId !== undefined && input.traceId !== null) {
    if (!/^[0-9a-fA-F]{32}$/.test(input.traceId)) return bad('traceId', 'must be 32 hex digits');
    traceId = input.traceId.toLowerCase();
  }

  const labels = input.labels ?? [];
  if (labels.length > MAX_LIST) return bad('labels', `at most ${MAX_LIST} matchers`);
  for (const [i, matcher] of labels.entries()) {
    if (matcher.key.trim() === '') return bad(`labels[${i}].key`, 'must not be empty');
    if (matcher.key.length > MAX_NAME_LENGTH)
      return bad(`labels[${i}].key`, `must be at most ${MAX_NAME_LENGTH} characters`);
    if (matcher.value.length > MAX_LABEL_VALUE_LENGTH)
      return bad(`labels[${i}].value`, `must be at most ${MAX_LABEL_VALUE_LENGTH} characters`);
    if (matcher.op === 'RE' || matcher.op === 'NRE') {
      const problem = checkRegex(matcher.value);
      if (problem !== undefined) return bad(`labels[${i}].value`, problem);
    }
  }

  return {
    ok: true,
    filter: {
      query: query.ast,
      services,
      levels,
      ...(traceId === undefined ? {} : { traceId }),
      labels,
      range: { from, to },
    },
  };
}

/**
 * Why a label regex is outside the supported subset, or undefined when it is inside. Elasticsearch reads it
 * with `flags: NONE`, so `# @ & < > ~` are plain characters there as in RE2.
 */
export function checkRegex(pattern: string): string | undefined {
  if (pattern.length > MAX_REGEX_LENGTH) return `a regular expression may have at most ${MAX_REGEX_LENGTH} characters`;
  let depth = 0;
  let quantifiable = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    switch (c) {
      case '\\': {
        const next = pattern[i + 1];
        if (next === undefined) return 'the regular expression ends with a lone \\';
        if (/[0-9A-Za-z]/.test(next)) return `\\${next} is not supported; write a character class such as [0-9]`;
        i++;
        quantifiable = true;
        break;
      }
      case '^':
      case '$':
        return 'patterns match the whole value: leave out ^ and $';
      case '"':
        return 'escape " as \\"';
      case '(':
        if (pattern[i + 1] === '?') return 'groups with (? are not supported';
        depth++;
        quantifiable = false;
        break;
      case ')':
        if (--depth < 0) return `unbalanced ) at ${i}`;
        quantifiable = true;
        break;
      case '|':
        quantifiable = false;
        break;
      case '[': {
        const end = classEnd(pattern, i);
        if (end === undefined) return `unclosed [ at ${i}`;
        i = end;
        quantifiable = true;
        break;
      }
      case '*':
      case '+':
      case '?':
        if (!quantifiable) return `nothing to repeat before ${c} at ${i}`;
        quantifiable = false;
        break;
      case '{': {
        const match = /^\{\d{1,3}(,\d{0,3})?\}/.exec(pattern.slice(i));
        if (match === null) return `a repetition is {n}, {n,} or {n,m}; escape a literal { as \\{ (at ${i})`;
        if (!quantifiable) return `nothing to repeat before { at ${i}`;
        i += match[0].length - 1;
        quantifiable = false;
        break;
      }
      case ']':
      case '}':
        return `escape a literal ${c} as \\${c} (at ${i})`;
      default:
        quantifiable = true;
    }
  }
  return depth === 0 ? undefined : 'unbalanced (';
}

/** The index of the `]` closing the class opened at `start`; a `]` first in the class is a character. */
function classEnd(pattern: string, start: number): number | undefined {
  let i = start + 1;
  if (pattern[i] === '^') i++;
  if (pattern[i] === ']') i++;
  for (; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === ']') return i;
  }
  return undefined;
}

/** An opaque page cursor for clients. */
export function encodeCursor(cursor: LogCursor): string {
  return Buffer.from(JSON.stringify([cursor.timestamp, cursor.id])).toString('base64url');
}

/** The cursor of a client's `after` argument, or undefined when it is not one of ours. */
export function decodeCursor(text: string): LogCursor | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [timestamp, id] = value as unknown[];
  if (
    typeof timestamp !== 'string' ||
    typeof id !== 'string' ||
    parseTimestamp(timestamp) === undefined ||
    id.length > 64
  )
    return undefined;
  return { timestamp, id };
}
