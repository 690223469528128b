import { ApolloServer, type ApolloServerOptions, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
} from '@apollo/server/plugin/disabled';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler, preHandlerHookHandler } from 'fastify';
import { ERROR_CATALOG, HeimdallError, toGraphQLError } from '../errors/heimdall-error.js';
import type { Logger } from '../telemetry/logger.js';
import type { ServiceMetrics } from '../telemetry/service-metrics.js';

/** Operation durations and error codes into the service's Prometheus registry. */
function metricsPlugin(metrics: ServiceMetrics): ApolloServerPlugin {
  return {
    requestDidStart() {
      const started = process.hrtime.bigint();
      return Promise.resolve({
        willSendResponse({ operationName, operation, errors }) {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          metrics.graphqlDuration.observe(
            {
              operation_name: operationName ?? 'anonymous',
              operation_type: operation?.operation ?? 'unknown',
              outcome: errors === undefined || errors.length === 0 ? 'ok' : 'error',
            },
            seconds,
          );
          for (const error of errors ?? []) {
            const code = error.extensions.code;
            metrics.graphqlErrors.inc({ code: typeof code === 'string' ? code : ERROR_CATALOG.INTERNAL.graphqlCode });
          }
          return Promise.resolve();
        },
      });
    },
  };
}

export interface GraphQLMountOptions<TContext extends BaseContext> {
  readonly path?: string;
  readonly metrics: ServiceMetrics;
  readonly logger: Logger;
  /** The context of one request; the HTTP request carries who it is for (`request.caller`). */
  readonly context: (request: FastifyRequest) => Promise<TContext>;
  readonly plugins?: ApolloServerPlugin<TContext>[];
  /** Hooks of the GraphQL route alone, run before Apollo Server sees the request (the gateway's front door). */
  readonly hooks?: { readonly onRequest?: onRequestHookHandler[]; readonly preHandler?: preHandlerHookHandler[] };
}

/**
 * Serves an Apollo Server (a subgraph schema, or the gateway) on a service's fastify app. Errors leave through
 * the catalog: a thrown HeimdallError keeps its code (also behind a validation error, such as a query limit),
 * anything else becomes INTERNAL without its message.
 */
export async function mountGraphQL<TContext extends BaseContext>(
  app: FastifyInstance,
  server: Omit<ApolloServerOptions<TContext>, 'plugins' | 'formatError'>,
  options: GraphQLMountOptions<TContext>,
): Promise<ApolloServer<TContext>> {
  const apollo = new ApolloServer<TContext>({
    ...server,
    // Traces go to Jaeger through OpenTelemetry, not into responses as Apollo's inline ftv1 traces.
    plugins: [
      ApolloServerPluginInlineTraceDisabled(),
      // Nothing sets cache hints, yet its hook ran for every field resolved: over 120,000 for 60,000 points.
      ApolloServerPluginCacheControlDisabled(),
      metricsPlugin(options.metrics),
      ...(options.plugins ?? []),
    ],
    includeStacktraceInErrorResponses: false,
    // Apollo would stop itself on SIGTERM and re-raise the signal, killing the process before it deregisters
    // from Consul; runUntilSignalled owns shutdown.
    stopOnTerminationSignals: false,
    formatError: (formatted, error) => {
      // Read by shape, not `instanceof GraphQLError`: Apollo's errors may come from another copy of graphql-js.
      const cause = (error as { originalError?: unknown } | undefined)?.originalError;
      const ours = cause instanceof HeimdallError ? cause : undefined;
      if (
        ours === undefined &&
        formatted.extensions?.code !== undefined &&
        formatted.extensions.code !== 'INTERNAL_SERVER_ERROR'
      ) {
        return formatted;
      }
      const mapped = toGraphQLError(ours ?? unwrapResolverError(error));
      if (mapped.extensions.code === ERROR_CATALOG.INTERNAL.graphqlCode)
        options.logger.error({ err: error }, 'GraphQL resolver failed');
      return { ...formatted, message: mapped.message, extensions: { ...formatted.extensions, ...mapped.extensions } };
    },
    // The spread loses which variant of the options union `server` is (schema or gateway); it is unchanged.
  } as ApolloServerOptions<TContext>);
  await apollo.start();
  // Fastify's close already waits for requests in flight; stopping Apollo with it ends what Apollo runs itself,
  // such as the gateway's Consul watches, which would otherwise keep the process alive.
  app.addHook('onClose', () => apollo.stop());
  app.route({
    url: options.path ?? '/graphql',
    method: ['GET', 'POST', 'OPTIONS'],
    handler: fastifyApolloHandler(apollo, { context: (request) => options.context(request) }),
    ...(options.hooks?.onRequest === undefined ? {} : { onRequest: options.hooks.onRequest }),
    ...(options.hooks?.preHandler === undefined ? {} : { preHandler: options.hooks.preHandler }),
  });
  return apollo;
}
