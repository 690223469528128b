import { describe, expect, it } from 'vitest';
import { levelFromSeverityText, parseLevel } from './log-document.js';

describe('levels', () => {
  it('reads the five level names and WARNING in any case, nothing else', () => {
    expect(['debug', 'Info', 'WARN', 'warning', 'error', 'FATAL'].map(parseLevel)).toEqual([
      'DEBUG',
      'INFO',
      'WARN',
      'WARN',
      'ERROR',
      'FATAL',
    ]);
    expect(parseLevel('Information')).toBeUndefined();
    expect(parseLevel('TRACE')).toBeUndefined();
  });

  it('understands the severity names logging libraries and syslog use', () => {
    const texts = ['Information', 'warning', 'Err', 'ERROR2', 'Trace', 'Critical', 'notice', 'SEVERE', ' fine '];
    expect(texts.map(levelFromSeverityText)).toEqual([
      'INFO',
      'WARN',
      'ERROR',
      'ERROR',
      'DEBUG',
      'FATAL',
      'INFO',
      'ERROR',
      'DEBUG',
    ]);
  });

  it('leaves unknown severity texts to the caller', () => {
    expect(levelFromSeverityText('banana')).toBeUndefined();
    expect(levelFromSeverityText('3')).toBeUndefined();
  });
});
