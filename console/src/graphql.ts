/**
 * The console's one way to the data: POST /graphql on its own origin with the session's token. A refused
 * credential ends the session (the app asks for another, saying why); other errors come back to the view with
 * the argument they name, so a form can show them at the field.
 */
import type { Operation } from './generated/operations.js';
import { clearSession, readSession } from './session.js';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly argument: string | null,
  ) {
    super(message);
  }
}

type Listener = (reason: string) => void;
const signedOut = new Set<Listener>();

/** Called with why, when the gateway refuses the session's credential. */
export function onSignedOut(listener: Listener): () => void {
  signedOut.add(listener);
  return () => signedOut.delete(listener);
}

function endSession(reason: string): never {
  clearSession();
  for (const listener of signedOut) listener(reason);
  throw new ApiError(reason, 'UNAUTHENTICATED', null);
}

interface Answer<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; argument?: string } }[];
}

/** Runs one of the console's operations (generated/operations.ts), typed with what it answers. */
export async function graphql<T, V>(operation: Operation<T, V>, variables: V, signal?: AbortSignal): Promise<T> {
  const session = readSession();
  if (session === null) endSession('Sign in to continue.');
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${session.token}` },
    body: JSON.stringify({ query: operation, variables }),
    signal: signal ?? null,
  });
  const answer = (await response.json().catch(() => ({}))) as Answer<T>;
  const first = answer.errors?.[0];
  if (response.status === 401 || first?.extensions?.code === 'UNAUTHENTICATED') {
    endSession(first?.message ?? 'The credential was refused.');
  }
  if (answer.data == null) {
    throw new ApiError(
      first?.message ?? `the gateway answered ${response.status}`,
      first?.extensions?.code ?? 'INTERNAL',
      first?.extensions?.argument ?? null,
    );
  }
  return answer.data;
}
