/**
 * The checks every request to the gateway passes before anything else, on :4000 and :4318 alike: who is calling,
 * then whether that client is within its rate limit. The rate limit comes first in effect, so that a flood of bad
 * credentials is limited by address like anything else.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { onRequestHookHandler } from '@heimdall/shared/http';
import type { Caller } from '@heimdall/shared/auth';
import { type HeimdallError, heimdallError } from '@heimdall/shared/errors';
import type { Counter, ServiceMetrics } from '@heimdall/shared/telemetry';
import type { Authenticator } from './authenticate.js';
import { replyWithGraphQLError } from './graphql-http.js';
import type { Entry, RateLimiter } from './rate-limit.js';

export type Admission =
  { readonly ok: true; readonly caller: Caller } | { readonly ok: false; readonly error: HeimdallError };

export class FrontDoor {
  private readonly refusals: Counter<'entry' | 'code'>;

  constructor(
    private readonly authenticator: Authenticator,
    private readonly limiter: Pick<RateLimiter, 'admit'>,
    metrics: ServiceMetrics,
  ) {
    this.refusals = metrics.counter(
      'heimdall_front_door_refusals_total',
      'Requests refused before any work: 401, 429, 503, by entry point and code',
      ['entry', 'code'],
    );
  }

  async admit(headers: IncomingHttpHeaders, address: string, entry: Entry): Promise<Admission> {
    let admission: Admission;
    try {
      const authentication = await this.authenticator.authenticate(headers);
      const decision = await this.limiter.admit(authentication.ok ? authentication.caller : undefined, address, entry);
      admission = decision.ok
        ? authentication
        : {
            ok: false,
            error: heimdallError('RATE_LIMITED', {
              message: 'Too many requests: slow down',
              retryAfterSeconds: decision.retryAfterSeconds,
            }),
          };
    } catch (error) {
      // The key store (Redis) did not answer: the credential can be neither accepted nor refused.
      admission = {
        ok: false,
        error: heimdallError('UNAVAILABLE', {
          message: 'credentials cannot be checked right now',
          retryAfterSeconds: 5,
          cause: error,
        }),
      };
    }
    if (!admission.ok) this.refusals.inc({ entry, code: admission.error.code });
    return admission;
  }
}

/** The front door of :4000: a refused request gets its GraphQL error at once; an admitted one carries its caller. */
export function admissionHook(door: FrontDoor): onRequestHookHandler {
  return (request, reply, done) => {
    // CORS preflights carry no credentials (cors.ts answers the allowed ones); nothing runs for them.
    if (request.method === 'OPTIONS') return done();
    door.admit(request.headers, request.ip, 'graphql').then(
      (admission) => {
        if (!admission.ok) return void replyWithGraphQLError(request, reply, admission.error);
        request.caller = admission.caller;
        done();
      },
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error))),
    );
  };
}
