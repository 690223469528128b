import { describe, expect, it } from 'vitest';
import { ANSWER_TEXT_CHARS, boundedEntry, cutHighlight, cutText, withinBudget } from './answers.js';
import type { LogDocument } from './log-document.js';

const entry = (init: Partial<LogDocument> = {}): LogDocument => ({
  id: 'a',
  timestamp: '2026-11-22T10:00:00.000000000Z',
  level: 'INFO',
  message: 'ok',
  service: 'checkout',
  labels: {},
  ...init,
});

describe('answers', () => {
  it('cut a long message, stack trace, highlight and body of an entry and mark it truncated; leave a short one as it is', () => {
    const long = 'x'.repeat(ANSWER_TEXT_CHARS + 10);
    const shown = boundedEntry({
      ...entry({ message: long, stackTrace: long, metadata: { body: { data: long }, eventName: 'e' } }),
      highlights: [`<em>x</em>${long}`],
    });
    expect(shown.message).toHaveLength(ANSWER_TEXT_CHARS);
    expect(shown.stackTrace).toHaveLength(ANSWER_TEXT_CHARS);
    expect(shown.highlights[0]).toHaveLength(ANSWER_TEXT_CHARS);
    expect(shown.metadata).toEqual({ eventName: 'e' });
    expect(shown.truncated).toBe(true);
    const short = entry();
    expect(boundedEntry(short)).toBe(short);
  });

  it('never cut a character in two, nor a highlight inside a tag or an entity, and close an <em> the cut left open', () => {
    expect(cutText('ab😀', 3)).toBe('ab');
    expect(cutHighlight('abc<em>de</em>', 5)).toBe('abc');
    expect(cutHighlight('ab&lt;cd', 4)).toBe('ab');
    expect(cutHighlight('<em>abcdef</em>', 8)).toBe('<em>abcd</em>');
  });

  it('keep list items up to the byte budget, and always the first', () => {
    const items = ['a'.repeat(10), 'b'.repeat(10), 'c'.repeat(10)];
    expect(withinBudget(items, undefined, 25)).toEqual(items.slice(0, 2));
    expect(withinBudget(items, undefined, 5)).toEqual(items.slice(0, 1));
  });
});
