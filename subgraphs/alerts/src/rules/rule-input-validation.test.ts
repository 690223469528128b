import { describe, expect, it, vi } from 'vitest';
import {
  type AlertConditionInput,
  type AlertRuleInput,
  type LogQueryCheck,
  type RuleInputDeps,
  validateRuleInput,
} from './rule-input-validation.js';

function makeMetricInput(overrides: Partial<NonNullable<AlertConditionInput['metric']>> = {}): AlertConditionInput {
  return {
    metric: {
      name: 'cpu_usage',
      matchers: [{ key: 'service.name', op: 'EQ', value: 'checkout' }],
      aggregation: 'AVG',
      window: '5m',
      operator: 'GT',
      threshold: 90,
      ...overrides,
    },
  };
}

function makeLogInput(overrides: Partial<NonNullable<AlertConditionInput['log']>> = {}): AlertConditionInput {
  return {
    log: {
      query: 'connection refused',
      services: ['checkout'],
      levels: ['ERROR'],
      window: '10m',
      operator: 'GT',
      threshold: 10,
      ...overrides,
    },
  };
}

function makeRuleInput(overrides: Partial<AlertRuleInput> = {}): AlertRuleInput {
  return { name: 'High CPU', severity: 'HIGH', conditions: [makeMetricInput()], ...overrides };
}

/** The logs subgraph's answer, as far as these tests need it: an unclosed parenthesis does not parse. */
function makeDeps(): RuleInputDeps & {
  checkLogQuery: ReturnType<typeof vi.fn<(query: string) => Promise<LogQueryCheck>>>;
} {
  return {
    checkLogQuery: vi.fn((query: string): Promise<LogQueryCheck> => {
      const open = query.indexOf('(');
      return Promise.resolve(
        open >= 0 && !query.includes(')') ? { ok: false, message: 'missing )', position: open } : { ok: true },
      );
    }),
  };
}

async function errorsOf(input: AlertRuleInput) {
  const result = await validateRuleInput(input, makeDeps());
  if (result.ok) throw new Error('the input was accepted');
  return result.errors;
}

describe('normalising a rule', () => {
  it('applies the defaults to what the client left out', async () => {
    const result = await validateRuleInput({ name: 'High CPU', conditions: [makeMetricInput()] }, makeDeps());
    expect(result).toEqual({
      ok: true,
      rule: {
        name: 'High CPU',
        description: '',
        severity: 'MEDIUM',
        labels: {},
        annotations: {},
        match: 'ALL',
        conditions: [
          {
            kind: 'metric',
            name: 'cpu_usage',
            matchers: [{ key: 'service.name', op: 'EQ', value: 'checkout' }],
            aggregation: 'AVG',
            windowMs: 300_000,
            operator: 'GT',
            threshold: 90,
          },
        ],
        forMs: 0,
        evaluationIntervalMs: 60_000,
        keepFiringForMs: 0,
        groupBy: [],
        recoveryThreshold: null,
        noDataState: 'NODATA',
        errorState: 'ERROR',
        enabled: true,
        channels: [],
        notification: {
          groupBy: null,
          groupWaitMs: null,
          groupIntervalMs: null,
          repeatIntervalMs: null,
          sendResolved: null,
        },
      },
    });
  });

  it('treats null like absent, as GraphQL sends optional fields', async () => {
    const result = await validateRuleInput(
      makeRuleInput({
        description: null,
        labels: null,
        match: null,
        for: null,
        evaluationInterval: null,
        recoveryThreshold: null,
        enabled: null,
        channels: null,
      }),
      makeDeps(),
    );
    expect(result).toMatchObject({
      ok: true,
      rule: {
        description: '',
        labels: {},
        match: 'ALL',
        forMs: 0,
        evaluationIntervalMs: 60_000,
        recoveryThreshold: null,
        enabled: true,
        channels: [],
      },
    });
  });

  it('keeps the notification overrides given and leaves the others to the defaults', async () => {
    const result = await validateRuleInput(
      makeRuleInput({
        notification: { groupBy: ['service', 'service'], groupWait: '0s', repeatInterval: '1h', sendResolved: false },
      }),
      makeDeps(),
    );
    expect(result.ok && result.rule.notification).toEqual({
      groupBy: ['service'],
      groupWaitMs: 0,
      groupIntervalMs: null,
      repeatIntervalMs: 3_600_000,
      sendResolved: false,
    });
  });

  it('turns every kind of condition, duration and key-value list into the model', async () => {
    const result = await validateRuleInput(
      makeRuleInput({
        name: '  Checkout errors  ',
        labels: [{ key: 'team', value: 'payments' }],
        annotations: [{ key: 'summary', value: '{{ $labels.service }} at {{ $value | printf "%.1f" }}' }],
        match: 'ANY',
        conditions: [
          makeLogInput({ query: '   ', services: ['checkout', 'checkout'], levels: ['ERROR', 'FATAL', 'ERROR'] }),
          { logAnomaly: { service: 'checkout', minScore: 3 } },
        ],
        for: '1h30m',
        evaluationInterval: '30s',
        keepFiringFor: '10m',
        groupBy: ['service', 'service'],
        noDataState: 'KEEP_LAST',
        errorState: 'OK',
        enabled: false,
        channels: ['c1', 'c2', 'c1'],
      }),
      makeDeps(),
    );
    expect(result).toMatchObject({
      ok: true,
      rule: {
        name: 'Checkout errors',
        labels: { team: 'payments' },
        annotations: { summary: '{{ $labels.service }} at {{ $value | printf "%.1f" }}' },
        match: 'ANY',
        conditions: [
          {
            kind: 'log',
            query: '',
            services: ['checkout'],
            levels: ['ERROR', 'FATAL'],
            windowMs: 600_000,
            operator: 'GT',
            threshold: 10,
          },
          { kind: 'logAnomaly', service: 'checkout', minScore: 3 },
        ],
        forMs: 5_400_000,
        evaluationIntervalMs: 30_000,
        keepFiringForMs: 600_000,
        groupBy: ['service'],
        noDataState: 'KEEP_LAST',
        errorState: 'OK',
        enabled: false,
        channels: ['c1', 'c2'],
      },
    });
  });

  it('reads weeks, and units around white space, as every other duration argument does (once refused)', async () => {
    const result = await validateRuleInput(
      makeRuleInput({
        conditions: [makeMetricInput({ window: '1w' })],
        for: ' 2h30m ',
        notification: { repeatInterval: '1w' },
      }),
      makeDeps(),
    );
    expect(result).toMatchObject({
      ok: true,
      rule: {
        conditions: [{ windowMs: 604_800_000 }],
        forMs: 9_000_000,
        notification: { repeatIntervalMs: 604_800_000 },
      },
    });
  });

  it('keeps a label named __proto__ as a plain entry', async () => {
    const result = await validateRuleInput(makeRuleInput({ labels: [{ key: '__proto__', value: 'x' }] }), makeDeps());
    if (!result.ok) throw new Error('refused');
    expect(Object.keys(result.rule.labels)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(result.rule.labels)).toBe(Object.prototype);
  });
});

