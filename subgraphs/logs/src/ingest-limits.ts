/**
 * What one log document may hold, as OpenTelemetry SDKs bound a record (attribute count and value length): a value
 * over a limit is cut, an attribute past the count is left out, and the document says how many in its labels
 * (`heimdall.truncated`: values cut; `heimdall.dropped_attributes`: attributes left out, the sender's own
 * `droppedAttributesCount` included), so nothing is lost without a word and no one record can stall the store.
 */
import { cutText } from './answers.js';
import type { LogDocument } from './log-document.js';

export const INGEST_LIMITS = {
  /**
   * Characters of a message or stack trace. Korean text is analysed at about 130,000 characters a second on the
   * local 2 cores, so a longer one would hold its whole bulk request for seconds.
   */
  messageChars: 262_144,
  /** Characters of an attribute value (and of userId, requestId). */
  valueChars: 16_384,
  /** Attributes of one record, resource or scope (the OpenTelemetry SDKs' default). */
  attributes: 128,
  /** Characters of an attribute key. */
  keyChars: 256,
  /** Characters of the service, severity text, event name, scope name and version. */
  nameChars: 256,
} as const;

export const TRUNCATED_LABEL = 'heimdall.truncated';
export const DROPPED_ATTRIBUTES_LABEL = 'heimdall.dropped_attributes';

/**
 * The document within INGEST_LIMITS, with the counts of what was cut or left out among its labels. `dropped`:
 * attributes the sender already dropped.
 */
export function limitDocument(document: LogDocument, dropped = 0): LogDocument {
  const counts = { truncated: 0, dropped };
  const cut = (text: string, max: number) => {
    const shown = cutText(text, max);
    if (shown !== text) counts.truncated++;
    return shown;
  };
  const optional = (text: string | undefined, max: number) => (text === undefined ? undefined : cut(text, max));
  const attributes = (record: Readonly<Record<string, string>>) => {
    const kept: Record<string, string> = {};
    let count = 0;
    for (const [key, value] of Object.entries(record)) {
      if (++count > INGEST_LIMITS.attributes) {
        counts.dropped++;
        continue;
      }
      kept[cut(key, INGEST_LIMITS.keyChars)] = cut(value, INGEST_LIMITS.valueChars);
    }
    return kept;
  };

  const { metadata } = document;
  let limitedMetadata = metadata;
  if (metadata !== undefined) {
    limitedMetadata = { ...metadata };
    // A structured body too large to keep is left to its text, the message.
    if (metadata.body !== undefined && JSON.stringify(metadata.body).length > INGEST_LIMITS.messageChars) {
      delete limitedMetadata.body;
      counts.truncated++;
    }
    if (metadata.eventName !== undefined) limitedMetadata.eventName = cut(metadata.eventName, INGEST_LIMITS.nameChars);
    if (metadata.scopeAttributes !== undefined) limitedMetadata.scopeAttributes = attributes(metadata.scopeAttributes);
  }
  const labels = attributes(document.labels);
  const limited: LogDocument = {
    ...document,
    message: cut(document.message, INGEST_LIMITS.messageChars),
    service: cut(document.service, INGEST_LIMITS.nameChars),
    labels,
    ...strip({
      severityText: optional(document.severityText, INGEST_LIMITS.nameChars),
      stackTrace: optional(document.stackTrace, INGEST_LIMITS.messageChars),
      userId: optional(document.userId, INGEST_LIMITS.valueChars),
      requestId: optional(document.requestId, INGEST_LIMITS.valueChars),
      resource: document.resource === undefined ? undefined : attributes(document.resource),
      scope:
        document.scope === undefined
          ? undefined
          : {
              name: cut(document.scope.name, INGEST_LIMITS.nameChars),
              ...strip({ version: optional(document.scope.version, INGEST_LIMITS.nameChars) }),
            },
      metadata: limitedMetadata,
    }),
  };
  if (counts.truncated > 0) labels[TRUNCATED_LABEL] = String(counts.truncated);
  if (counts.dropped > 0) labels[DROPPED_ATTRIBUTES_LABEL] = String(counts.dropped);
  return limited;
}

/** The object without its undefined fields (the document's optional fields are absent, never undefined). */
function strip<T extends Record<string, unknown>>(fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
