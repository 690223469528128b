import { strict as assert } from 'node:assert';
import { type GraphQLDataSourceProcessOptions, RemoteGraphQLDataSource } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { SpanKind } from '@opentelemetry/api';
import { GraphQLError, Kind, type OperationDefinitionNode, type SelectionSetNode, parse } from 'graphql';
import type { CallerContext, ServiceTokens } from '@heimdall/shared/auth';
import { ERROR_CATALOG, HeimdallError, heimdallError } from '@heimdall/shared/errors';
import { HttpStatusError, type ResiliencePolicy } from '@heimdall/shared/resilience';
import type { Logger, Telemetry } from '@heimdall/shared/telemetry';
import type { SubgraphDirectory } from './directory.js';
import { logicalUrl } from './supergraph-manager.js';

/** Response keys a subgraph operation asks for: the entity fields of an `_entities` fetch, else the root fields. */
function requestedPaths(query: string, representationCount: number): (string | number)[][] {
  const operation = parse(query).definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  if (operation === undefined) return [];
  const keys = (set: SelectionSetNode): string[] =>
    set.selections.flatMap((s) =>
      s.kind === Kind.FIELD
        ? [s.alias?.value ?? s.name.value]
        : s.kind === Kind.INLINE_FRAGMENT
          ? keys(s.selectionSet)
          : [],
    );
  const root = operation.selectionSet.selections.find((s) => s.kind === Kind.FIELD && s.name.value === '_entities');
  if (root?.kind !== Kind.FIELD || root.selectionSet === undefined) return keys(operation.selectionSet).map((k) => [k]);
  const fields = keys(root.selectionSet).filter((k) => k !== '__typename');
  return Array.from({ length: representationCount }, (_, i) => fields.map((field) => ['_entities', i, field])).flat();
}

/** Retry hint for failures that carry none of their own, such as a subgraph's 500. */
const DEFAULT_RETRY_AFTER_SECONDS = 5;

// The planner sends the same few subgraph operations over and over: parse each once.
const operationTypes = new Map<string, string | undefined>();

function operationType(body: string): string | undefined {
  const { query } = JSON.parse(body) as { query?: string };
  if (query === undefined) return undefined;
  if (!operationTypes.has(query)) {
    if (operationTypes.size >= 1000) operationTypes.clear();
    const definition = parse(query).definitions.find(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
    operationTypes.set(query, definition?.operation);
  }
  return operationTypes.get(query);
}

export interface SubgraphDataSourceDeps {
  /** Where the subgraph's passing instances come from. */
  readonly directory: Pick<SubgraphDirectory, 'pick'>;
  /** The subgraph's resilience policy, asked for each call (it is renewed when its instances change). */
  readonly policy: () => ResiliencePolicy;
  readonly telemetry: Telemetry;
  readonly logger: Logger;
  /** Signs the internal token (X-Service-Auth) each call carries for the caller it serves. */
  readonly serviceTokens: Pick<ServiceTokens, 'headers'>;
}

/**
 * Calls one subgraph: picks a passing instance from Consul per request, runs the call through the subgraph's
 * resilience policy, carries the trace context, and turns a failed call into UNAVAILABLE errors on exactly the
 * fields that subgraph owed, so the rest of the answer still arrives. Those errors say only which subgraph
 * failed, in the catalog's words: what went wrong (fetch errors, status texts, error pages) goes to the log.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<CallerContext> {
  constructor(
    private readonly subgraph: string,
    private readonly deps: SubgraphDataSourceDeps,
  ) {
    super({ url: logicalUrl(subgraph) });
    this.fetcher = (_url, init) => this.send(init ?? {});
  }

  override async process(options: GraphQLDataSourceProcessOptions<CallerContext>): Promise<GatewayGraphQLResponse> {
    return this.deps.telemetry.withSpan(
      `subgraph ${this.subgraph}`,
      { 'heimdall.subgraph': this.subgraph },
      async () => {
        try {
          return await super.process(options);
        } catch (error) {
          return { errors: this.unavailable(options, error) };
        }
      },
      { kind: SpanKind.CLIENT },
    );
  }

  /** The trace context, and who the call is for, signed (the subgraph refuses a call without it). */
  override async willSendRequest(options: GraphQLDataSourceProcessOptions<CallerContext>): Promise<void> {
    let caller;
    // A client's operation (the only kind this gateway sends: it loads no schema through data sources).
    if ('incomingRequestContext' in options) {
      caller = options.context.caller;
      // The front door admits a request only with its caller set.
      assert(caller !== undefined, 'a subgraph call for a request without a caller');
    }
    const headers = { ...(await this.deps.serviceTokens.headers(caller)) };
    this.deps.telemetry.inject(headers);
    for (const [name, value] of Object.entries(headers)) options.request.http?.headers.set(name, value);
  }

  private async send(init: RequestInit & { method?: string }): Promise<Response> {
    // Only queries are retried: a mutation may have taken effect before its answer was lost.
    const isQuery = typeof init.body === 'string' && operationType(init.body) === 'query';
    return this.deps.policy().execute<Response>(
      async (signal) => {
        const instance = this.deps.directory.pick(this.subgraph);
        if (instance === undefined) {
          throw heimdallError('UNAVAILABLE', {
            message: `no passing instance of the ${this.subgraph} subgraph in Consul`,
            retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS,
            service: this.subgraph,
          });
        }
        const url = `http://${instance.address}:${instance.port}${instance.meta.graphql_path ?? '/graphql'}`;
        const response = await fetch(url, { ...init, signal });
        if (!response.ok) {
          // An error page is neither read nor passed on (Apollo would put it in the error's extensions); the
          // policy retries 429/502/503/504 and counts 5xx against the subgraph.
          await response.body?.cancel();
          throw HttpStatusError.fromResponse(response);
        }
        return response;
      },
      { idempotent: isQuery },
    );
  }

  private unavailable(options: GraphQLDataSourceProcessOptions<CallerContext>, error: unknown): GraphQLError[] {
    // While the breaker is open, calls fail without reaching the subgraph: the failures that opened it were
    // logged, and one line per rejected query would flood the log during an outage.
    const level = this.deps.policy().state === 'open' ? 'debug' : 'warn';
    this.deps.logger[level]({ err: error, subgraph: this.subgraph }, `${this.subgraph} subgraph call failed`);
    const message = `${this.subgraph} subgraph unavailable: ${ERROR_CATALOG.UNAVAILABLE.message}`;
    const extensions = {
      code: ERROR_CATALOG.UNAVAILABLE.graphqlCode,
      service: this.subgraph,
      retryAfterSeconds:
        (error instanceof HeimdallError ? error.retryAfterSeconds : undefined) ?? DEFAULT_RETRY_AFTER_SECONDS,
    };
    const representations = (options.request.variables?.representations as unknown[] | undefined)?.length ?? 0;
    const paths = requestedPaths(options.request.query ?? '', representations);
    return (paths.length === 0 ? [undefined] : paths).map((path) => new GraphQLError(message, { path, extensions }));
  }
}
