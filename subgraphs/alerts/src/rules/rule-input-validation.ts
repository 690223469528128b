/**
 * AlertRuleInput as GraphQL delivers it (enums upper-case, optional fields null or absent) checked and
 * normalised into an AlertRule. Every problem is reported, each on the field path the client wrote
 * (`conditions[0].metric.window`), as values; nothing throws for bad input. A log query's syntax is the logs
 * subgraph's to judge: the caller passes `checkLogQuery`, which reaches it over GraphQL.
 *
 * Normalisation: the name is trimmed, a log query of only spaces is empty (every entry counts), and lists of
 * plain values (services, levels, groupBy, channels) lose duplicates; label and annotation keys given twice are
 * an error, since their values may differ.
 */
import { type FieldError, checkDuration } from '@heimdall/shared/user-input';
import { comparisonOf } from '../evaluation/conditions.js';
import {
  AGGREGATIONS,
  type AlertCondition,
  type AlertRule,
  ERROR_STATES,
  type LabelMatcher,
  LOG_LEVELS,
  MATCH_MODES,
  MATCH_OPS,
  NO_DATA_STATES,
  type NotificationOverrides,
  OPERATORS,
  RULE_DEFAULTS,
  RULE_LIMITS,
  SEVERITIES,
} from './alert-rule.js';
import { ANNOTATION_VARIABLES, parseTemplate } from './annotation-templates.js';

type Maybe<T> = T | null | undefined;

export interface KeyValueInput {
  readonly key?: Maybe<string>;
  readonly value?: Maybe<string>;
}

export interface LabelMatcherInput {
  readonly key?: Maybe<string>;
  readonly op?: Maybe<string>;
  readonly value?: Maybe<string>;
}

export interface MetricConditionInput {
  readonly name?: Maybe<string>;
  readonly matchers?: Maybe<readonly LabelMatcherInput[]>;
  readonly aggregation?: Maybe<string>;
  readonly window?: Maybe<string>;
  readonly operator?: Maybe<string>;
  readonly threshold?: Maybe<number>;
}

export interface LogConditionInput {
  readonly query?: Maybe<string>;
  readonly services?: Maybe<readonly string[]>;
  readonly levels?: Maybe<readonly string[]>;
  readonly window?: Maybe<string>;
  readonly operator?: Maybe<string>;
  readonly threshold?: Maybe<number>;
}

export interface LogAnomalyConditionInput {
  readonly service?: Maybe<string>;
  readonly minScore?: Maybe<number>;
}

/** Exactly one of the three. */
export interface AlertConditionInput {
  readonly metric?: Maybe<MetricConditionInput>;
  readonly log?: Maybe<LogConditionInput>;
  readonly logAnomaly?: Maybe<LogAnomalyConditionInput>;
}

export interface NotificationPolicyInput {
  readonly groupBy?: Maybe<readonly string[]>;
  readonly groupWait?: Maybe<string>;
  readonly groupInterval?: Maybe<string>;
  readonly repeatInterval?: Maybe<string>;
  readonly sendResolved?: Maybe<boolean>;
}

export interface AlertRuleInput {
  readonly name?: Maybe<string>;
  readonly description?: Maybe<string>;
  readonly severity?: Maybe<string>;
  readonly labels?: Maybe<readonly KeyValueInput[]>;
  readonly annotations?: Maybe<readonly KeyValueInput[]>;
  readonly match?: Maybe<string>;
  readonly conditions?: Maybe<readonly AlertConditionInput[]>;
  readonly for?: Maybe<string>;
  readonly evaluationInterval?: Maybe<string>;
  readonly keepFiringFor?: Maybe<string>;
  readonly groupBy?: Maybe<readonly string[]>;
  readonly recoveryThreshold?: Maybe<number>;
  readonly noDataState?: Maybe<string>;
  readonly errorState?: Maybe<string>;
  readonly enabled?: Maybe<boolean>;
  readonly channels?: Maybe<readonly string[]>;
  readonly notification?: Maybe<NotificationPolicyInput>;
}

export type RuleValidation =
  { readonly ok: true; readonly rule: AlertRule } | { readonly ok: false; readonly errors: readonly FieldError[] };

/** The logs subgraph's verdict on a query; `position` is the character offset of the problem when it knows one. */
export type LogQueryCheck =
  { readonly ok: true } | { readonly ok: false; readonly message: string; readonly position?: number | null };

