import type { FastifyInstance } from 'fastify';
import { heimdallError } from '../errors/heimdall-error.js';
import { mayIngest, mayRead } from './access.js';
import type { Caller } from './caller.js';
import { SERVICE_AUTH_HEADER, type ServiceTokens } from './service-token.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the request is for: set by the gateway's authentication, or by a subgraph's service-auth hook. */
    caller: Caller | undefined;
  }
}

export interface ServiceAuthHookOptions {
  readonly tokens: Pick<ServiceTokens, 'verify'>;
  /** Routes open without a token: the probes (/health, /ready, /metrics). */
  readonly openRoutes: ReadonlySet<string>;
  /** The GraphQL route: roles are checked there per operation, by the roles plugin, once it is parsed. */
  readonly graphqlPath: string;
}

/**
 * Every request to a subgraph (GraphQL, ingest, anything but the probes) needs a valid internal token; without
 * one it is 401, in the route's own error shape (OTLP routes answer a google.rpc.Status). The caller it names is
 * on `request.caller`. Outside GraphQL, reads (GET) need a reading role and everything else an ingesting one.
 */
export function requireServiceAuth(app: FastifyInstance, options: ServiceAuthHookOptions): void {
  app.addHook('onRequest', async (request) => {
    const route = request.routeOptions.url;
    if (route !== undefined && options.openRoutes.has(route)) return;
    const token = request.headers[SERVICE_AUTH_HEADER];
    if (typeof token !== 'string' || token === '') {
      request.log.warn({ method: request.method, url: request.url }, 'call without an internal token refused');
      throw heimdallError('UNAUTHENTICATED', { message: 'Missing or invalid X-Service-Auth header' });
    }
    const check = await options.tokens.verify(token);
    if (!check.ok) {
      request.log.warn(
        { method: request.method, url: request.url, reason: check.reason },
        'invalid internal token refused',
      );
      throw heimdallError('UNAUTHENTICATED', { message: 'Invalid token' });
    }
    request.caller = check.caller;
    if (route === options.graphqlPath) return;
    const allowed =
      request.method === 'GET' || request.method === 'HEAD' ? mayRead(check.caller) : mayIngest(check.caller);
    if (!allowed) throw heimdallError('FORBIDDEN');
  });
}
