import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { type DocumentNode, GraphQLError, Kind, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { type HeimdallError, heimdallError, toGraphQLError } from '../errors/heimdall-error.js';
import { mayRunOperation } from './access.js';
import type { Caller } from './caller.js';

/** The context of a GraphQL request in a Heimdall service: who it is for. */
export interface CallerContext extends BaseContext {
  readonly caller: Caller | undefined;
}

/**
 * A catalog error for a GraphQL response, with the HTTP status Apollo Server should answer with: the catalog's,
 * or another where GraphQL over HTTP says so (a request refused before execution is a 400).
 */
export function graphqlErrorWithStatus(error: HeimdallError, status = error.status): GraphQLError {
  const mapped = toGraphQLError(error);
  return new GraphQLError(mapped.message, {
    originalError: error,
    extensions: { ...mapped.extensions, http: { status } },
  });
}

/**
 * The root fields an operation selects, through fragments too: `{ ...F } fragment F on Mutation { revokeApiKey }`
 * must count as `revokeApiKey`.
 */
export function rootFieldsOf(document: DocumentNode, operation: OperationDefinitionNode): string[] {
  const fragments = new Map(
    document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])),
  );
  const seen = new Set<string>();
  const fields = new Set<string>();
  const visit = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value !== '__typename') fields.add(selection.name.value);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet);
      } else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment !== undefined) visit(fragment.selectionSet);
      }
    }
  };
  visit(operation.selectionSet);
  return [...fields];
}

/**
 * Role checks per operation (SPEC §8), once it is parsed and before anything runs or is planned: 403 "Insufficient
 * permissions" (FORBIDDEN) when the caller's roles do not allow every root field it selects.
 */
export function rolesPlugin<TContext extends CallerContext>(): ApolloServerPlugin<TContext> {
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ contextValue, operation, document }) {
          const { caller } = contextValue;
          // The HTTP hooks in front of GraphQL set the caller or refuse the request: this is a wiring bug.
          if (caller === undefined) return Promise.reject(graphqlErrorWithStatus(heimdallError('UNAUTHENTICATED')));
          // No operation by that name: nothing runs, and execution answers that it is unknown.
          if (operation === undefined) return Promise.resolve();
          if (!mayRunOperation(caller, operation.operation, rootFieldsOf(document, operation))) {
            return Promise.reject(graphqlErrorWithStatus(heimdallError('FORBIDDEN')));
          }
          return Promise.resolve();
        },
      });
    },
  };
}
