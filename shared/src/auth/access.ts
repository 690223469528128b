/**
 * What each role may do (SPEC §8), in one place: the gateway decides with it before planning, and every subgraph
 * decides again from the identity in the internal token, so that reaching a subgraph port directly grants nothing.
 */
import type { OperationTypeNode } from 'graphql';
import type { Caller, Role } from './caller.js';

const READERS: readonly Role[] = ['viewer', 'editor', 'admin'];
const WRITERS: readonly Role[] = ['editor', 'admin'];
const ADMINS: readonly Role[] = ['admin'];
const INGESTERS: readonly Role[] = ['agent', 'admin'];

/**
 * Root fields that need more than their operation type's default (queries: viewer, mutations: editor). A table
 * rather than a schema directive: a mutation nobody listed is safe by default (editors, never viewers), and the
 * few admin-only fields live in the gateway's own schema, next to this table.
 */
export const ROOT_FIELD_ROLES: Readonly<Record<string, readonly Role[]>> = {
  'Query.apiKeys': ADMINS,
  'Mutation.createApiKey': ADMINS,
  'Mutation.revokeApiKey': ADMINS,
};

function hasAny(caller: Caller, roles: readonly Role[]): boolean {
  return caller.roles.some((role) => roles.includes(role));
}

/**
 * Whether `caller` may run an operation of `type` selecting these root fields. Heimdall services calling on their
 * own behalf may read (the alert evaluator reads metrics and logs) but change nothing through GraphQL.
 */
export function mayRunOperation(
  caller: Caller,
  type: OperationTypeNode | 'query' | 'mutation' | 'subscription',
  rootFields: readonly string[],
): boolean {
  if (type === 'query' && caller.kind === 'service') return true;
  const typeName = type === 'query' ? 'Query' : type === 'mutation' ? 'Mutation' : 'Subscription';
  const fallback = type === 'query' ? READERS : WRITERS;
  if (rootFields.length === 0) return hasAny(caller, fallback);
  return rootFields.every((field) => hasAny(caller, ROOT_FIELD_ROLES[`${typeName}.${field}`] ?? fallback));
}

/** Whether `caller` may push telemetry (OTLP, the log API): agents and admins, and Heimdall services (RED metrics). */
export function mayIngest(caller: Caller): boolean {
  return caller.kind === 'service' || hasAny(caller, INGESTERS);
}

/** Whether `caller` may read through a plain HTTP route (not GraphQL). */
export function mayRead(caller: Caller): boolean {
  return caller.kind === 'service' || hasAny(caller, READERS);
}
