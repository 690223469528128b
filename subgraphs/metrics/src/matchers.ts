import { badUserInput } from '@heimdall/shared/user-input';
import { RE2JS } from 're2js';
import {
  MAX_LABEL_KEY_LENGTH,
  MAX_MATCHERS,
  MAX_MATCHER_VALUE_LENGTH,
  MAX_REGEX_LENGTH,
  checkLength,
  overBound,
} from './limits.js';

export type MatchOp = 'EQ' | 'NEQ' | 'RE' | 'NRE';

export interface LabelMatcher {
  readonly key: string;
  readonly op: MatchOp;
  readonly value: string;
}

/**
 * Checks `matchers` against the bounds (count, key and value lengths) and every regular expression in RE2's
 * dialect, the one ClickHouse runs (JavaScript's RegExp accepts lookarounds and backreferences that RE2 refuses);
 * the error names the matcher as the client wrote it, e.g. `matchers[1].value`. The store's clause builder calls
 * this, so no query can skip it.
 */
export function checkMatchers(matchers: readonly LabelMatcher[], argument: string): void {
  if (matchers.length > MAX_MATCHERS) throw overBound(argument, `${matchers.length} matchers`, MAX_MATCHERS);
  matchers.forEach((m, i) => {
    checkLength(`${argument}[${i}].key`, m.key, MAX_LABEL_KEY_LENGTH);
    const regex = m.op === 'RE' || m.op === 'NRE';
    checkLength(`${argument}[${i}].value`, m.value, regex ? MAX_REGEX_LENGTH : MAX_MATCHER_VALUE_LENGTH);
    if (!regex) return;
    try {
      RE2JS.compile(m.value);
    } catch (error) {
      const reason = error instanceof Error ? error.message.replace(/^error parsing regexp: /, '') : String(error);
      throw badUserInput(`${argument}[${i}].value`, `"${m.value}" is not a regular expression RE2 accepts (${reason})`);
    }
  });
}

/** A label map as GraphQL's `[Label!]!`, sorted by key so that answers are stable. */
export function labelList(labels: Record<string, string>): { key: string; value: string }[] {
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => ({ key, value }));
}
