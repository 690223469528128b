/**
 * Who makes a rule change, for the audit log. Once subgraphs verify the caller (the gateway's signed internal token,
 * SPEC §8), the context carries `caller` and its subject is recorded. Until then the request can only say it
 * itself: the `X-Heimdall-Actor` header, unverified, or "unknown" without it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Platform } from '@heimdall/shared';

export const ACTOR_HEADER = 'x-heimdall-actor';
const UNKNOWN = 'unknown';
const MAX_LENGTH = 200;

const actors = new AsyncLocalStorage<string>();

/** Remembers each request's actor for the resolvers it runs (after the body is parsed, so the context carries on). */
export function recordRequestActors(app: Platform['app']): void {
  app.addHook('preHandler', (request, _reply, done) => {
    const header = request.headers[ACTOR_HEADER];
    const actor = typeof header === 'string' && header.trim() !== '' ? header.trim().slice(0, MAX_LENGTH) : UNKNOWN;
    actors.run(actor, done);
  });
}

/** The verified caller when there is one, else what the current request says. */
export function actorOf(context: { readonly caller?: { readonly subject: string } | undefined }): string {
  return context.caller?.subject ?? actors.getStore() ?? UNKNOWN;
}
