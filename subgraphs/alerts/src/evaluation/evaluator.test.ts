import { describe, expect, it } from 'vitest';
import { ServiceMetrics, createLogger } from '@heimdall/shared/telemetry';
import type { ConditionRead } from './conditions.js';
import { Evaluator, evaluationMetrics } from './evaluator.js';
import type { AlertInstance } from './rule-instances.js';
import { makeRule } from '../rules/alert-rule.fixtures.js';
import type { AlertRule } from '../rules/alert-rule.js';
import type { EvaluationRecord, RuleRecord } from '../store/index.js';

const AT = Date.UTC(2026, 10, 22, 10, 0, 0);
const RULE_ID = '6f1c1c7e-0000-4000-8000-000000000001';

function makeRecord(overrides: Partial<AlertRule> = {}): RuleRecord {
  return { ...makeRule(overrides), id: RULE_ID, createdAt: new Date(AT), updatedAt: new Date(AT), version: 3 };
}

/** An evaluator over fakes: `record` stands for the store's transaction, given the stored instances. */
function makeEvaluator(options: {
  rule?: RuleRecord | undefined;
  reads?: ConditionRead[];
  previous?: AlertInstance[];
  record?: (evaluate: () => unknown) => Promise<EvaluationRecord>;
  startedAt?: number;
}) {
  const metrics = evaluationMetrics(new ServiceMetrics({ service: 'alerts', instance: 't' }));
  const recorded: { at: number; error: string | null }[] = [];
  let kicks = 0;
  const evaluator = new Evaluator({
    rules: { byId: () => Promise.resolve(options.rule) },
    alerts: {
      recordEvaluation: async (_rule, at, evaluate, outcome) => {
        recorded.push({ at, error: outcome.error });
        if (options.record !== undefined) return options.record(() => evaluate(options.previous ?? []));
        const { instances, transitions } = evaluate(options.previous ?? []);
        return { kind: 'recorded', instances: instances.map((i) => i.instance), transitions };
      },
    },
    read: () =>
      Promise.resolve({
        reads: options.reads ?? [{ ok: true, series: [{ labels: { host: 'a' }, value: 95 }] }],
        rowsRead: 40,
      }),
    metrics,
    logger: createLogger({ service: 'alerts', instanceId: 't', level: 'silent' }),
    onStateChanges: () => kicks++,
    now: () => options.startedAt ?? AT + 250,
  });
  return { evaluator, metrics, recorded, kicks: () => kicks };
}

describe('one scheduled evaluation', () => {
  it('records the states and asks for the changes to be published', async () => {
    const { evaluator, metrics, recorded, kicks } = makeEvaluator({ rule: makeRecord() });

    const after = await evaluator.evaluate(RULE_ID, AT);

    expect(after).toEqual({ kind: 'set', rule: { id: RULE_ID, evaluationIntervalMs: 60_000 } });
    expect(recorded).toEqual([{ at: AT, error: null }]);
    expect(kicks()).toBe(1);
    expect((await metrics.evaluations.get()).values).toEqual([
      expect.objectContaining({ labels: { outcome: 'ok' }, value: 1 }),
    ]);
    expect((await metrics.stateChanges.get()).values).toEqual([
      expect.objectContaining({ labels: { to: 'FIRING' }, value: 1 }),
    ]);
    expect((await metrics.rowsRead.get()).values[0]?.value).toBe(40);
    expect(
      (await metrics.delay.get()).values.find((v) => v.metricName === 'heimdall_alert_evaluation_delay_seconds_sum')
        ?.value,
    ).toBe(0.25);
  });

  it('records a failed read with its message and counts it as an error, not as a failed evaluation', async () => {
    const { evaluator, metrics, recorded } = makeEvaluator({
      rule: makeRecord(),
      reads: [{ ok: false, message: 'metrics: down' }],
    });

    await evaluator.evaluate(RULE_ID, AT);

    expect(recorded).toEqual([{ at: AT, error: 'conditions[0]: metrics: down' }]);
    expect((await metrics.evaluations.get()).values).toEqual([
      expect.objectContaining({ labels: { outcome: 'error' }, value: 1 }),
    ]);
  });

  it('asks for the schedule to go when the rule is gone or disabled', async () => {
    for (const rule of [undefined, makeRecord({ enabled: false })]) {
      const { evaluator, recorded } = makeEvaluator({ rule });
      expect(await evaluator.evaluate(RULE_ID, AT)).toEqual({ kind: 'remove' });
      expect(recorded).toEqual([]);
    }
  });

  it('neither publishes nor changes anything for a time already evaluated', async () => {
    const { evaluator, metrics, kicks } = makeEvaluator({
      rule: makeRecord(),
      record: () => Promise.resolve({ kind: 'stale' }),
    });

    expect(await evaluator.evaluate(RULE_ID, AT)).toEqual({
      kind: 'set',
      rule: { id: RULE_ID, evaluationIntervalMs: 60_000 },
    });
    expect(kicks()).toBe(0);
    expect((await metrics.evaluations.get()).values).toEqual([
      expect.objectContaining({ labels: { outcome: 'stale' }, value: 1 }),
    ]);
  });

  it('never rejects: an evaluation that throws is counted as failed and leaves the schedule as it is', async () => {
    const { evaluator, metrics } = makeEvaluator({
      rule: makeRecord(),
      record: () => Promise.reject(new Error('connection reset')),
    });

    await expect(evaluator.evaluate(RULE_ID, AT)).resolves.toEqual({ kind: 'keep' });
    expect((await metrics.evaluations.get()).values).toEqual([
      expect.objectContaining({ labels: { outcome: 'failed' }, value: 1 }),
    ]);
  });
});
