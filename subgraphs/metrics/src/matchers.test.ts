import { describe, expect, it } from 'vitest';
import { checkMatchers } from './matchers.js';

describe('checkMatchers', () => {
  it('accepts what RE2 accepts: alternations, classes, flags, repetition', () => {
    expect(() =>
      checkMatchers(
        [
          { key: 'route', op: 'RE', value: '/cart|/pay' },
          { key: 'code', op: 'NRE', value: '5\\d\\d' },
          { key: 'host', op: 'RE', value: '(?i)WEB-[a-z]{2,3}' },
          { key: 'service', op: 'EQ', value: '(?=not a regex here)' },
        ],
        'matchers',
      ),
    ).not.toThrow();
  });

  it.each([
    ['a lookahead', '(?=x)y', /invalid or unsupported Perl syntax/],
    ['a backreference', '(a)\\1', /invalid escape sequence/],
    ['an unclosed group', '(a|b', /missing closing \)/],
    ['a possessive quantifier', 'a++', /invalid nested repetition operator/],
  ])('refuses %s with BAD_USER_INPUT naming the matcher', (_case, value, reason) => {
    const check = () =>
      checkMatchers(
        [
          { key: 'route', op: 'EQ', value: 'x' },
          { key: 'route', op: 'RE', value },
        ],
        'filter.labels',
      );
    expect(check).toThrow(
      expect.objectContaining({ code: 'BAD_USER_INPUT', details: { argument: 'filter.labels[1].value' } }) as Error,
    );
    expect(check).toThrow(reason);
  });
});

describe('bounds on matchers, before any store sees them', () => {
  const eq = (value: string, key = 'pod') => ({ key, op: 'EQ' as const, value });

  it('refuses more than 64 matchers with BAD_USER_INPUT naming the argument', () => {
    const many = Array.from({ length: 5000 }, (_, i) => eq(`pod-${i}`));
    expect(() => checkMatchers(many.slice(0, 64), 'matchers')).not.toThrow();
    expect(() => checkMatchers(many, 'matchers')).toThrow(
      expect.objectContaining({ code: 'BAD_USER_INPUT', details: { argument: 'matchers', max: 64 } }) as Error,
    );
  });

  it.each([
    ['a value over 4096 characters', eq('x'.repeat(4097)), 'matchers[0].value', 4096],
    [
      'a regular expression over 1024 characters',
      { key: 'pod', op: 'RE' as const, value: 'a|'.repeat(513) },
      'matchers[0].value',
      1024,
    ],
    ['a key over 1024 characters', eq('x', 'k'.repeat(1025)), 'matchers[0].key', 1024],
  ])('refuses %s, naming the matcher', (_case, matcher, argument, max) => {
    expect(() => checkMatchers([matcher], 'matchers')).toThrow(
      expect.objectContaining({ code: 'BAD_USER_INPUT', details: { argument, max } }) as Error,
    );
  });
});
