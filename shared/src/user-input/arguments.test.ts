import { describe, expect, it } from 'vitest';
import { HeimdallError, toGraphQLError } from '../errors/heimdall-error.js';
import {
  badUserInput,
  badUserInputs,
  durationArgument,
  parseRange,
  rangeArgument,
  rangeArgumentNanos,
  sizeArgument,
} from './arguments.js';

const RANGE = { from: '2026-11-22T10:00:00Z', to: '2026-11-22T11:00:00Z' };
const DAY = 86_400_000;

/** What a client sees of a thrown error: its code, message and extensions. */
function refusal(run: () => unknown) {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HeimdallError);
    const { message, extensions } = toGraphQLError(error);
    return { message, extensions };
  }
  throw new Error('not refused');
}

describe('badUserInput', () => {
  it('is BAD_USER_INPUT whose message starts with the argument, named again in extensions.argument', () => {
    expect(
      refusal(() => {
        throw badUserInput('filter.limit', 'too many', { max: 10 });
      }),
    ).toEqual({
      message: 'filter.limit: too many',
      extensions: { code: 'BAD_USER_INPUT', argument: 'filter.limit', max: 10 },
    });
  });

  it('keeps the argument it names even when the details carry one', () => {
    expect(badUserInput('step', 'x', { argument: 'other' }).details).toEqual({ argument: 'step' });
  });
});

describe('badUserInputs', () => {
  it('is BAD_USER_INPUT naming the first field and carrying every error', () => {
    const errors = [
      { field: 'conditions[0].metric.window', message: 'is required' },
      { field: 'name', message: 'is required' },
    ];
    const error = badUserInputs(errors);
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.message).toBe('conditions[0].metric.window: is required (and 1 more)');
    expect(error.details).toEqual({ argument: 'conditions[0].metric.window', errors });
  });

  it('says nothing of more when there is one', () => {
    expect(badUserInputs([{ field: 'name', message: 'is required' }]).message).toBe('name: is required');
  });
});

describe('sizeArgument', () => {
  it('takes a whole number from 1 to the maximum', () => {
    expect(sizeArgument('limit', 1, 100)).toBe(1);
    expect(sizeArgument('limit', 100, 100)).toBe(100);
  });

  it.each([0, -5, 101, 1.5, Number.NaN])('refuses %d, naming the argument and the maximum', (requested) => {
    expect(refusal(() => sizeArgument('first', requested, 100))).toEqual({
      message: `first: must be from 1 to 100, not ${requested}`,
      extensions: { code: 'BAD_USER_INPUT', argument: 'first', max: 100 },
    });
  });
});

describe('durationArgument', () => {
  it('reads a compound duration within its bounds', () => {
    expect(durationArgument('step', '1h30m', { min: 1_000 })).toBe(5_400_000);
  });

  it('refuses a text or a bound, naming the argument', () => {
    expect(refusal(() => durationArgument('interval', 'soon', { min: 1_000 }))).toEqual({
      message: 'interval: "soon" is not a duration such as 30s, 5m, 1h30m or 1d (unexpected "soon")',
      extensions: { code: 'BAD_USER_INPUT', argument: 'interval' },
    });
    expect(refusal(() => durationArgument('step', '500ms', { min: 1_000 })).message).toBe('step: must be at least 1s');
    expect(refusal(() => durationArgument('step', '1500ms', { min: 1_000, multipleOf: 1_000 })).message).toBe(
      'step: must be a multiple of 1s, not "1500ms"',
    );
  });
});

describe('ranges', () => {
  it('reads both ends to the nanosecond or to the millisecond', () => {
    expect(rangeArgumentNanos('range', { from: '2026-11-22T10:00:00.000000001Z', to: RANGE.to })).toEqual({
      from: 1_795_341_600_000_000_001n,
      to: 1_795_345_200_000_000_000n,
    });
    expect(rangeArgument('range', RANGE, { maxSpanMs: DAY })).toEqual({
      from: 1_795_341_600_000,
      to: 1_795_345_200_000,
    });
  });

  it('names the end at fault, or the range when from is not before to or the span is too long', () => {
    expect(refusal(() => rangeArgument('filter.range', { from: 'yesterday', to: RANGE.to }))).toEqual({
      message: 'filter.range.from: "yesterday" is not a time with a zone such as 2026-11-22T10:00:00Z (RFC 3339)',
      extensions: { code: 'BAD_USER_INPUT', argument: 'filter.range.from' },
    });
    expect(refusal(() => rangeArgument('range', { from: RANGE.from, to: '2026-11-22T11:00:00' })).extensions).toEqual({
      code: 'BAD_USER_INPUT',
      argument: 'range.to',
    });
    expect(refusal(() => rangeArgument('range', { from: RANGE.to, to: RANGE.from }))).toEqual({
      message: 'range: from must be before to',
      extensions: { code: 'BAD_USER_INPUT', argument: 'range' },
    });
    expect(refusal(() => rangeArgument('range', { from: RANGE.from, to: RANGE.from })).message).toBe(
      'range: from must be before to',
    );
    expect(
      refusal(() =>
        rangeArgument('range', { from: '2026-11-15T09:59:59Z', to: '2026-11-22T10:00:00Z' }, { maxSpanMs: 7 * DAY }),
      ).message,
    ).toBe('range: longer than the 7 days allowed');
    expect(refusal(() => rangeArgument('range', RANGE, { maxSpanMs: DAY / 24 - 1 })).message).toBe(
      'range: longer than the 59m59s999ms allowed',
    );
  });

  it('takes a span of exactly the maximum', () => {
    expect(
      rangeArgument('range', { from: '2026-11-15T10:00:00Z', to: '2026-11-22T10:00:00Z' }, { maxSpanMs: 7 * DAY }).from,
    ).toBe(Date.parse('2026-11-15T10:00:00Z'));
  });

  it('tells its caller which argument is at fault without throwing', () => {
    expect(parseRange('range', { from: RANGE.from, to: 'now' })).toEqual({
      ok: false,
      argument: 'range.to',
      message: '"now" is not a time with a zone such as 2026-11-22T10:00:00Z (RFC 3339)',
    });
  });
});
