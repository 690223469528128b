/**
 * Reads of log entries, the seven kinds the queries make: a page of a search, a histogram, facets, the messages
 * patterns are mined from, volume series for anomalies, the entries of traces, and a service's newest entries. Each
 * read goes through the read policy with its abort signal, is retried on transient failures and is never partial.
 * What a search asks is built beside it: the query of a filter in query-dsl.ts, the counting aggregations in
 * aggregations.ts.
 */
import type { Client, estypes } from '@elastic/elasticsearch';
import { HeimdallError, heimdallError } from '@heimdall/shared/errors';
import type { ResiliencePolicy } from '@heimdall/shared/resilience';
import { badUserInput } from '@heimdall/shared/user-input';
import type { VolumeSeries } from '../anomalies.js';
import { type AnsweredEntry, boundedEntry, withinBudget } from '../answers.js';
import { type LogDocument, parseLevel } from '../log-document.js';
import { nanosToIso, nanosToMs, parseTimestamp } from '../timestamps.js';
import {
  type HistogramBucket,
  type LogFacets,
  facetAggregations,
  facetLabelKeys,
  facetsOf,
  histogramAggregations,
  histogramOf,
  labelValueAggregations,
  volumeSearch,
  volumeSeries,
} from './aggregations.js';
import { ElasticsearchRefusal, callElasticsearch, refusePartialResults, requestOptions } from './elasticsearch.js';
import {
  type LogCursor,
  type LogFilter,
  type LogPage,
  buildLogQuery,
  buildLogSearch,
  cursorAfter,
  logSort,
} from './query-dsl.js';
import { WRITE_ALIAS } from './retention.js';

/**
 * A log entry as the store returns it, its long texts cut (answers.ts); `highlights` only from searches with a text
 * query.
 */
export type LogRecord = AnsweredEntry<LogDocument & { readonly highlights?: readonly string[] }>;

export interface SearchPage {
  readonly entries: LogRecord[];
  readonly total: number;
  /** Whether `total` is exact; past 10,000 it is a lower bound. */
  readonly totalExact: boolean;
  /** Where the next page starts; absent on the last page. */
  readonly next?: LogCursor;
}

/** Messages for pattern mining, and whether they are only part of the matches. */
export interface MessageSample {
  readonly messages: { message: string; timestamp: string }[];
  readonly sampled: boolean;
}

/** Entries of one trace, or of one span when `spanId` is given. */
export interface TraceKey {
  readonly traceId: string;
  readonly spanId?: string;
}

export interface LogReaderOptions {
  /** The alias searched. Default `logs`. */
  readonly alias?: string;
  /**
   * How long a read over many matches (logPatterns, logFacets) may take in all, in ms; Elasticsearch is asked to
   * stop collecting at 60% of it and answer with what it has. Default 2,500: under the gateway's 3 s per subgraph.
   */
  readonly slowReadMs?: number;
}

/** Entries as stored, without the label keys that only serve facets. */
const SOURCE = { excludes: ['labelKeys'] };

/** Counts are exact up to this many matches, then a lower bound (Elasticsearch's own default). */
const TRACK_TOTAL_HITS = 10_000;
/** Entries of one trace or span a federated `logs` field returns, oldest first. */
export const MAX_TRACE_LOGS = 1_000;
/**
 * Pattern mining reads messages over 256 characters (no `message.keyword` doc value) from their sources: at most
 * this many per query, each only its first MINED_MESSAGE_CHARS (a template shows in its start; a 19 MB message
 * must not be read whole).
 */
export const MAX_LONG_MESSAGE_READS = 200;
export const MINED_MESSAGE_CHARS = 16_384;

export class LogReader {
  private readonly alias: string;
  private readonly slowReadMs: number;

  constructor(
    private readonly es: Client,
    private readonly policy: ResiliencePolicy,
    options: LogReaderOptions = {},
  ) {
    this.alias = options.alias ?? WRITE_ALIAS;
    this.slowReadMs = options.slowReadMs ?? 2_500;
  }