export interface RuleInputDeps {
  /** Asks the logs subgraph whether a search query parses. A rejection (logs down) propagates to the caller. */
  readonly checkLogQuery: (query: string) => Promise<LogQueryCheck>;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Records problems by field path; every reader returns a usable fallback so the checks can go on. */
class Checker {
  readonly errors: FieldError[] = [];
  readonly logQueries: { field: string; query: string }[] = [];

  fail(field: string, message: string) {
    this.errors.push({ field, message });
  }

  text(field: string, value: Maybe<string>, options: { required: boolean; max: number }): string {
    if (value === null || value === undefined) {
      if (options.required) this.fail(field, 'is required');
      return '';
    }
    if (typeof value !== 'string') this.fail(field, 'must be a string');
    else if (options.required && value.trim() === '') this.fail(field, 'must not be empty');
    else if (value.length > options.max) this.fail(field, `is longer than ${options.max} characters`);
    return typeof value === 'string' ? value : '';
  }

  number(field: string, value: Maybe<number>): number {
    if (value === null || value === undefined) this.fail(field, 'is required');
    else if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(field, 'must be a finite number');
    return typeof value === 'number' ? value : 0;
  }

  oneOf<T extends string>(field: string, value: Maybe<string>, allowed: readonly T[], fallback?: T): T {
    if (value === null || value === undefined) {
      if (fallback === undefined) this.fail(field, 'is required');
      return fallback ?? (allowed[0] as T);
    }
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.fail(field, `unknown value ${JSON.stringify(value)}; one of ${allowed.join(', ')}`);
    return fallback ?? (allowed[0] as T);
  }

  duration(field: string, value: Maybe<string>, options: { fallback?: number; min: number; max: number }): number {
    if (value === null || value === undefined) {
      if (options.fallback === undefined) this.fail(field, 'is required');
      return options.fallback ?? 0;
    }
    const checked = checkDuration(value, options);
    if (!checked.ok) this.fail(field, checked.message);
    return checked.ok ? checked.value : 0;
  }

  list<T>(field: string, value: Maybe<readonly T[]>, max: number, options: { required?: boolean } = {}): readonly T[] {
    if (value === null || value === undefined) {
      if (options.required === true) this.fail(field, 'is required');
      return [];
    }
    if (options.required === true && value.length === 0) this.fail(field, 'must not be empty');
    if (value.length > max) this.fail(field, `has ${value.length} entries; at most ${max}`);
    return value.slice(0, max);
  }

