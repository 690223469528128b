/**
 * `POST /api/v1/logs` (SPEC §4, the seed format): one entry or an array of entries with snake_case fields,
 * validated and turned into log documents, each with a new id the API answers with.
 */
import { z } from 'zod';
import { uuidv7 } from './ids.js';
import { limitDocument } from './ingest-limits.js';
import { type LogDocument, type LogLevel, parseLevel } from './log-document.js';
import { isWithinIngestWindow, msToNanos, nanosToIso, parseTimestamp } from './timestamps.js';

export const MAX_ENTRIES = 10_000;
const MAX_LABELS = 100;
const MAX_NAME_LENGTH = 256;

export type ParsedLogEntries =
  | { ok: true; entries: LogDocument[] }
  /** `field` (dotted, as in the request: `labels.region`) and `index` are set when one entry is at fault. */
  | { ok: false; message: string; field?: string; index?: number };

const requiredString = (what: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? 'is required' : `must be ${what}`) });

const optional = <T extends z.ZodType>(schema: T) => schema.nullish().transform((value) => value ?? undefined);

const name = requiredString('a string')
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_NAME_LENGTH, `must be at most ${MAX_NAME_LENGTH} characters`);

const hexId = (digits: number) =>
  requiredString(`${digits} hex digits`)
    .regex(new RegExp(`^[0-9a-fA-F]{${digits}}$`), `must be ${digits} hex digits`)
    .refine((id) => /[1-9a-fA-F]/.test(id), 'must not be all zeros')
    .transform((id) => id.toLowerCase());

const TIMESTAMP_FORMAT = 'must be an RFC 3339 time with a zone (2026-11-22T10:00:00.123Z) or epoch milliseconds';
const timestamp = z.union([z.string(), z.number()], { error: TIMESTAMP_FORMAT }).transform((value, ctx) => {
  const nanos =
    typeof value === 'number'
      ? Number.isFinite(value) && value >= 0
        ? msToNanos(value)
        : undefined
      : parseTimestamp(value);
  if (nanos === undefined) {
    ctx.issues.push({ code: 'custom', input: value, message: TIMESTAMP_FORMAT });
    return z.NEVER;
  }
  return nanos;
});

const level = requiredString('a level').transform((text, ctx): LogLevel => {
  const parsed = parseLevel(text);
  if (parsed === undefined)
    ctx.issues.push({
      code: 'custom',
      input: text,
      message: 'must be one of DEBUG, INFO, WARN, WARNING, ERROR, FATAL',
    });
  return parsed ?? 'INFO';
});

const labels = z
  .record(z.string(), z.string({ error: 'must be a string' }), { error: 'must be an object of string values' })
  .refine(
    (record) => Object.keys(record).every((key) => key.trim() !== '' && key.length <= MAX_NAME_LENGTH),
    `must have non-blank keys of at most ${MAX_NAME_LENGTH} characters`,
  )
  .refine((record) => Object.keys(record).length <= MAX_LABELS, `must have at most ${MAX_LABELS} keys`);

/** One entry of the seed format. Unknown fields are refused so that a misspelt one is not silently lost. */
export const logEntrySchema = z.strictObject(
  {
    timestamp: optional(timestamp),
    level: optional(level),
    message: requiredString('a string').refine((text) => text.trim() !== '', 'must not be empty'),
    service: name,
    trace_id: optional(hexId(32)),
    span_id: optional(hexId(16)),
    labels: optional(labels),
    stack_trace: optional(requiredString('a string')),
    user_id: optional(name),
    request_id: optional(name),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? 'is not a field of a log entry' : 'must be an object') },
);

/**
 * Validates a request body (already parsed JSON) at time `now` (ms). Stops at the first bad entry: the answer
 * names its index and field. Entries without a timestamp are logged at `now`; every entry gets a fresh id.
 */
export function parseLogEntries(body: unknown, now: number): ParsedLogEntries {
  const list = Array.isArray(body) ? body : [body];
  if (list.length === 0) return { ok: false, message: 'expected at least one log entry' };
  if (list.length > MAX_ENTRIES)
    return { ok: false, message: `expected at most ${MAX_ENTRIES} log entries, got ${list.length}` };

  const entries: LogDocument[] = [];
  for (const [index, item] of list.entries()) {
    const parsed = logEntrySchema.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
      const field = path.map(String).join('.');
      return {
        ok: false,
        message: `entry ${index}: ${field === '' ? 'the entry' : field} ${issue.message}`,
        ...(field === '' ? {} : { field }),
        index,
      };
    }
    const entry = parsed.data;
    const nanos = entry.timestamp ?? msToNanos(now);
    if (!isWithinIngestWindow(nanos, now)) {
      return {
        ok: false,
        message: `entry ${index}: timestamp must be at most 7 days old and 10 minutes ahead`,
        field: 'timestamp',
        index,
      };
    }
    entries.push(
      limitDocument({
        id: uuidv7(now),
        timestamp: nanosToIso(nanos),
        level: entry.level ?? 'INFO',
        message: entry.message,
        service: entry.service,
        ...(entry.trace_id === undefined ? {} : { traceId: entry.trace_id }),
        ...(entry.span_id === undefined ? {} : { spanId: entry.span_id }),
        labels: entry.labels ?? {},
        ...(entry.stack_trace === undefined ? {} : { stackTrace: entry.stack_trace }),
        ...(entry.user_id === undefined ? {} : { userId: entry.user_id }),
        ...(entry.request_id === undefined ? {} : { requestId: entry.request_id }),
      }),
    );
  }
  return { ok: true, entries };
}
