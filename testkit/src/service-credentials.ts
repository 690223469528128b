/**
 * For tests of every workspace (services never import it): the service-trust secret of this test process and
 * internal tokens signed with it, so a test can call a subgraph directly as the gateway would. The secret is random
 * per process: nothing here is a credential anywhere else.
 */
import { randomBytes } from 'node:crypto';
import { type Caller, type Role, ServiceTokens } from '@heimdall/shared/auth';

const secret = randomBytes(32).toString('base64url');
const tokens = new ServiceTokens({ service: 'test', secrets: [secret] });

/** `{ SERVICE_AUTH_SECRET }` for a service config built in this process (spread it into the env given to `loadConfig`). */
export function testServiceAuthEnv(): { SERVICE_AUTH_SECRET: string } {
  return { SERVICE_AUTH_SECRET: secret };
}

/** A person with these roles, as the gateway forwards them. */
export function makeCaller(roles: readonly Role[] = ['admin'], subject = 'test-user'): Caller {
  return { kind: 'user', subject, roles };
}

/**
 * `{ 'x-service-auth': token }` for a direct call to a subgraph of this process's services, on behalf of `caller`
 * (by default an admin, who may do everything).
 */
export function serviceAuthHeaders(caller: Caller = makeCaller()): Promise<Record<string, string>> {
  return tokens.headers(caller);
}
