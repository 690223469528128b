/**
 * A checked log filter → Elasticsearch search: a bool query built clause by clause from the parsed query language
 * and the structured filters, so user text only ever reaches Elasticsearch as the value of a `match`, `term` or
 * `prefix` (never as `query_string` syntax). Free words are matched through `korean_analyzer`, Korean and English
 * alike; keyword fields are matched exactly. The filter arrives checked (search-input.ts checks what clients send).
 */
import type { estypes } from '@elastic/elasticsearch';
import { ANSWER_TEXT_CHARS } from '../answers.js';
import type { LogLevel } from '../log-document.js';
import type { QueryNode } from '../query-language.js';
import { nanosToIso } from '../timestamps.js';

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

/** A checked filter: times in nanoseconds, levels and ids normalised. */
export interface LogFilter {
  readonly query: QueryNode | null;
  readonly services: readonly string[];
  readonly levels: readonly LogLevel[];
  readonly traceId?: string;
  readonly labels: readonly LabelMatcher[];
  readonly range: { readonly from: bigint; readonly to: bigint };
}

type Query = estypes.QueryDslQueryContainer;

/** The bool query of a checked filter: structured filters as `filter`/`must_not`, the text query as `must`. */
export function buildLogQuery(filter: LogFilter): { bool: estypes.QueryDslBoolQuery } {
  const must: Query[] = [];
  const mustNot: Query[] = [];
  const filters: Query[] = [
    {
      range: {
        timestamp: {
          gte: nanosToIso(filter.range.from),
          lt: nanosToIso(filter.range.to),
          format: 'strict_date_optional_time_nanos',
        },
      },
    },
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
  return {
    bool: {
      filter: filters,
      ...(must.length > 0 ? { must } : {}),
      ...(mustNot.length > 0 ? { must_not: mustNot } : {}),
    },
  };
}

function textQuery(node: QueryNode): Query {
  switch (node.kind) {
    case 'and': {
      const positive = node.children.filter((c) => c.kind !== 'not').map(textQuery);
      const negative = node.children.flatMap((c) => (c.kind === 'not' ? [textQuery(c.child)] : []));
      return {
        bool: {
          ...(positive.length > 0 ? { must: positive } : {}),
          ...(negative.length > 0 ? { must_not: negative } : {}),
        },
      };
    }
    case 'or':
      return { bool: { should: node.children.map(textQuery), minimum_should_match: 1 } };
    case 'not':
      return { bool: { must_not: [textQuery(node.child)] } };
    case 'phrase':
      return { match_phrase: { message: { query: node.value } } };
    case 'term':
      return node.field === 'message'
        ? { match: { message: { query: node.value, operator: 'and' } } }
        : { term: { [node.field]: node.value } };
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
  return [
    { timestamp: { order: direction, format: 'strict_date_optional_time_nanos' } },
    { id: { order: direction, unmapped_type: 'keyword' } },
  ];
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