describe('rule input errors', () => {
  it.each<[string, AlertRuleInput, string, string]>([
    ['a missing name', makeRuleInput({ name: null }), 'name', 'is required'],
    ['a blank name', makeRuleInput({ name: '   ' }), 'name', 'must not be empty'],
    ['a name too long', makeRuleInput({ name: 'x'.repeat(201) }), 'name', 'is longer than 200 characters'],
    [
      'an unknown severity',
      makeRuleInput({ severity: 'URGENT' }),
      'severity',
      'unknown value "URGENT"; one of LOW, MEDIUM, HIGH, CRITICAL',
    ],
    ['no conditions', makeRuleInput({ conditions: [] }), 'conditions', 'must not be empty'],
    ['absent conditions', makeRuleInput({ conditions: null }), 'conditions', 'is required'],
    [
      'too many conditions',
      makeRuleInput({ conditions: Array.from({ length: 21 }, () => makeMetricInput()) }),
      'conditions',
      'has 21 entries; at most 20',
    ],
    [
      'a condition of no kind',
      makeRuleInput({ conditions: [{}] }),
      'conditions[0]',
      'needs one of metric, log, logAnomaly',
    ],
    [
      'a condition of two kinds',
      makeRuleInput({ conditions: [{ ...makeMetricInput(), ...makeLogInput() }] }),
      'conditions[0]',
      'has metric and log; a condition is exactly one of them',
    ],
    [
      'an unknown aggregation',
      makeRuleInput({ conditions: [makeMetricInput({ aggregation: 'MEDIAN' })] }),
      'conditions[0].metric.aggregation',
      'unknown value "MEDIAN"; one of SUM, AVG, MIN, MAX, COUNT, P50, P90, P95, P99, RATE, LAST',
    ],
    [
      'a bad window',
      makeRuleInput({ conditions: [makeMetricInput({ window: '5min' })] }),
      'conditions[0].metric.window',
      '"5min" is not a duration such as 30s, 5m, 1h30m or 1d (unexpected "in")',
    ],
    [
      'an empty window',
      makeRuleInput({ conditions: [makeMetricInput({ window: '0s' })] }),
      'conditions[0].metric.window',
      'must be at least 1s',
    ],
    [
      'a window too long',
      makeRuleInput({ conditions: [makeMetricInput({ window: '31d' })] }),
      'conditions[0].metric.window',
      'must be at most 30d',
    ],
    [
      'a missing window',
      makeRuleInput({ conditions: [makeMetricInput({ window: null })] }),
      'conditions[0].metric.window',
      'is required',
    ],
    [
      'a missing threshold',
      makeRuleInput({ conditions: [makeMetricInput({ threshold: null })] }),
      'conditions[0].metric.threshold',
      'is required',
    ],
    [
      'a threshold that is not finite',
      makeRuleInput({ conditions: [makeMetricInput({ threshold: Number.NaN })] }),
      'conditions[0].metric.threshold',
      'must be a finite number',
    ],
    [
      'a missing operator',
      makeRuleInput({ conditions: [makeMetricInput({ operator: undefined })] }),
      'conditions[0].metric.operator',
      'is required',
    ],
    [
      'an unknown matcher op',
      makeRuleInput({ conditions: [makeMetricInput({ matchers: [{ key: 'route', op: 'LIKE', value: 'x' }] })] }),
      'conditions[0].metric.matchers[0].op',
      'unknown value "LIKE"; one of EQ, NEQ, RE, NRE',
    ],
    [
      'an unknown log level',
      makeRuleInput({ conditions: [makeLogInput({ levels: ['ERROR', 'CRIT'] })] }),
      'conditions[0].log.levels[1]',
      'unknown value "CRIT"; one of DEBUG, INFO, WARN, ERROR, FATAL',
    ],
    [
      'an empty service',
      makeRuleInput({ conditions: [makeLogInput({ services: [''] })] }),
      'conditions[0].log.services[0]',
      'must not be empty',
    ],
    [
      'a log anomaly without service',
      makeRuleInput({ conditions: [{ logAnomaly: { minScore: 3 } }] }),
      'conditions[0].logAnomaly.service',
      'is required',
    ],
    [
      'a log anomaly score every service reaches',
      makeRuleInput({ conditions: [{ logAnomaly: { service: 'a', minScore: 0 } }] }),
      'conditions[0].logAnomaly.minScore',
      'must be above 0: every score reaches it',
    ],
    [
      'an interval under 10s',
      makeRuleInput({ evaluationInterval: '5s' }),
      'evaluationInterval',
      'must be at least 10s',
    ],
    [
      'an interval over a day',
      makeRuleInput({ evaluationInterval: '25h' }),
      'evaluationInterval',
      'must be at most 1d',
    ],
    [
      'a bad for',
      makeRuleInput({ for: '-1m' }),
      'for',
      '"-1m" is not a duration such as 30s, 5m, 1h30m or 1d (unexpected "-1m")',
    ],
    [
      'a bad keepFiringFor',
      makeRuleInput({ keepFiringFor: '1m1h' }),
      'keepFiringFor',
      '"1m1h" repeats or misorders units; write the largest first, e.g. 1h30m',
    ],
    [
      'a label key with a dash',
      makeRuleInput({ labels: [{ key: 'on-call', value: 'x' }] }),
      'labels[0].key',
      '"on-call" is not a key: letters, digits and _, not starting with a digit',
    ],
    [
      'a label key twice',
      makeRuleInput({
        labels: [
          { key: 'team', value: 'a' },
          { key: 'team', value: 'b' },
        ],
      }),
      'labels[1].key',
      '"team" is given twice',
    ],
    [
      'an annotation that does not parse',
      makeRuleInput({
        annotations: [
          { key: 'summary', value: 'ok' },
          { key: 'description', value: 'CPU of {{ $labels.service }}\nis {{ $value | round }}' },
        ],
      }),
      'annotations[1].value',
      'line 2, column 16: unknown function "round" (known: humanize, humanizePercentage, printf, upper, lower, default, index, len, json)',
    ],
    [
      'an unknown noDataState',
      makeRuleInput({ noDataState: 'SILENT' }),
      'noDataState',
      'unknown value "SILENT"; one of NODATA, ALERTING, OK, KEEP_LAST',
    ],
    [
      'an unknown errorState',
      makeRuleInput({ errorState: 'NODATA' }),
      'errorState',
      'unknown value "NODATA"; one of ERROR, ALERTING, OK, KEEP_LAST',
    ],
    ['an empty channel id', makeRuleInput({ channels: ['c1', ''] }), 'channels[1]', 'must not be empty'],
    ['an empty groupBy label', makeRuleInput({ groupBy: [''] }), 'groupBy[0]', 'must not be empty'],
    [
      'a notification group interval of 0',
      makeRuleInput({ notification: { groupInterval: '0s' } }),
      'notification.groupInterval',
      'must be at least 1s',
    ],
    [
      'a notification group wait that is not a duration',
      makeRuleInput({ notification: { groupWait: 'soon' } }),
      'notification.groupWait',
      expect.stringMatching(/^"soon" is not a duration/) as string,
    ],
  ])('%s', async (_, input, field, message) => {
    expect(await errorsOf(input)).toEqual([{ field, message }]);
  });

  it('refuses a matcher that is not a regular expression, with what is wrong with it', async () => {
    const [error, ...others] = await errorsOf(
      makeRuleInput({ conditions: [makeMetricInput({ matchers: [{ key: 'route', op: 'RE', value: '/api/(' }] })] }),
    );
    expect(others).toEqual([]);
    expect(error?.field).toBe('conditions[0].metric.matchers[0].value');
    expect(error?.message).toMatch(/^"\/api\/\(" is not a regular expression \(.*Unterminated group\)$/);
  });

  it('reports every problem at once, in the order of the input', async () => {
    const errors = await errorsOf({
      name: '',
      severity: 'URGENT',
      conditions: [makeMetricInput({ window: 'soon', threshold: null })],
      evaluationInterval: '1s',
    });
    expect(errors.map((e) => e.field)).toEqual([
      'name',
      'severity',
      'conditions[0].metric.window',
      'conditions[0].metric.threshold',
      'evaluationInterval',
    ]);
  });
});