  /** A list of non-empty names, without duplicates. */
  names(field: string, value: Maybe<readonly string[]>, max: number): string[] {
    const names = this.list(field, value, max).map((name, i) =>
      this.text(`${field}[${i}]`, name, { required: true, max: RULE_LIMITS.textLength }),
    );
    return [...new Set(names)];
  }
}

function keyValues(
  c: Checker,
  field: string,
  value: Maybe<readonly KeyValueInput[]>,
  options: { max: number; valueMax: number; template: boolean },
): Record<string, string> {
  const entries: [string, string][] = [];
  const seen = new Set<string>();
  c.list(field, value, options.max).forEach((entry, i) => {
    const key = c.text(`${field}[${i}].key`, entry.key, { required: true, max: RULE_LIMITS.textLength });
    if (key !== '' && !KEY.test(key))
      c.fail(
        `${field}[${i}].key`,
        `${JSON.stringify(key)} is not a key: letters, digits and _, not starting with a digit`,
      );
    else if (seen.has(key)) c.fail(`${field}[${i}].key`, `${JSON.stringify(key)} is given twice`);
    seen.add(key);
    const text = c.text(`${field}[${i}].value`, entry.value, { required: false, max: options.valueMax });
    if (options.template) {
      const parsed = parseTemplate(text, { variables: ANNOTATION_VARIABLES });
      if (!parsed.ok) c.fail(`${field}[${i}].value`, `line ${parsed.line}, column ${parsed.column}: ${parsed.message}`);
    }
    entries.push([key, text]);
  });
  // fromEntries defines own properties, so even a key such as __proto__ stays a plain entry.
  return Object.fromEntries(entries);
}

const windowLimits = { min: RULE_LIMITS.minWindowMs, max: RULE_LIMITS.maxDurationMs };

function matchers(c: Checker, field: string, value: Maybe<readonly LabelMatcherInput[]>): LabelMatcher[] {
  return c.list(field, value, RULE_LIMITS.matchers).map((m, i) => {
    const key = c.text(`${field}[${i}].key`, m.key, { required: true, max: RULE_LIMITS.textLength });
    const op = c.oneOf(`${field}[${i}].op`, m.op, MATCH_OPS);
    const text = c.text(`${field}[${i}].value`, m.value ?? '', { required: false, max: RULE_LIMITS.textLength });
    if (op === 'RE' || op === 'NRE') {
      try {
        new RegExp(text);
      } catch (error) {
        c.fail(
          `${field}[${i}].value`,
          `${JSON.stringify(text)} is not a regular expression (${(error as Error).message})`,
        );
      }
    }
    return { key, op, value: text };
  });
}

function condition(c: Checker, field: string, input: Maybe<AlertConditionInput>): AlertCondition | undefined {
  const kinds = (['metric', 'log', 'logAnomaly'] as const).filter(
    (kind) => input?.[kind] !== null && input?.[kind] !== undefined,
  );
  if (kinds.length !== 1) {
    c.fail(
      field,
      kinds.length === 0
        ? 'needs one of metric, log, logAnomaly'
        : `has ${kinds.join(' and ')}; a condition is exactly one of them`,
    );
    return undefined;
  }
  const { metric, log, logAnomaly } = input ?? {};
  if (metric !== null && metric !== undefined) {
    const at = `${field}.metric`;
    return {
      kind: 'metric',
      name: c.text(`${at}.name`, metric.name, { required: true, max: RULE_LIMITS.textLength }),
      matchers: matchers(c, `${at}.matchers`, metric.matchers),
      aggregation: c.oneOf(`${at}.aggregation`, metric.aggregation, AGGREGATIONS),
      windowMs: c.duration(`${at}.window`, metric.window, windowLimits),
      operator: c.oneOf(`${at}.operator`, metric.operator, OPERATORS),
      threshold: c.number(`${at}.threshold`, metric.threshold),
    };
  }
  if (log !== null && log !== undefined) {
    const at = `${field}.log`;
    const query = c.text(`${at}.query`, log.query, { required: false, max: RULE_LIMITS.queryLength }).trim();
    if (query !== '') c.logQueries.push({ field: `${at}.query`, query });
    return {
      kind: 'log',
      query,
      services: c.names(`${at}.services`, log.services, RULE_LIMITS.services),
      levels: [
        ...new Set(
          c
            .list(`${at}.levels`, log.levels, LOG_LEVELS.length)
            .map((level, i) => c.oneOf(`${at}.levels[${i}]`, level, LOG_LEVELS)),
        ),
      ],
      windowMs: c.duration(`${at}.window`, log.window, windowLimits),
      operator: c.oneOf(`${at}.operator`, log.operator, OPERATORS),
      threshold: c.number(`${at}.threshold`, log.threshold),
    };
  }
  const at = `${field}.logAnomaly`;
  const minScore = c.number(`${at}.minScore`, logAnomaly?.minScore);
  if (minScore <= 0 && Number.isFinite(logAnomaly?.minScore))
    c.fail(`${at}.minScore`, 'must be above 0: every score reaches it');
  return {
    kind: 'logAnomaly',
    service: c.text(`${at}.service`, logAnomaly?.service, { required: true, max: RULE_LIMITS.textLength }),
    minScore,
  };
}

/** The recovery threshold must lie where the condition no longer holds, or the rule could never resolve. */
function checkRecovery(c: Checker, recovery: number, conditions: readonly (AlertCondition | undefined)[]) {
  const [only] = conditions;
  if (conditions.length !== 1) {
    c.fail('recoveryThreshold', `applies to a rule with exactly one condition (this one has ${conditions.length})`);
    return;
  }
  if (only === undefined) return;
  const { operator, threshold } = comparisonOf(only);
  if (operator === 'EQ' || operator === 'NE')
    c.fail('recoveryThreshold', `does not apply to an ${operator} condition; only to GT, GTE, LT, LTE`);
  else if ((operator === 'GT' || operator === 'GTE') && !(recovery < threshold)) {
    c.fail(
      'recoveryThreshold',
      `must be below the threshold ${threshold}: a rule firing above it resolves once the value falls to the recovery threshold`,
    );
  } else if ((operator === 'LT' || operator === 'LTE') && !(recovery > threshold)) {
    c.fail(
      'recoveryThreshold',
      `must be above the threshold ${threshold}: a rule firing below it resolves once the value rises to the recovery threshold`,
    );
  }
}

function notificationOverrides(c: Checker, input: Maybe<NotificationPolicyInput>): NotificationOverrides {
  const optionalDuration = (field: 'groupWait' | 'groupInterval' | 'repeatInterval', min: number) => {
    const value = input?.[field];
    return value === null || value === undefined
      ? null
      : c.duration(`notification.${field}`, value, { min, max: RULE_LIMITS.maxDurationMs });
  };
  const sendResolved = input?.sendResolved;
  return {
    groupBy:
      input?.groupBy === null || input?.groupBy === undefined
        ? null
        : c.names('notification.groupBy', input.groupBy, RULE_LIMITS.groupBy),
    groupWaitMs: optionalDuration('groupWait', 0),
    groupIntervalMs: optionalDuration('groupInterval', RULE_LIMITS.minNotificationIntervalMs),
    repeatIntervalMs: optionalDuration('repeatInterval', RULE_LIMITS.minNotificationIntervalMs),
    sendResolved: typeof sendResolved === 'boolean' ? sendResolved : null,
  };
}

export async function validateRuleInput(input: AlertRuleInput, deps: RuleInputDeps): Promise<RuleValidation> {
  const c = new Checker();
  const name = c.text('name', input.name, { required: true, max: RULE_LIMITS.nameLength }).trim();
  const description = c.text('description', input.description ?? RULE_DEFAULTS.description, {
    required: false,
    max: RULE_LIMITS.descriptionLength,
  });
  const severity = c.oneOf('severity', input.severity, SEVERITIES, RULE_DEFAULTS.severity);
  const labels = keyValues(c, 'labels', input.labels, {
    max: RULE_LIMITS.labels,
    valueMax: RULE_LIMITS.labelValueLength,
    template: false,
  });
  const annotations = keyValues(c, 'annotations', input.annotations, {
    max: RULE_LIMITS.annotations,
    valueMax: RULE_LIMITS.annotationValueLength,
    template: true,
  });
  const match = c.oneOf('match', input.match, MATCH_MODES, RULE_DEFAULTS.match);
  const conditions = c
    .list('conditions', input.conditions, RULE_LIMITS.conditions, { required: true })
    .map((entry, i) => condition(c, `conditions[${i}]`, entry));
  const forMs = c.duration('for', input.for, { fallback: RULE_DEFAULTS.forMs, min: 0, max: RULE_LIMITS.maxDurationMs });
  const evaluationIntervalMs = c.duration('evaluationInterval', input.evaluationInterval, {
    fallback: RULE_DEFAULTS.evaluationIntervalMs,
    min: RULE_LIMITS.minEvaluationIntervalMs,
    max: RULE_LIMITS.maxEvaluationIntervalMs,
  });
  const keepFiringForMs = c.duration('keepFiringFor', input.keepFiringFor, {
    fallback: RULE_DEFAULTS.keepFiringForMs,
    min: 0,
    max: RULE_LIMITS.maxDurationMs,
  });
  const groupBy = c.names('groupBy', input.groupBy, RULE_LIMITS.groupBy);
  let recoveryThreshold: number | null = null;
  if (input.recoveryThreshold !== null && input.recoveryThreshold !== undefined) {
    recoveryThreshold = c.number('recoveryThreshold', input.recoveryThreshold);
    if (Number.isFinite(input.recoveryThreshold)) checkRecovery(c, recoveryThreshold, conditions);
  }
  const noDataState = c.oneOf('noDataState', input.noDataState, NO_DATA_STATES, RULE_DEFAULTS.noDataState);
  const errorState = c.oneOf('errorState', input.errorState, ERROR_STATES, RULE_DEFAULTS.errorState);
  const enabled = input.enabled ?? RULE_DEFAULTS.enabled;
  if (typeof enabled !== 'boolean') c.fail('enabled', 'must be true or false');
  const channels = c.names('channels', input.channels, RULE_LIMITS.channels);
  const notification = notificationOverrides(c, input.notification);

  const verdicts = await Promise.all(
    c.logQueries.map(async ({ field, query }) => ({ field, verdict: await deps.checkLogQuery(query) })),
  );
  for (const { field, verdict } of verdicts) {
    if (!verdict.ok) {
      const where =
        verdict.position === null || verdict.position === undefined ? '' : ` at position ${verdict.position}`;
      c.fail(field, `does not parse${where}: ${verdict.message}`);
    }
  }

  if (c.errors.length > 0) return { ok: false, errors: c.errors };
  const rule: AlertRule = {
    name,
    description,
    severity,
    labels,
    annotations,
    match,
    conditions: conditions.filter((x) => x !== undefined),
    forMs,
    evaluationIntervalMs,
    keepFiringForMs,
    groupBy,
    recoveryThreshold,
    noDataState,
    errorState,
    enabled: enabled === true,
    channels,
    notification,
  };
  return { ok: true, rule };
}
