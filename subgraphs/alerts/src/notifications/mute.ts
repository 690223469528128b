/**
 * Why an alert is not notified now: a silence, an inhibition by another firing alert, or a maintenance window
 * (issue 13). Built once per flush pass from what the store holds at that moment, then asked per alert.
 */
import type { Labels } from '../evaluation/conditions.js';
import type { LabelMatcher, Severity } from '../rules/alert-rule.js';
import { type LabelsPredicate, compileMatchers, parseMatcherText } from './matchers.js';
import type { MuteReason } from './policy.js';
import { type WeeklyWindow, isWithin } from './weekly-window.js';

export interface SilenceRule {
  readonly matchers: readonly LabelMatcher[];
  readonly startsAt: number;
  readonly endsAt: number;
}

export interface WindowRule {
  readonly window: WeeklyWindow;
  readonly matchers: readonly LabelMatcher[];
}

/** As NOTIFICATION_INHIBIT_RULES holds them: matcher texts such as severity=critical. */
export interface InhibitRule {
  readonly source: readonly string[];
  readonly target: readonly string[];
  readonly equal: readonly string[];
}

export interface SourceAlert {
  readonly id: string;
  readonly labels: Labels;
}

export interface MutedAlert {
  readonly id: string;
  readonly labels: Labels;
}

/** The labels matchers see: the alert's labels and its severity (lower case) unless it has a label of that name. */
export function matchLabels(labels: Labels, severity: Severity): Labels {
  return Object.hasOwn(labels, 'severity') ? labels : { ...labels, severity: severity.toLowerCase() };
}

const parsed = (texts: readonly string[]) =>
  compileMatchers(texts.map((text) => parseMatcherText(text)).filter((m) => m !== undefined));

/** The severities an inhibition rule's source names with `severity=…`, to read only those alerts; null: any. */
export function sourceSeverities(rules: readonly InhibitRule[]): Severity[] | null {
  const severities = new Set<Severity>();
  for (const rule of rules) {
    const named = rule.source.map((text) => parseMatcherText(text)).find((m) => m?.key === 'severity' && m.op === 'EQ');
    if (named === undefined) return null;
    severities.add(named.value.toUpperCase() as Severity);
  }
  return [...severities];
}

interface CompiledInhibition {
  readonly source: LabelsPredicate;
  readonly target: LabelsPredicate;
  readonly equal: readonly string[];
  /** Equal-label values of the firing sources → how many sources have them. */
  readonly sources: ReadonlyMap<string, number>;
}

const equalKey = (labels: Labels, equal: readonly string[]) => JSON.stringify(equal.map((name) => labels[name] ?? ''));

export class MuteContext {
  private readonly silences: readonly { predicate: LabelsPredicate; startsAt: number; endsAt: number }[];
  private readonly windows: readonly { predicate: LabelsPredicate; window: WeeklyWindow }[];
  private readonly inhibitions: readonly CompiledInhibition[];

  constructor(parts: {
    silences: readonly SilenceRule[];
    windows: readonly WindowRule[];
    inhibitRules: readonly InhibitRule[];
    sources: readonly SourceAlert[];
  }) {
    this.silences = parts.silences.map((s) => ({
      predicate: compileMatchers(s.matchers),
      startsAt: s.startsAt,
      endsAt: s.endsAt,
    }));
    this.windows = parts.windows.map((w) => ({ predicate: compileMatchers(w.matchers), window: w.window }));
    this.inhibitions = parts.inhibitRules.map((rule) => {
      const source = parsed(rule.source);
      const counts = new Map<string, number>();
      for (const alert of parts.sources) {
        if (!source(alert.labels)) continue;
        const key = equalKey(alert.labels, rule.equal);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return { source, target: parsed(rule.target), equal: rule.equal, sources: counts };
    });
  }

  reason(alert: MutedAlert, now: number): MuteReason | null {
    if (this.silences.some((s) => s.startsAt <= now && now < s.endsAt && s.predicate(alert.labels))) return 'silenced';
    if (this.windows.some((w) => w.predicate(alert.labels) && isWithin(w.window, now))) return 'maintenance';
    for (const rule of this.inhibitions) {
      if (!rule.target(alert.labels)) continue;
      // An alert matching both sides does not inhibit itself (Alertmanager's rule): it needs another source.
      const needed = rule.source(alert.labels) ? 2 : 1;
      if ((rule.sources.get(equalKey(alert.labels, rule.equal)) ?? 0) >= needed) return 'inhibited';
    }
    return null;
  }
}
