/**
 * GraphQL arguments checked against the grammars of durations and instants, and the one error every subgraph
 * answers for them: BAD_USER_INPUT, the message starting with the argument's path as the client wrote it
 * (`filter.range.from: …`) and `extensions.argument` holding that path.
 */
import { type HeimdallError, heimdallError } from '../errors/heimdall-error.js';
import { type DurationBounds, checkDuration, formatDuration } from './durations.js';
import { instantMs, parseInstant } from './instants.js';

const DAY_MS = 86_400_000;

/** BAD_USER_INPUT naming `argument` (a path such as `filter.limit`, `range.from`, `conditions[0].metric.window`). */
export function badUserInput(
  argument: string,
  message: string,
  details: Readonly<Record<string, unknown>> = {},
): HeimdallError {
  return heimdallError('BAD_USER_INPUT', { message: `${argument}: ${message}`, details: { ...details, argument } });
}

/** One refusal of an input object's field (`channel.settings.url`, `for`). */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** A form's every error in one BAD_USER_INPUT: the first names the argument, `details.errors` carries them all. */
export function badUserInputs(errors: readonly FieldError[]): HeimdallError {
  const [first] = errors;
  if (first === undefined) throw new Error('badUserInputs needs at least one error');
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return badUserInput(first.field, `${first.message}${more}`, { errors });
}

/** A size a client asked for (`limit`, `first`): a whole number from 1 to `max`, BAD_USER_INPUT naming it otherwise. */
export function sizeArgument(argument: string, requested: number, max: number): number {
  if (!Number.isInteger(requested) || requested < 1 || requested > max)
    throw badUserInput(argument, `must be from 1 to ${max}, not ${requested}`, { max });
  return requested;
}

/** A duration argument within its bounds, in ms (the grammar: durations.ts); BAD_USER_INPUT naming it otherwise. */
export function durationArgument(argument: string, text: string, bounds: DurationBounds): number {
  const checked = checkDuration(text, bounds);
  if (!checked.ok) throw badUserInput(argument, checked.message);
  return checked.value;
}

/** `TimeRangeInput` as every subgraph's schema declares it. */
export interface TimeRangeInput {
  readonly from: string;
  readonly to: string;
}

export interface RangeBounds {
  /** The longest span `to - from` may cover, in ms. */
  readonly maxSpanMs?: number;
}

/** A range read to the nanosecond: `from` inclusive, `to` exclusive. */
export type ParsedRange =
  | { readonly ok: true; readonly from: bigint; readonly to: bigint }
  | { readonly ok: false; readonly argument: string; readonly message: string };

const span = (ms: number) => (ms % DAY_MS === 0 ? `${ms / DAY_MS} day${ms === DAY_MS ? '' : 's'}` : formatDuration(ms));

/**
 * Both ends instants (instants.ts), `from` before `to`, at most `maxSpanMs` apart; when not, which argument is at
 * fault (`range.from`, `range.to`, or `range` itself) and why.
 */
export function parseRange(argument: string, input: TimeRangeInput, bounds: RangeBounds = {}): ParsedRange {
  const from = parseInstant(input.from);
  if (!from.ok) return { ok: false, argument: `${argument}.from`, message: from.message };
  const to = parseInstant(input.to);
  if (!to.ok) return { ok: false, argument: `${argument}.to`, message: to.message };
  if (from.value >= to.value) return { ok: false, argument, message: 'from must be before to' };
  if (bounds.maxSpanMs !== undefined && to.value - from.value > BigInt(bounds.maxSpanMs) * 1_000_000n) {
    return { ok: false, argument, message: `longer than the ${span(bounds.maxSpanMs)} allowed` };
  }
  return { ok: true, from: from.value, to: to.value };
}

/** A range argument in nanoseconds since the epoch; BAD_USER_INPUT naming the end at fault otherwise. */
export function rangeArgumentNanos(
  argument: string,
  input: TimeRangeInput,
  bounds: RangeBounds = {},
): { from: bigint; to: bigint } {
  const range = parseRange(argument, input, bounds);
  if (!range.ok) throw badUserInput(range.argument, range.message);
  return { from: range.from, to: range.to };
}

/** A range argument in ms since the epoch, for stores that keep milliseconds. */
export function rangeArgument(
  argument: string,
  input: TimeRangeInput,
  bounds: RangeBounds = {},
): { from: number; to: number } {
  const range = rangeArgumentNanos(argument, input, bounds);
  return { from: instantMs(range.from), to: instantMs(range.to) };
}
