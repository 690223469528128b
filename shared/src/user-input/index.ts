/** What users type: durations, instants, ranges and sizes, and the BAD_USER_INPUT naming the argument at fault. */
export { type DurationBounds, type Parsed, checkDuration, formatDuration, parseDuration } from './durations.js';
export { formatInstant, instantMs, parseInstant } from './instants.js';
export {
  type ParsedRange,
  type RangeBounds,
  type TimeRangeInput,
  badUserInput,
  badUserInputs,
  type FieldError,
  durationArgument,
  parseRange,
  rangeArgument,
  rangeArgumentNanos,
  sizeArgument,
} from './arguments.js';
