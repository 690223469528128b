/**
 * The shape of a log entry as stored in Elasticsearch (elasticsearch/logs-index-template.json), and the level
 * vocabulary every way in (OTLP, the JSON API, the query language) maps onto.
 */

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogDocument {
  /** The Elasticsearch `_id` as well: sorting on `_id` needs fielddata, which Elasticsearch 9 refuses. */
  id: string;
  /** RFC 3339 UTC with nine fractional digits, for the `date_nanos` field. */
  timestamp: string;
  level: LogLevel;
  /** The source's own severity name ("Information", "warning"), kept as sent. */
  severityText?: string;
  /** OTLP severity number 1–24 when the source sent one. */
  severityNumber?: number;
  message: string;
  service: string;
  /** 32 lowercase hex digits. */
  traceId?: string;
  /** 16 lowercase hex digits. */
  spanId?: string;
  /** Flat keys (`http.method`), string values. */
  labels: Record<string, string>;
  /** Every resource attribute, flat keys, string values. */
  resource?: Record<string, string>;
  scope?: { name: string; version?: string };
  stackTrace?: string;
  userId?: string;
  requestId?: string;
  /** Kept, never indexed. */
  metadata?: LogMetadata;
}

export interface LogMetadata {
  /** A structured OTLP body (kvlist, array, bytes...) as JSON; `message` holds its text. */
  body?: unknown;
  /** When the collector saw the record, whenever the source said so (also when it equals `timestamp`). */
  observedTimestamp?: string;
  eventName?: string;
  scopeAttributes?: Record<string, string>;
}

const STRICT_LEVELS: ReadonlyMap<string, LogLevel> = new Map([
  ['DEBUG', 'DEBUG'],
  ['INFO', 'INFO'],
  ['WARN', 'WARN'],
  ['WARNING', 'WARN'],
  ['ERROR', 'ERROR'],
  ['FATAL', 'FATAL'],
]);

/** A level as a person writes it in the API or a query: the five names or WARNING, in any case. */
export function parseLevel(text: string): LogLevel | undefined {
  return STRICT_LEVELS.get(text.toUpperCase());
}

/**
 * Severity names used by logging libraries and syslog, by their first word in lower case. TRACE and its kin
 * map to DEBUG because the level enum has no TRACE; syslog's emergency/alert/critical are FATAL.
 */
const SEVERITY_WORDS: ReadonlyMap<string, LogLevel> = new Map([
  ...['trace', 'debug', 'dbg', 'verbose', 'fine', 'finer', 'finest', 'all'].map((w) => [w, 'DEBUG'] as const),
  ...['info', 'information', 'informational', 'notice', 'config'].map((w) => [w, 'INFO'] as const),
  ...['warn', 'warning'].map((w) => [w, 'WARN'] as const),
  ...['err', 'error', 'severe', 'exception'].map((w) => [w, 'ERROR'] as const),
  ...['fatal', 'panic', 'crit', 'critical', 'alert', 'emerg', 'emergency'].map((w) => [w, 'FATAL'] as const),
]);

/** A level from a free-form severity text ("Information", "warning", "Err", "ERROR2"); undefined if unknown. */
export function levelFromSeverityText(text: string): LogLevel | undefined {
  const word = /^[a-z]+/.exec(text.trim().toLowerCase())?.[0];
  return word === undefined ? undefined : SEVERITY_WORDS.get(word);
}
