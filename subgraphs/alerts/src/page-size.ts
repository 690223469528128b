import { heimdallError } from '@heimdall/shared';

/** A `first` a client asked for: a whole number from 1 to `max`, BAD_USER_INPUT naming the argument otherwise. */
export function pageSizeArgument(argument: string, requested: number, max: number): number {
  if (!Number.isInteger(requested) || requested < 1 || requested > max) {
    throw heimdallError('BAD_USER_INPUT', { message: `${argument}: must be from 1 to ${max}, not ${requested}`, details: { argument, max } });
  }
  return requested;
}
