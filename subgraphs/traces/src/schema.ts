import type { PeerClient } from '@heimdall/shared/discovery';
import { loadSubgraphSchema } from '@heimdall/shared/graphql';
import { formatInstant, sizeArgument } from '@heimdall/shared/user-input';
import { type AnsweredSpan, AnswerBudget } from './answers.js';
import { type CriticalPathSection, criticalPath } from './critical-path.js';
import { cutText } from './span-validation.js';
import type { Resolvers } from './generated/resolvers.js';
import { readRed } from './red-query.js';
import type { JaegerOperation, JaegerStore } from './store.js';
import { type SearchLimits, searchTraces, serviceMap } from './trace-search.js';
import type { SpanKind, SpanModel, TraceModel } from './trace-model.js';

export interface TracesContext {
  readonly store: JaegerStore;
  /** The metrics subgraph, where the RED metrics derived at ingest are read back (`metricQuery`). */
  readonly metrics: Pick<PeerClient, 'graphql'>;
  readonly limits: SearchLimits;
  /** Longest tag value answered, in UTF-8 bytes; longer ones are cut and marked `truncated`. */
  readonly maxValueBytes: number;
}

/** A Service as the traces subgraph resolves it: by name alone. */
export interface ServiceRef {
  readonly name: string;
}

/** An operation with the service it belongs to, which its `red` needs. */
export interface OperationRef extends JaegerOperation {
  readonly service: string;
}

/** A span on the critical path with its stretches of the path. */
export interface CriticalPathEntry {
  readonly span: AnsweredSpan;
  readonly selfTimeMs: number;
  readonly sections: readonly CriticalPathSection[];
}

const MAX_SERVICES = 1000;
/** A service's RED metrics are those of the requests it handles. */
const SERVICE_RED_KINDS: readonly SpanKind[] = ['SERVER', 'CONSUMER'];

const operationsOf = (service: string, operations: readonly JaegerOperation[]): OperationRef[] =>
  operations.map((o) => ({ ...o, service }));

export const resolvers: Resolvers = {
  Query: {
    services: async (_, args, ctx) => {
      const limit = sizeArgument('limit', args.limit, MAX_SERVICES);
      const needle = args.search?.toLowerCase();
      const names = (await ctx.store.services())
        .filter((name) => needle === undefined || name.toLowerCase().includes(needle))
        .sort();
      return names.slice(0, limit).map((name) => ({ name }));
    },
    operations: async (_, args, ctx) =>
      operationsOf(
        args.service,
        await ctx.store.operations(args.service, args.kind == null ? {} : { spanKind: args.kind }),
      ),
    trace: async (_, args, ctx) => answered(ctx, await ctx.store.trace(args.traceId)),
    traces: async (_, { filter }, ctx) => {
      // GraphQL fills in the default limit; the generated types cannot know it.
      const found = await searchTraces(ctx.store, { ...filter, limit: filter.limit ?? 20 }, ctx.limits);
      const budget = new AnswerBudget(ctx.maxValueBytes);
      return found.map((trace) => budget.trace(trace));
    },
    dependencies: (_, args, ctx) => serviceMap(ctx.store, args.range, ctx.limits),
    criticalPath: async (_, args, ctx) => {
      const trace = await ctx.store.trace(args.traceId);
      if (trace === undefined) return null;
      const budget = new AnswerBudget(ctx.maxValueBytes);
      return criticalPathOf(trace).map((entry) => ({ ...entry, span: budget.spanOrSkeleton(entry.span) }));
    },
  },
  Service: {
    __resolveReference: (ref) => ({ name: ref.name }),
    operations: async (service, _, ctx) => operationsOf(service.name, await ctx.store.operations(service.name)),
    dependencies: (service, args, ctx) => serviceMap(ctx.store, args.range, ctx.limits, service.name),
    red: (service, args, ctx) => readRed(ctx.metrics, { service: service.name, spanKinds: SERVICE_RED_KINDS }, args),
  },
  Operation: {
    red: (operation, args, ctx) =>
      readRed(
        ctx.metrics,
        {
          service: operation.service,
          operation: operation.name,
          spanKinds: operation.spanKind === '' ? [] : [operation.spanKind],
        },
        args,
      ),
  },
  Trace: {
    __resolveReference: async (ref, ctx) => answered(ctx, await ctx.store.trace(ref.traceId)),
    services: (trace) => trace.services.map((name) => ({ name })),
    startTime: (trace) => formatInstant(trace.startTime),
    endTime: (trace) => formatInstant(trace.endTime),
  },
  Span: {
    __resolveReference: async (ref, ctx) => {
      const trace = await ctx.store.trace(ref.traceId);
      const spanId = ref.spanId.toLowerCase();
      const span = trace?.spans.find((s) => s.spanId === spanId);
      return span === undefined ? null : new AnswerBudget(ctx.maxValueBytes).spanOrSkeleton(span);
    },
    service: (span) => ({ name: span.service }),
    startTime: (span) => formatInstant(span.startTime),
    endTime: (span) => formatInstant(span.endTime),
    events: (span) => [...span.logs],
  },
  Tag: {
    value: (tag, _, ctx) => cutText(tag.value, ctx.maxValueBytes) ?? tag.value,
    truncated: (tag, _, ctx) => cutText(tag.value, ctx.maxValueBytes) !== undefined,
  },
  SpanEvent: {
    timestamp: (event) => formatInstant(event.timestamp),
  },
  CriticalPathSection: {
    startTime: (section) => formatInstant(section.startTime),
    endTime: (section) => formatInstant(section.endTime),
    durationMs: (section) => section.selfTimeMs,
  },
};

/** A trace within one answer's budget (answers.ts); null for none. */
function answered(ctx: TracesContext, trace: TraceModel | undefined) {
  return trace === undefined ? null : new AnswerBudget(ctx.maxValueBytes).trace(trace);
}

/** The critical path's sections grouped by span, in the order the path first enters each span. */
export function criticalPathOf(trace: TraceModel): (Omit<CriticalPathEntry, 'span'> & { readonly span: SpanModel })[] {
  const spans = new Map(trace.spans.map((s) => [s.spanId, s]));
  const entries = new Map<string, { span: SpanModel; selfTimeMs: number; sections: CriticalPathSection[] }>();
  for (const section of criticalPath(trace.spans)) {
    const entry = entries.get(section.spanId) ?? { span: spans.get(section.spanId)!, selfTimeMs: 0, sections: [] };
    entry.selfTimeMs += section.selfTimeMs;
    entry.sections.push(section);
    entries.set(section.spanId, entry);
  }
  return [...entries.values()];
}

export function buildSchema() {
  return loadSubgraphSchema(new URL('./schema.graphql', import.meta.url), resolvers).schema;
}
