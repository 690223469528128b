/**
 * OTLP log records → log documents (SPEC §2, §4): severity to level, body to message, attributes to labels,
 * resource to service, and a document id that a retried request reproduces, so that writing with
 * `op_type: create` never stores a record twice. Each document is held within INGEST_LIMITS.
 */
import { createHash, hash } from 'node:crypto';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  type ExportLogsServiceRequest,
  type KeyValue,
  anyValueJson,
  anyValueText,
  hexId,
  otlp,
} from '@heimdall/shared/otlp';
import { limitDocument } from './ingest-limits.js';
import {
  LOG_LEVELS,
  type LogDocument,
  type LogLevel,
  type LogMetadata,
  levelFromSeverityText,
} from './log-document.js';
import { isWithinIngestWindow, nanosToIso, msToNanos } from './timestamps.js';

export interface OtlpLogDocuments {
  readonly documents: { id: string; document: LogDocument }[];
  /** Records not turned into documents (outside the ingest window). */
  readonly rejected: number;
  /** Why records were rejected, and warnings about fields that were dropped; each reason once. */
  readonly errors: string[];
}

export const UNKNOWN_SERVICE = 'unknown_service';

/** Attributes lifted out of `labels` into their own fields; the first present wins. */
const STACK_TRACE_KEY = 'exception.stacktrace';
const USER_ID_KEYS = ['user.id', 'enduser.id'];
const REQUEST_ID_KEYS = ['request.id', 'http.request.id'];

const EMPTY_RESOURCE = create(otlp.ResourceSchema);
const EMPTY_SCOPE = create(otlp.InstrumentationScopeSchema);

const TRACE_ID_BYTES = 16;
const SPAN_ID_BYTES = 8;

/**
 * Maps an export request at time `now` (ms). Records older than 7 days or more than 10 minutes ahead are
 * rejected one by one; everything else becomes a document.
 */
export function toLogDocuments(request: ExportLogsServiceRequest, now: number): OtlpLogDocuments {
  const documents: { id: string; document: LogDocument }[] = [];
  const errors = new Set<string>();
  const ids = new DocumentIds();
  let rejected = 0;

  for (const resourceLogs of request.resourceLogs) {
    const resource = textAttributes(resourceLogs.resource?.attributes ?? []);
    const service = nonEmpty(resource['service.name']) ?? UNKNOWN_SERVICE;
    const resourceBytes = toBinary(otlp.ResourceSchema, resourceLogs.resource ?? EMPTY_RESOURCE);
    for (const scopeLogs of resourceLogs.scopeLogs) {
      const scope = scopeLogs.scope;
      const scopeAttributes = textAttributes(scope?.attributes ?? []);
      const origin = ids.origin(resourceBytes, toBinary(otlp.InstrumentationScopeSchema, scope ?? EMPTY_SCOPE));
      for (const record of scopeLogs.logRecords) {
        // OTLP: a record without a time of its own is placed at when it was observed.
        const nanos =
          record.timeUnixNano > 0n
            ? record.timeUnixNano
            : record.observedTimeUnixNano > 0n
              ? record.observedTimeUnixNano
              : msToNanos(now);
        if (!isWithinIngestWindow(nanos, now)) {
          rejected++;
          errors.add('log records must be at most 7 days old and 10 minutes ahead');
          continue;
        }
        const id = ids.next(origin, toBinary(otlp.LogRecordSchema, record));
        const attributes = textAttributes(record.attributes);
        const { [STACK_TRACE_KEY]: stackTrace, ...labels } = attributes;
        const body = record.body?.value.case === undefined ? undefined : record.body;
        const metadata: LogMetadata = {
          ...(body !== undefined && body.value.case !== 'stringValue' ? { body: anyValueJson(body) } : {}),
          // Kept whenever sent, even when it equals the time or stood in for a missing one: an agent reading its
          // record back must find the field it sent.
          ...(record.observedTimeUnixNano > 0n ? { observedTimestamp: nanosToIso(record.observedTimeUnixNano) } : {}),
          ...(record.eventName === '' ? {} : { eventName: record.eventName }),
          ...(Object.keys(scopeAttributes).length === 0 ? {} : { scopeAttributes }),
        };
        const document: LogDocument = {
          id,
          timestamp: nanosToIso(nanos),
          level: severityLevel(record.severityNumber, record.severityText),
          ...(record.severityText === '' ? {} : { severityText: record.severityText }),
          ...severityNumberOf(record.severityNumber, errors),
          message: body === undefined ? record.eventName : anyValueText(body),
          service,
          ...optionalId('traceId', record.traceId, TRACE_ID_BYTES, errors),
          ...optionalId('spanId', record.spanId, SPAN_ID_BYTES, errors),
          labels,
          resource,
          ...scopeOf(scope, scopeAttributes),
          ...(nonEmpty(stackTrace) === undefined ? {} : { stackTrace }),
          ...firstOf('userId', USER_ID_KEYS, attributes),
          ...firstOf('requestId', REQUEST_ID_KEYS, attributes),
          ...(Object.keys(metadata).length === 0 ? {} : { metadata }),
        };
        documents.push({ id, document: limitDocument(document, record.droppedAttributesCount) });
      }
    }
  }
  return { documents, rejected, errors: [...errors] };
}