  async ping(signal: AbortSignal): Promise<void> {
    // `GET /` is not served by every distribution (SPEC §12): cluster health is the probe.
    const health = await this.es.cluster.health({}, requestOptions(signal));
    if (health.status === 'red') throw new Error('cluster health is red');
  }

  /** One page of entries matching `filter`, with the total when `countTotal`. */
  async search(
    filter: LogFilter,
    page: LogPage,
    options: { countTotal: boolean; signal?: AbortSignal },
  ): Promise<SearchPage> {
    const response = await this.read(
      (signal) =>
        this.es.search<LogDocument>(
          {
            index: this.alias,
            ...buildLogSearch(filter, { ...page, size: page.size + 1 }),
            track_total_hits: options.countTotal ? TRACK_TOTAL_HITS : false,
            _source: SOURCE,
          },
          requestOptions(signal),
        ),
      options.signal,
    );
    const hits = response.hits.hits;
    // Entries past the list's byte budget are left off: the cursor resumes at the first of them.
    const kept = withinBudget(
      hits.slice(0, page.size).flatMap((hit) => toRecord(hit).map((entry) => ({ hit, entry }))),
      (k) => k.entry,
    );
    const shown = kept.map((k) => k.hit);
    const next = hits.length > shown.length ? cursorAfter(shown.at(-1)?.sort) : undefined;
    const total = response.hits.total;
    return {
      entries: kept.map((k) => k.entry),
      total: typeof total === 'object' ? total.value : (total ?? shown.length),
      totalExact: typeof total === 'object' ? total.relation === 'eq' : true,
      ...(next === undefined ? {} : { next }),
    };
  }

  /** Counts per bucket of `intervalMs` and per level over the filter's range, empty buckets included. */
  async histogram(filter: LogFilter, intervalMs: number, signal?: AbortSignal): Promise<HistogramBucket[]> {
    const from = nanosToMs(filter.range.from);
    const to = nanosToMs(filter.range.to);
    const response = await this.read(
      (s) =>
        this.es.search(
          {
            index: this.alias,
            size: 0,
            track_total_hits: false,
            query: buildLogQuery(filter),
            aggs: histogramAggregations(intervalMs, { from, to }),
          },
          requestOptions(s),
        ),
      signal,
    );
    return histogramOf(response);
  }

  /**
   * The most frequent services, levels, label keys and each key's values among the matching entries. Keys are
   * counted over every match; their values over a sample of FACET_VALUE_SAMPLE matches per shard, which is what
   * makes a hundred value aggregations affordable over millions of entries.
   */
  async facets(filter: LogFilter, size: number, signal?: AbortSignal): Promise<LogFacets> {
    const query = buildLogQuery(filter);
    const deadline = this.slowRead(signal);
    const first = await deadline.read((s) =>
      this.es.search(
        {
          index: this.alias,
          size: 0,
          track_total_hits: false,
          query,
          timeout: deadline.elasticsearchTimeout,
          aggs: facetAggregations(size),
        },
        requestOptions(s),
      ),
    );
    const keys = facetLabelKeys(first);
    const values =
      keys.length === 0
        ? undefined
        : await deadline.read((s) =>
            this.es.search(
              {
                index: this.alias,
                size: 0,
                track_total_hits: false,
                query,
                timeout: deadline.elasticsearchTimeout,
                aggs: labelValueAggregations(keys, size),
              },
              requestOptions(s),
            ),
          );
    return facetsOf(first, values);
  }

