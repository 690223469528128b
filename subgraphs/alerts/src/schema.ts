import { loadSubgraphSchema } from '@heimdall/shared/graphql';
import { formatDuration, rangeArgument, sizeArgument } from '@heimdall/shared/user-input';
import type { Resolvers } from './generated/resolvers.js';
import type { NotificationService } from './notifications/notification-service.js';
import { notificationResolvers } from './notifications/resolvers.js';
import { actorOf } from './request-actor.js';
import type { RuleService } from './rules/rule-service.js';
import { type AlertState, flappingCount } from './evaluation/alert-state-machine.js';
import { alertLabels } from './evaluation/rule-instances.js';
import { type AlertsStore, type RulesStore, alertId, ruleId } from './store/index.js';

export interface AlertsContext {
  readonly rules: RulesStore;
  readonly alerts: AlertsStore;
  readonly ruleService: RuleService;
  readonly notifications: NotificationService;
  /** Who the call is for, verified from the internal token (SPEC §8). */
  readonly caller?: { readonly subject: string } | undefined;
}

const MAX_RULES_PER_SERVICE = 1000;
const MAX_RULES_PAGE = 500;
const MAX_ALERTS_PAGE = 1000;
const MAX_HISTORY = 10_000;
const MAX_CHANGES = 100;
const MAX_HISTORY_RANGE_MS = 90 * 86_400_000;
/** The states Service.alerts lists. */
const ACTIVE: readonly AlertState[] = ['PENDING', 'FIRING', 'NODATA', 'ERROR'];

const labelList = (labels: Readonly<Record<string, string>>) =>
  Object.entries(labels).map(([key, value]) => ({ key, value }));
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const resolvers: Resolvers = {
  ...notificationResolvers,
  Query: {
    alertRule: async (_, { id }, ctx) => (await ctx.rules.byId(id)) ?? null,
    alertRules: (_, { filter, first, after }, ctx) =>
      ctx.rules.list(filter ?? {}, sizeArgument('first', first, MAX_RULES_PAGE), after ?? null),
    alerts: (_, { filter, first, after }, ctx) =>
      ctx.alerts.list(
        {
          states: filter?.states ?? null,
          service: filter?.service ?? null,
          ruleId: filter?.ruleId ? ruleId(filter.ruleId, 'filter.ruleId') : null,
        },
        sizeArgument('first', first, MAX_ALERTS_PAGE),
        after ?? null,
      ),
    alertHistory: (_, args, ctx) => {
      const { from, to } = rangeArgument('range', args.range, { maxSpanMs: MAX_HISTORY_RANGE_MS });
      return ctx.alerts.history(
        ruleId(args.ruleId, 'ruleId'),
        from,
        to,
        sizeArgument('first', args.first, MAX_HISTORY),
      );
    },
    previewAlertRule: (_, { input }, ctx) => ctx.ruleService.preview(input),
    ...notificationResolvers.Query,
  },
  Mutation: {
    createAlertRule: (_, { input }, ctx) => ctx.ruleService.create(input, actorOf(ctx)),
    updateAlertRule: (_, { id, version, input }, ctx) => ctx.ruleService.update(id, version, input, actorOf(ctx)),
    deleteAlertRule: (_, { id, version }, ctx) => ctx.ruleService.delete(id, version ?? null, actorOf(ctx)),
    setAlertRuleEnabled: (_, { id, enabled, version }, ctx) =>
      ctx.ruleService.setEnabled(id, enabled, version ?? null, actorOf(ctx)),
    ...notificationResolvers.Mutation,
  },
  Service: {
    __resolveReference: (ref) => ({ name: ref.name }),
    rules: (service, _, ctx) => ctx.rules.forService(service.name, MAX_RULES_PER_SERVICE),
    alerts: (service, _, ctx) => ctx.alerts.list({ service: service.name, states: ACTIVE }, MAX_ALERTS_PAGE, null),
  },
  AlertRule: {
    __resolveReference: async (ref, ctx) => (await ctx.rules.byId(ref.id)) ?? null,
    labels: (rule) => labelList(rule.labels),
    annotations: (rule) => labelList(rule.annotations),
    for: (rule) => formatDuration(rule.forMs),
    evaluationInterval: (rule) => formatDuration(rule.evaluationIntervalMs),
    keepFiringFor: (rule) => formatDuration(rule.keepFiringForMs),
    createdAt: (rule) => rule.createdAt.toISOString(),
    updatedAt: (rule) => rule.updatedAt.toISOString(),
    alerts: (rule, _, ctx) => ctx.alerts.list({ ruleId: rule.id }, MAX_ALERTS_PAGE, null),
    changes: (rule, { first }, ctx) => ctx.rules.changes(rule.id, sizeArgument('first', first, MAX_CHANGES)),
  },
  AlertCondition: {
    metric: (c) => (c.kind === 'metric' ? c : null),
    log: (c) => (c.kind === 'log' ? c : null),
    logAnomaly: (c) => (c.kind === 'logAnomaly' ? c : null),
  },
  MetricCondition: {
    window: (c) => formatDuration(c.windowMs),
  },
  LogCondition: {
    window: (c) => formatDuration(c.windowMs),
  },
  Alert: {
    id: (a) => alertId(a.ruleId, a.key),
    rule: async (a, _, ctx) => (await ctx.rules.byId(a.ruleId)) ?? null,
    state: (a) => a.state.state,
    since: (a) => a.since.toISOString(),
    value: (a) => a.state.value,
    labels: (a) => labelList(alertLabels({ name: a.ruleName, labels: a.ruleLabels }, a)),
    annotations: (a) => labelList(a.annotations),
    activeAt: (a) => iso(a.state.activeAt),
    firedAt: (a) => iso(a.state.firedAt),
    resolvedAt: (a) => iso(a.state.resolvedAt),
    lastEvaluatedAt: (a) => iso(a.state.lastEvaluatedAt),
    error: (a) => a.state.error,
    flapping: (a) => flappingCount(a.state, Date.now()),
  },
  AlertTransition: {
    labels: (t) => labelList(t.labels),
    at: (t) => t.at.toISOString(),
    annotations: (t) => labelList(t.annotations),
  },
  AlertPreview: {
    labels: (p) => labelList(p.labels),
    annotations: (p) => labelList(p.annotations),
  },
  AlertRuleChange: {
    action: (c) => c.action.toUpperCase() as 'CREATE' | 'UPDATE' | 'DELETE' | 'ENABLE' | 'DISABLE',
    at: (c) => c.at.toISOString(),
    diff: (c) => JSON.stringify(c.diff),
  },
};

export function buildSchema() {
  return loadSubgraphSchema(new URL('./schema.graphql', import.meta.url), resolvers).schema;
}
