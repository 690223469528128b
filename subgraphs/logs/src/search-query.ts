/**
 * `LogFilter` → Elasticsearch search: a bool query built clause by clause from the parsed query language and
 * the structured filters, so user text only ever reaches Elasticsearch as the value of a `match`, `term` or
 * `prefix` (never as `query_string` syntax). Free words are matched through `korean_analyzer`, Korean and
 * English alike; keyword fields are matched exactly.
 */
import type { estypes } from '@elastic/elasticsearch';
import { parseRange } from '@heimdall/shared';
import { ANSWER_TEXT_CHARS } from './answers.js';
import { LOG_LEVELS, type LogLevel, parseLevel } from './log-document.js';
import { type QueryNode, parseLogQuery } from './query-language.js';
import { BEFORE_STORED_TIMES, nanosToIso, parseTimestamp } from './timestamps.js';

export type MatchOp = 'EQ' | 'NEQ' | 'RE' | 'NRE';

/**
 * A condition on one label. A missing label never matches EQ or RE and always matches NEQ and NRE. RE and NRE
 * take the subset of regular expressions that reads the same in RE2 (the metrics matchers) and in
 * Elasticsearch: literals, `.`, `[...]`, `( | )`, `* + ? {n,m}`, `\` before punctuation; anchored to the whole
 * value, so `^` and `$` are refused.
 */
export interface LabelMatcher {
  readonly key: string;
  readonly op: MatchOp;
  readonly value: string;
}

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

/** A checked filter: times in nanoseconds, levels and ids normalised. */
export interface LogFilter {
  readonly query: QueryNode | null;
  readonly services: readonly string[];
  readonly levels: readonly LogLevel[];
  readonly traceId?: string;
  readonly labels: readonly LabelMatcher[];
  readonly range: { readonly from: bigint; readonly to: bigint };
}

export interface LogQueryLimits {
  /** The longest range a search may cover, in ms. Default: 90 days, the retention (SPEC §5). */
  readonly maxRangeMs: number;
}

export const DEFAULT_LOG_QUERY_LIMITS: LogQueryLimits = { maxRangeMs: 90 * 86_400_000 };

/** `argument` names the input field at fault (`query`, `range.from`, `labels[1].value`); `position` is set for `query`. */
export type ParsedLogFilter = { ok: true; filter: LogFilter } | { ok: false; message: string; argument: string; position?: number };

const MAX_LIST = 100;
const MAX_REGEX_LENGTH = 256;
/** Longest service name and label key a filter takes (the JSON API stores none longer) and label value (longer ones are not indexed). */
const MAX_NAME_LENGTH = 256;
const MAX_LABEL_VALUE_LENGTH = 1024;

export function parseLogFilter(input: LogFilterInput, limits: LogQueryLimits = DEFAULT_LOG_QUERY_LIMITS): ParsedLogFilter {
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
    if (matcher.key.length > MAX_NAME_LENGTH) return bad(`labels[${i}].key`, `must be at most ${MAX_NAME_LENGTH} characters`);
    if (matcher.value.length > MAX_LABEL_VALUE_LENGTH) return bad(`labels[${i}].value`, `must be at most ${MAX_LABEL_VALUE_LENGTH} characters`);
    if (matcher.op === 'RE' || matcher.op === 'NRE') {
      const problem = checkRegex(matcher.value);
      if (problem !== undefined) return bad(`labels[${i}].value`, problem);
    }
  }

  return { ok: true, filter: { query: query.ast, services, levels, ...(traceId === undefined ? {} : { traceId }), labels, range: { from, to } } };
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

type Query = estypes.QueryDslQueryContainer;

/** The bool query of a checked filter: structured filters as `filter`/`must_not`, the text query as `must`. */
export function buildLogQuery(filter: LogFilter): { bool: estypes.QueryDslBoolQuery } {
  const must: Query[] = [];
  const mustNot: Query[] = [];
  const filters: Query[] = [
    { range: { timestamp: { gte: nanosToIso(filter.range.from), lt: nanosToIso(filter.range.to), format: 'strict_date_optional_time_nanos' } } },
  ];
  if (filter.services.length > 0) filters.push({ terms: { service: [...filter.services] } });
  if (filter.levels.length > 0) filters.push({ terms: { level: [...filter.levels] } });
  if (filter.traceId !== undefined) filters.push({ term: { traceId: filter.traceId } });
  for (const matcher of filter.labels) {
    const field = `labels.${matcher.key}`;
    const clause: Query =
      matcher.op === 'EQ' || matcher.op === 'NEQ'
        ? { term: { [field]: matcher.value } }
        : { regexp: { [field]: { value: matcher.value, flags: 'NONE', max_determinized_states: 10_000 } } };
    (matcher.op === 'EQ' || matcher.op === 'RE' ? filters : mustNot).push(clause);
  }
  if (filter.query !== null) {
    // A top-level NOT joins must_not instead of nesting one more bool.
    if (filter.query.kind === 'not') mustNot.push(textQuery(filter.query.child));
    else must.push(textQuery(filter.query));
  }
  return { bool: { filter: filters, ...(must.length > 0 ? { must } : {}), ...(mustNot.length > 0 ? { must_not: mustNot } : {}) } };
}