  /**
   * The messages and times of the newest `size` matching entries, for pattern mining. Messages are read from the
   * `message.keyword` doc values, columnar and cheap, rather than from each document's compressed source; only the
   * messages too long for that field (over 256 characters) are then read, at most MAX_LONG_MESSAGE_READS of them
   * and their first MINED_MESSAGE_CHARS each. `sampled` when more entries match, when Elasticsearch stopped at its
   * time limit, or when long messages were left out (beyond the reads, or past the deadline).
   */
  async recentMessages(filter: LogFilter, size: number, signal?: AbortSignal): Promise<MessageSample> {
    const deadline = this.slowRead(signal);
    const response = await deadline.read((s) =>
      this.es.search(
        {
          index: this.alias,
          ...buildLogSearch(filter, { size: size + 1, highlight: false }),
          track_total_hits: false,
          timeout: deadline.elasticsearchTimeout,
          _source: false,
          docvalue_fields: ['message.keyword'],
        },
        requestOptions(s),
      ),
    );
    let sampled = response.timed_out || response.hits.hits.length > size;
    const found = response.hits.hits.slice(0, size).map((hit) => {
      const timestamp = hit.sort?.[0];
      const message = (hit.fields?.['message.keyword'] as unknown[] | undefined)?.[0];
      return {
        id: hit._id,
        index: hit._index,
        timestamp: typeof timestamp === 'string' ? timestamp : undefined,
        message: typeof message === 'string' ? message : undefined,
      };
    });
    const long = found.filter((hit) => hit.message === undefined && hit.id !== undefined);
    const read = long.slice(0, MAX_LONG_MESSAGE_READS);
    if (read.length < long.length) sampled = true;
    if (read.length > 0) {
      const beginnings = await this.messageBeginnings(
        read.map((hit) => hit.id!),
        deadline,
      );
      if (beginnings === undefined) sampled = true;
      for (const hit of read) hit.message = beginnings?.get(`${hit.index}/${hit.id}`);
    }
    const messages = found.flatMap((hit) =>
      hit.message === undefined || hit.timestamp === undefined
        ? []
        : [{ message: hit.message, timestamp: hit.timestamp }],
    );
    return { messages, sampled };
  }

  /**
   * The first MINED_MESSAGE_CHARS of each message, by `index/id`; undefined when the deadline passed first. A
   * highlight that matches nothing returns the start of the field (`no_match_size`), so Elasticsearch never sends
   * a long message whole.
   */
  private async messageBeginnings(ids: string[], deadline: SlowRead): Promise<Map<string, string> | undefined> {
    try {
      const response = await deadline.read((s) =>
        this.es.search(
          {
            index: this.alias,
            size: ids.length,
            track_total_hits: false,
            query: { ids: { values: ids } },
            _source: false,
            highlight: {
              max_analyzed_offset: MINED_MESSAGE_CHARS,
              fields: {
                message: {
                  highlight_query: { match_none: {} },
                  no_match_size: MINED_MESSAGE_CHARS,
                  number_of_fragments: 1,
                },
              },
            },
          },
          requestOptions(s),
        ),
      );
      return new Map(
        response.hits.hits.flatMap((hit) => {
          const start = hit.highlight?.message?.[0];
          return start === undefined
            ? []
            : [[`${hit._index}/${hit._id}`, start.slice(0, MINED_MESSAGE_CHARS)] as const];
        }),
      );
    } catch (error) {
      if (error instanceof HeimdallError && error.code === 'LIMIT_EXCEEDED') return undefined;
      throw error;
    }
  }

  /**
   * Counts of one service per level and bucket of `bucketMs` in each window (epoch ms, aligned to the buckets).
   * Buckets before the service's first entry in the windows are left out (unknown, not zero); after it, a level
   * without entries in a bucket counts 0.
   */
  async volume(
    service: string,
    windows: readonly { from: number; to: number }[],
    bucketMs: number,
    signal?: AbortSignal,
  ): Promise<VolumeSeries[]> {
    const response = await this.read(
      (s) =>
        this.es.search(
          { index: this.alias, size: 0, track_total_hits: false, ...volumeSearch(service, windows, bucketMs) },
          requestOptions(s),
        ),
      signal,
    );
    return volumeSeries(service, response, windows, bucketMs);
  }