describe('recovery threshold input', () => {
  it('accepts a threshold on the side where the condition no longer holds', async () => {
    const above = await validateRuleInput(makeRuleInput({ recoveryThreshold: 80 }), makeDeps());
    expect(above).toMatchObject({ ok: true, rule: { recoveryThreshold: 80 } });
    const below = await validateRuleInput(
      makeRuleInput({ conditions: [makeMetricInput({ operator: 'LTE', threshold: 10 })], recoveryThreshold: 20 }),
      makeDeps(),
    );
    expect(below).toMatchObject({ ok: true, rule: { recoveryThreshold: 20 } });
  });

  it.each<[string, AlertRuleInput, string]>([
    [
      'GT with one above',
      makeRuleInput({ recoveryThreshold: 95 }),
      'must be below the threshold 90: a rule firing above it resolves once the value falls to the recovery threshold',
    ],
    [
      'GTE with one equal',
      makeRuleInput({ conditions: [makeMetricInput({ operator: 'GTE' })], recoveryThreshold: 90 }),
      'must be below the threshold 90: a rule firing above it resolves once the value falls to the recovery threshold',
    ],
    [
      'LT with one below',
      makeRuleInput({ conditions: [makeMetricInput({ operator: 'LT', threshold: 10 })], recoveryThreshold: 5 }),
      'must be above the threshold 10: a rule firing below it resolves once the value rises to the recovery threshold',
    ],
    [
      'an EQ condition',
      makeRuleInput({ conditions: [makeMetricInput({ operator: 'EQ' })], recoveryThreshold: 80 }),
      'does not apply to an EQ condition; only to GT, GTE, LT, LTE',
    ],
    [
      'a log anomaly with one above its score',
      makeRuleInput({ conditions: [{ logAnomaly: { service: 'a', minScore: 3 } }], recoveryThreshold: 4 }),
      'must be below the threshold 3: a rule firing above it resolves once the value falls to the recovery threshold',
    ],
    [
      'two conditions',
      makeRuleInput({ conditions: [makeMetricInput(), makeMetricInput()], recoveryThreshold: 80 }),
      'applies to a rule with exactly one condition (this one has 2)',
    ],
  ])('refuses %s', async (_, input, message) => {
    expect(await errorsOf(input)).toEqual([{ field: 'recoveryThreshold', message }]);
  });
});

describe('log queries', () => {
  it('asks the logs subgraph about each non-empty query and reports a failure on its field with the position', async () => {
    const deps = makeDeps();
    const result = await validateRuleInput(
      makeRuleInput({
        match: 'ANY',
        conditions: [
          makeLogInput({ query: 'timeout' }),
          makeLogInput({ query: '' }),
          makeLogInput({ query: 'level:(ERROR' }),
        ],
      }),
      deps,
    );
    expect(deps.checkLogQuery.mock.calls).toEqual([['timeout'], ['level:(ERROR']]);
    expect(result).toEqual({
      ok: false,
      errors: [{ field: 'conditions[2].log.query', message: 'does not parse at position 6: missing )' }],
    });
  });

  it('lets a failure to reach the logs subgraph propagate, since it says nothing about the input', async () => {
    const deps = { checkLogQuery: () => Promise.reject(new Error('logs: UNAVAILABLE')) };
    await expect(validateRuleInput(makeRuleInput({ conditions: [makeLogInput()] }), deps)).rejects.toThrow(
      'logs: UNAVAILABLE',
    );
  });
});
