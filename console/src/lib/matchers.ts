/** What users type as label matchers and tag filters, in the grammars Prometheus and Jaeger users know. */

import type { Aggregation, LabelMatcherInput, MatchOp } from '../generated/operations.js';

/** The aggregations a chart or a rule's metric condition may ask for, in the order the selects offer them. */
export const AGGREGATIONS: readonly Aggregation[] = [
  'AVG',
  'SUM',
  'MIN',
  'MAX',
  'COUNT',
  'RATE',
  'LAST',
  'P50',
  'P90',
  'P95',
  'P99',
];

const OPS: Readonly<Record<string, MatchOp>> = { '=': 'EQ', '!=': 'NEQ', '=~': 'RE', '!~': 'NRE' };

/** `service=checkout, route!~/health.*`: the matchers field, Prometheus' operators. */
export function parseMatchers(text: string): LabelMatcherInput[] | { error: string } {
  const matchers: LabelMatcherInput[] = [];
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const match = /^([^=!~\s]+)\s*(=~|!~|!=|=)\s*"?(.*?)"?$/.exec(part);
    if (match === null) return { error: `"${part}" is not key=value, key!=value, key=~regex or key!~regex` };
    matchers.push({ key: match[1]!, op: OPS[match[2]!]!, value: match[3]! });
  }
  return matchers;
}

/** `http.status_code=500 error=true`: the tags field's grammar, key=value pairs split on spaces. */
export function parseTags(text: string): { key: string; value: string }[] {
  return text
    .split(/\s+/)
    .filter((pair) => pair.includes('='))
    .map((pair) => ({ key: pair.slice(0, pair.indexOf('=')), value: pair.slice(pair.indexOf('=') + 1) }));
}