  /** Entries of each trace (or span), oldest first, at most MAX_TRACE_LOGS each, in one round trip. */
  async traceLogs(keys: readonly TraceKey[], signal?: AbortSignal): Promise<LogRecord[][]> {
    if (keys.length === 0) return [];
    const searches = keys.flatMap((key) => [
      { index: this.alias },
      {
        query: {
          bool: {
            filter: [
              { term: { traceId: key.traceId } },
              ...(key.spanId === undefined ? [] : [{ term: { spanId: key.spanId } }]),
            ],
          },
        },
        sort: logSort('OLDEST_FIRST'),
        size: MAX_TRACE_LOGS,
        track_total_hits: false,
        _source: SOURCE,
      },
    ]);
    const response = await this.read((s) => this.es.msearch<LogDocument>({ searches }, requestOptions(s)), signal);
    return response.responses.map((item) => {
      if ('error' in item) throw new Error(`a trace's logs could not be read: ${item.error.type}`);
      return withinBudget(item.hits.hits.flatMap(toRecord));
    });
  }

  /** A service's most recent entries, newest first. */
  async recent(service: string, size: number, signal?: AbortSignal): Promise<LogRecord[]> {
    const response = await this.read(
      (s) =>
        this.es.search<LogDocument>(
          {
            index: this.alias,
            size,
            track_total_hits: false,
            query: { term: { service } },
            sort: [{ timestamp: { order: 'desc', format: 'strict_date_optional_time_nanos' } }],
            _source: SOURCE,
          },
          requestOptions(s),
        ),
      signal,
    );
    return withinBudget(response.hits.hits.flatMap(toRecord));
  }

  /**
   * Reads of one slow query under one deadline (`slowReadMs` from now), with the time limit Elasticsearch is given
   * for each search. Past the deadline a read is the caller's LIMIT_EXCEEDED (it asked for more than can be read in
   * time), never a failure of the store: an abort is not counted by the breaker.
   */
  private slowRead(signal: AbortSignal | undefined): SlowRead {
    const timeout = AbortSignal.timeout(this.slowReadMs);
    const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
    const seconds = this.slowReadMs / 1000;
    return {
      elasticsearchTimeout: `${Math.floor(this.slowReadMs * 0.6)}ms`,
      read: async (fn) => {
        try {
          return await this.read(fn, combined);
        } catch (error) {
          if (!timeout.aborted || signal?.aborted === true) throw error;
          throw heimdallError('LIMIT_EXCEEDED', {
            message: `the matching entries could not be read within ${seconds} s; narrow the filter (a shorter range, a service, a query)`,
            cause: error,
          });
        }
      },
    };
  }

  /**
   * A read: idempotent, retried on transient failures, never partial; a label regex Elasticsearch finds too complex
   * (in any index) is the client's.
   */
  private async read<T>(fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await callElasticsearch(this.policy, async (s) => refusePartialResults(await fn(s)), {
        idempotent: true,
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (error) {
      if (isTooComplex(error)) {
        throw badUserInput('labels', 'a regular expression is too complex to search; write a narrower one');
      }
      throw error;
    }
  }
}

interface SlowRead {
  /** The search `timeout`: Elasticsearch stops collecting matches then and answers with `timed_out`. */
  readonly elasticsearchTimeout: string;
  read<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T>;
}

function isTooComplex(error: unknown): boolean {
  return error instanceof ElasticsearchRefusal && error.causes.includes('too_complex_to_determinize_exception');
}

function toRecord(hit: estypes.SearchHit<LogDocument>): LogRecord[] {
  const source = hit._source;
  if (source === undefined || hit._id === undefined) return [];
  const sorted = hit.sort?.[0];
  const time = typeof sorted === 'string' ? sorted : String(source.timestamp);
  const nanos = parseTimestamp(time);
  const highlights = hit.highlight?.message;
  return [
    boundedEntry({
      ...source,
      id: typeof source.id === 'string' ? source.id : hit._id,
      // Nine fractional digits, whatever precision the writer used.
      timestamp: nanos === undefined ? time : nanosToIso(nanos),
      level: parseLevel(String(source.level)) ?? 'INFO',
      message: typeof source.message === 'string' ? source.message : '',
      service: typeof source.service === 'string' ? source.service : 'unknown_service',
      labels: source.labels ?? {},
      ...(highlights === undefined ? {} : { highlights }),
    }),
  ];
}
