import { makeCaller, serviceAuthHeaders } from '@heimdall/testkit';
import type { Role } from '@heimdall/shared/auth';

/**
 * The internal token the gateway adds to a call on behalf of `role` (valid 60 s), minted at most every 30 s, for a
 * benchmark's direct calls to a subgraph: a push as the gateway forwards an agent's, a query as it forwards a
 * person's. Stores behind the subgraph ignore it.
 */
export function internalHeaders(role: Role): () => Promise<Record<string, string>> {
  let cached: { headers: Promise<Record<string, string>>; at: number } | undefined;
  return () => {
    if (cached === undefined || Date.now() - cached.at > 30_000)
      cached = { headers: serviceAuthHeaders(makeCaller([role])), at: Date.now() };
    return cached.headers;
  };
}
