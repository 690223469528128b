/**
 * Bounds on what a logs answer carries, so that no answer grows with what one agent sent: long texts of an entry are
 * cut (and the entry marked `truncated`), and a list of entries stops at a byte budget.
 */
import type { LogDocument } from './log-document.js';

/** Characters of an entry's message, stack trace, each highlight or structured body an answer carries. */
export const ANSWER_TEXT_CHARS = 65_536;
/** Bytes of entries (as JSON) one list carries; the first entry always goes, whatever its size. */
export const ANSWER_LIST_BYTES = 4 * 1024 * 1024;

/** An entry as answered: `truncated` when the answer cut one of its texts. */
export type AnsweredEntry<T extends LogDocument = LogDocument> = T & { readonly truncated?: boolean };

/** `text` cut to `max` characters, never between the two halves of a surrogate pair. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = isHighSurrogate(text.charCodeAt(max - 1)) ? max - 1 : max;
  return text.slice(0, end);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/**
 * An html-encoded highlight cut to `max` characters: never inside a tag or an entity (`&lt;`), and an `<em>` left
 * open by the cut is closed, so the markup a dashboard receives stays well-formed.
 */
export function cutHighlight(html: string, max: number): string {
  if (html.length <= max) return html;
  let cut = cutText(html, max);
  const tag = cut.lastIndexOf('<');
  if (tag > cut.lastIndexOf('>')) cut = cut.slice(0, tag);
  const entity = cut.lastIndexOf('&');
  if (entity > cut.lastIndexOf(';')) cut = cut.slice(0, entity);
  return cut.lastIndexOf('<em>') > cut.lastIndexOf('</em>') ? `${cut}</em>` : cut;
}

/** The entry with its long texts cut to ANSWER_TEXT_CHARS; a structured body too long to cut as JSON is left out. */
export function boundedEntry<T extends LogDocument & { readonly highlights?: readonly string[] }>(
  entry: T,
): AnsweredEntry<T> {
  let truncated = false;
  const cut = (text: string) => {
    const shown = cutText(text, ANSWER_TEXT_CHARS);
    if (shown !== text) truncated = true;
    return shown;
  };
  const message = cut(entry.message);
  const stackTrace = entry.stackTrace === undefined ? undefined : cut(entry.stackTrace);
  const highlights = entry.highlights?.map((h) => {
    const shown = cutHighlight(h, ANSWER_TEXT_CHARS);
    if (shown !== h) truncated = true;
    return shown;
  });
  let metadata = entry.metadata;
  if (metadata?.body !== undefined && JSON.stringify(metadata.body).length > ANSWER_TEXT_CHARS) {
    metadata = { ...metadata };
    delete metadata.body;
    truncated = true;
  }
  if (!truncated) return entry;
  return {
    ...entry,
    message,
    ...(stackTrace === undefined ? {} : { stackTrace }),
    ...(highlights === undefined ? {} : { highlights }),
    ...(metadata === undefined ? {} : { metadata }),
    truncated,
  };
}

/**
 * The leading items of `items` whose answered part (`shown`, by default the item) fits in `budget` bytes of JSON, at
 * least the first, so that a page always moves on; the rest are left off, for the next page to take.
 */
export function withinBudget<T>(
  items: readonly T[],
  shown: (item: T) => unknown = (item) => item,
  budget: number = ANSWER_LIST_BYTES,
): T[] {
  let bytes = 0;
  const kept: T[] = [];
  for (const item of items) {
    bytes += Buffer.byteLength(JSON.stringify(shown(item)));
    if (bytes > budget && kept.length > 0) break;
    kept.push(item);
  }
  return kept;
}
