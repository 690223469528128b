/**
 * Label matchers of silences, maintenance windows and inhibition rules (issue 13), as Alertmanager reads them:
 * `=` (EQ) and `!=` (NEQ) compare the value, `=~` (RE) and `!~` (NRE) match the whole value against an RE2
 * expression (RE2 as the metrics subgraph uses: linear time, whatever a user writes); a missing label is "".
 */
import { RE2JS } from 're2js';
import type { Labels } from '../evaluation/conditions.js';
import type { LabelMatcher, MatchOp } from '../rules/alert-rule.js';

export type LabelsPredicate = (labels: Labels) => boolean;

/** Why `pattern` is not an RE2 expression, or undefined when it is one. */
export function regexProblem(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message.replace(/^error parsing regexp: /, '') : String(error);
  }
}

function valueTest(op: MatchOp, value: string): (actual: string) => boolean {
  if (op === 'EQ') return (actual) => actual === value;
  if (op === 'NEQ') return (actual) => actual !== value;
  const re = RE2JS.compile(value);
  return op === 'RE' ? (actual) => re.matches(actual) : (actual) => !re.matches(actual);
}

/** True for label sets matching every matcher (no matchers: every set). Compile once, test often. */
export function compileMatchers(matchers: readonly LabelMatcher[]): LabelsPredicate {
  const tests = matchers.map((m) => ({ key: m.key, test: valueTest(m.op, m.value) }));
  return (labels) => tests.every(({ key, test }) => test(Object.hasOwn(labels, key) ? (labels[key] ?? '') : ''));
}

const TEXT_OPS: readonly (readonly [string, MatchOp])[] = [
  ['=~', 'RE'],
  ['!~', 'NRE'],
  ['!=', 'NEQ'],
  ['=', 'EQ'],
];

/** `severity=critical`, `service!~batch-.*`: the form of inhibition rules in config. Undefined when it is not one. */
export function parseMatcherText(text: string): LabelMatcher | undefined {
  const match = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(=~|!~|!=|=)(.*)$/.exec(text);
  if (match === null) return undefined;
  const op = TEXT_OPS.find(([symbol]) => symbol === match[2])?.[1];
  if (op === undefined) return undefined;
  const value = (match[3] ?? '').trim();
  if ((op === 'RE' || op === 'NRE') && regexProblem(value) !== undefined) return undefined;
  return { key: match[1] ?? '', op, value };
}
