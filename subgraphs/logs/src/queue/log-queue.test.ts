import { describe, expect, it } from 'vitest';
import { messageFields, parseMessage, queueKeys, streamIdTime } from './log-queue.js';

describe('queued messages', () => {
  it('carry documents through a stream entry unchanged, line breaks and Korean included', () => {
    const documents = [
      { id: '0190-a', source: JSON.stringify({ message: '결제가\n실패했습니다', labels: { 'a,b': 'c' } }) },
      { id: '0190-b', source: JSON.stringify({ message: 'second' }) },
    ];
    expect(parseMessage(messageFields(documents))).toEqual(documents);
  });

  it('are not read from fields of another shape', () => {
    expect(parseMessage(['ids', 'a,b', 'docs', '{}'])).toBeUndefined();
    expect(parseMessage(['docs', '{}'])).toBeUndefined();
    expect(parseMessage(['x', 'ids', 'a', 'docs'])).toBeUndefined();
  });

  it('tell when they were queued, and name their keys after the stream', () => {
    expect(streamIdTime('1795918408959-3')).toBe(1795918408959);
    expect(queueKeys('heimdall:logs:entries')).toEqual({
      stream: 'heimdall:logs:entries',
      dead: 'heimdall:logs:entries:dead',
      backlog: 'heimdall:logs:entries:backlog',
    });
  });
});