/**
 * Content ids: a hash of the record's encoding under its resource and scope, so the same record sent again
 * gets the same id. Identical records within one request (the same line logged twice in the same
 * nanosecond) are told apart by their rank among the copies, which a retry of that request reproduces.
 */
class DocumentIds {
  private readonly copies = new Map<string, number>();

  origin(resource: Uint8Array, scope: Uint8Array): Buffer {
    return createHash('sha256').update(lengthPrefix(resource.length)).update(resource).update(scope).digest();
  }

  next(origin: Buffer, record: Uint8Array): string {
    // One-shot hashing: a Hash object per record cost more than the digest itself.
    const content = hash('sha256', Buffer.concat([origin, record]), 'hex');
    const copy = this.copies.get(content) ?? 0;
    this.copies.set(content, copy + 1);
    const id = copy === 0 ? content : hash('sha256', `${content}:${copy}`, 'hex');
    return id.slice(0, 32);
  }
}

function lengthPrefix(length: number): Uint8Array {
  const prefix = new Uint8Array(4);
  new DataView(prefix.buffer).setUint32(0, length);
  return prefix;
}

/** Severity numbers come in fours per level (TRACE 1–4 … FATAL 21–24); an unspecified number defers to the text. */
export function severityLevel(severityNumber: otlp.SeverityNumber, severityText: string): LogLevel {
  if (severityNumber >= otlp.SeverityNumber.TRACE && severityNumber <= otlp.SeverityNumber.FATAL4) {
    return severityNumber < otlp.SeverityNumber.DEBUG
      ? 'DEBUG'
      : LOG_LEVELS[Math.floor((severityNumber - otlp.SeverityNumber.DEBUG) / 4)]!;
  }
  return levelFromSeverityText(severityText) ?? 'INFO';
}

/**
 * The severity number when it is one OTLP defines (1–24). Another value (from a newer or broken sender) is left
 * out: the text decides the level, and Elasticsearch's byte field would refuse the whole record for it.
 */
function severityNumberOf(severityNumber: otlp.SeverityNumber, errors: Set<string>): { severityNumber?: number } {
  if (severityNumber === otlp.SeverityNumber.UNSPECIFIED) return {};
  if (severityNumber >= otlp.SeverityNumber.TRACE && severityNumber <= otlp.SeverityNumber.FATAL4)
    return { severityNumber };
  errors.add('severityNumber must be 1-24; other values were dropped and the severity text decided the level');
  return {};
}

function optionalId<K extends 'traceId' | 'spanId'>(
  field: K,
  bytes: Uint8Array,
  size: number,
  errors: Set<string>,
): { [F in K]?: string } {
  if (bytes.length === 0 || bytes.every((b) => b === 0)) return {};
  if (bytes.length !== size) {
    errors.add(`${field} must be ${size} bytes; dropped from the records that had another size`);
    return {};
  }
  return { [field]: hexId(bytes) } as { [F in K]?: string };
}

/**
 * The scope's name and version, whenever the scope says anything (a name, a version or attributes): a scope known
 * only by its attributes has the empty name, as in OTLP. Its attributes stay in metadata, apart from the labels.
 */
function scopeOf(
  scope: otlp.InstrumentationScope | undefined,
  attributes: Record<string, string>,
): { scope?: { name: string; version?: string } } {
  if (scope === undefined || (scope.name === '' && scope.version === '' && Object.keys(attributes).length === 0))
    return {};
  return { scope: { name: scope.name, ...(scope.version === '' ? {} : { version: scope.version }) } };
}

function firstOf<K extends 'userId' | 'requestId'>(
  field: K,
  keys: readonly string[],
  attributes: Record<string, string>,
): { [F in K]?: string } {
  const value = keys.map((key) => nonEmpty(attributes[key])).find((v) => v !== undefined);
  return (value === undefined ? {} : { [field]: value }) as { [F in K]?: string };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Attributes as flat string labels. Keys Elasticsearch cannot store (empty or blank) are left out; a later
 * duplicate key wins, as in OTLP/JSON object semantics.
 */
function textAttributes(list: readonly KeyValue[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const kv of list) if (kv.key.trim() !== '') labels[kv.key] = anyValueText(kv.value);
  return labels;
}
