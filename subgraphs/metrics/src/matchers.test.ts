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
    const check = () => checkMatchers([{ key: 'route', op: 'EQ', value: 'x' }, { key: 'route', op: 'RE', value }], 'filter.labels');
    expect(check).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', details: { argument: 'filter.labels[1].value' } }) as Error);
    expect(check).toThrow(reason);
  });
});
