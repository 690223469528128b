import { heimdallError } from '@heimdall/shared';
import { RE2JS } from 're2js';

export type MatchOp = 'EQ' | 'NEQ' | 'RE' | 'NRE';

export interface LabelMatcher {
  readonly key: string;
  readonly op: MatchOp;
  readonly value: string;
}

/**
 * Checks every regular expression of `matchers` in RE2's dialect, the one ClickHouse runs (JavaScript's RegExp
 * accepts lookarounds and backreferences that RE2 refuses); the error names the matcher as the client wrote it,
 * e.g. `matchers[1].value`. The store's clause builder calls this, so no query can skip it.
 */
export function checkMatchers(matchers: readonly LabelMatcher[], argument: string): void {
  matchers.forEach((m, i) => {
    if (m.op !== 'RE' && m.op !== 'NRE') return;
    try {
      RE2JS.compile(m.value);
    } catch (error) {
      const reason = error instanceof Error ? error.message.replace(/^error parsing regexp: /, '') : String(error);
      throw heimdallError('BAD_USER_INPUT', {
        message: `${argument}[${i}].value: "${m.value}" is not a regular expression RE2 accepts (${reason})`,
        details: { argument: `${argument}[${i}].value` },
      });
    }
  });
}

/** A label map as GraphQL's `[Label!]!`, sorted by key so that answers are stable. */
export function labelList(labels: Record<string, string>): { key: string; value: string }[] {
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => ({ key, value }));
}
