/**
 * CORS for browser dashboards on other origins (CORS_ORIGINS): allowed origins get the headers they need,
 * preflights are answered here (before credentials are asked for: browsers send none with them). Other origins
 * get no CORS headers, so browsers keep their answers from the page.
 */
import type { onRequestHookHandler } from '@heimdall/shared/http';

const ALLOWED_HEADERS =
  'authorization, content-type, x-api-key, apollo-require-preflight, x-apollo-operation-name, traceparent';
const PREFLIGHT_MAX_AGE_SECONDS = '600';

export function corsHook(origins: readonly string[]): onRequestHookHandler {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  return (request, reply, done) => {
    const origin = request.headers.origin;
    if (origin === undefined || (!any && !allowed.has(origin))) return done();
    void reply.headers({
      'access-control-allow-origin': any ? '*' : origin,
      vary: 'Origin',
      'access-control-expose-headers': 'retry-after, www-authenticate',
    });
    if (request.method !== 'OPTIONS' || request.headers['access-control-request-method'] === undefined) return done();
    void reply
      .code(204)
      .headers({
        'access-control-allow-methods': 'GET, POST',
        'access-control-allow-headers': ALLOWED_HEADERS,
        'access-control-max-age': PREFLIGHT_MAX_AGE_SECONDS,
      })
      .send();
  };
}
