export type MatchOp = 'EQ' | 'NEQ' | 'RE' | 'NRE';

export interface LabelMatcher {
  readonly key: string;
  readonly op: MatchOp;
  readonly value: string;
}

/**
 * SQL conditions on the `labels` map of `series`, one per matcher, with keys and values bound as parameters
 * (added to `params`), never spliced into the SQL. Regular expressions are anchored, as in PromQL.
 */
export function labelMatcherClauses(matchers: readonly LabelMatcher[], params: Record<string, unknown>): string[] {
  return matchers.map((m, i) => {
    params[`k${i}`] = m.key;
    params[`v${i}`] = m.op === 'RE' || m.op === 'NRE' ? `^(?:${m.value})$` : m.value;
    const label = `labels[{k${i}:String}]`;
    return {
      EQ: `${label} = {v${i}:String}`,
      NEQ: `${label} != {v${i}:String}`,
      RE: `match(${label}, {v${i}:String})`,
      NRE: `NOT match(${label}, {v${i}:String})`,
    }[m.op];
  });
}

/** A label map as GraphQL's `[Label!]!`, sorted by key so that answers are stable. */
export function labelList(labels: Record<string, string>): { key: string; value: string }[] {
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => ({ key, value }));
}