function textQuery(node: QueryNode): Query {
  switch (node.kind) {
    case 'and': {
      const positive = node.children.filter((c) => c.kind !== 'not').map(textQuery);
      const negative = node.children.flatMap((c) => (c.kind === 'not' ? [textQuery(c.child)] : []));
      return { bool: { ...(positive.length > 0 ? { must: positive } : {}), ...(negative.length > 0 ? { must_not: negative } : {}) } };
    }
    case 'or':
      return { bool: { should: node.children.map(textQuery), minimum_should_match: 1 } };
    case 'not':
      return { bool: { must_not: [textQuery(node.child)] } };
    case 'phrase':
      return { match_phrase: { message: { query: node.value } } };
    case 'term':
      return node.field === 'message' ? { match: { message: { query: node.value, operator: 'and' } } } : { term: { [node.field]: node.value } };
    case 'prefix':
      // The analysed words of the value, the last one as a prefix: `데이터베*` finds 데이터베이스 (데이터 + 베*).
      return node.field === 'message'
        ? { match_bool_prefix: { message: { query: node.value, operator: 'and', max_expansions: PREFIX_EXPANSIONS } } }
        : { prefix: { [node.field]: { value: node.value } } };
  }
}

/** How many indexed words a prefix may stand for (Elasticsearch's default for match_bool_prefix). */
const PREFIX_EXPANSIONS = 50;

export type LogOrder = 'NEWEST_FIRST' | 'OLDEST_FIRST';

/**
 * By time (newest first unless asked otherwise), then by id: timestamps tie (several entries per millisecond, or
 * per nanosecond from agents that round), and `search_after` needs a total order to page without skipping or
 * repeating. The `id` keyword stands in for `_id`, which Elasticsearch 9 does not sort on without fielddata.
 * Timestamps come back as RFC 3339 strings so that cursors keep the nanoseconds.
 */
export function logSort(order: LogOrder = 'NEWEST_FIRST'): estypes.SortCombinations[] {
  const direction = order === 'NEWEST_FIRST' ? 'desc' : 'asc';
  // unmapped_type: an index written before `id` was mapped (the first local stacks') sorts instead of failing.
  return [{ timestamp: { order: direction, format: 'strict_date_optional_time_nanos' } }, { id: { order: direction, unmapped_type: 'keyword' } }];
}

/**
 * The whole message with the matched words in `<em>`…`</em>`. The html encoder escapes the message's own
 * markup, so `<em>` is the only tag a dashboard receives. Only the first 65,536 characters are analysed: an answer
 * shows no more of a message (answers.ts), and a long message is highlighted there instead of failing the search.
 */
export const LOG_HIGHLIGHT: estypes.SearchHighlight = {
  encoder: 'html',
  pre_tags: ['<em>'],
  post_tags: ['</em>'],
  max_analyzed_offset: ANSWER_TEXT_CHARS,
  fields: { message: { number_of_fragments: 0 } },
};

/** Where the next page starts: the sort values of the last entry of this one. */
export interface LogCursor {
  readonly timestamp: string;
  readonly id: string;
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
  if (typeof timestamp !== 'string' || typeof id !== 'string' || parseTimestamp(timestamp) === undefined || id.length > 64) return undefined;
  return { timestamp, id };
}

/** The cursor after a hit, from the sort values logSort makes Elasticsearch return. */
export function cursorAfter(sort: estypes.SortResults | undefined): LogCursor | undefined {
  const [timestamp, id] = sort ?? [];
  return typeof timestamp === 'string' && typeof id === 'string' ? { timestamp, id } : undefined;
}

/** One page of a search: how many entries, in which order, from where, and whether to highlight the message. */
export interface LogPage {
  readonly size: number;
  readonly after?: LogCursor;
  readonly order?: LogOrder;
  /** Default true. */
  readonly highlight?: boolean;
}

/** The body of one page of a search: query, order, highlight and where to start. */
export function buildLogSearch(filter: LogFilter, page: LogPage) {
  return {
    query: buildLogQuery(filter),
    sort: logSort(page.order),
    ...(page.highlight === false ? {} : { highlight: LOG_HIGHLIGHT }),
    size: page.size,
    ...(page.after === undefined ? {} : { search_after: [page.after.timestamp, page.after.id] }),
  } satisfies Partial<estypes.SearchRequest>;
}
