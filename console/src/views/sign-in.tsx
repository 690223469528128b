import { useState } from 'preact/hooks';
import { graphql } from '../graphql.js';
import { type Session, clearSession, saveSession, sessionOf } from '../session.js';
import { formText } from '../lib/form-text.js';
import { SignInCheckDocument } from '../generated/operations.js';

/** Asks for a credential and checks it with the gateway before keeping it, saying why one is refused. */
export function SignIn({ reason, onSignedIn }: { reason: string | null; onSignedIn: (session: Session) => void }) {
  const [error, setError] = useState<string | null>(reason);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const token = formText(new FormData(event.currentTarget as HTMLFormElement), 'token');
    if (token === '') return setError('Paste a token or an API key.');
    const candidate = sessionOf(token);
    if (candidate.expiresAt !== null && candidate.expiresAt <= Date.now()) {
      return setError(
        `This token expired at ${new Date(candidate.expiresAt).toLocaleString()}. Make a new one with npm run token.`,
      );
    }
    setBusy(true);
    saveSession(token);
    try {
      await graphql(SignInCheckDocument, {});
      onSignedIn(candidate);
    } catch (failure) {
      clearSession();
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in">
      <form onSubmit={(event) => void submit(event)}>
        <h1>Heimdall</h1>
        <label for="token">Token or API key</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          autoFocus
          spellcheck={false}
          placeholder="eyJhbGciOiJSUzI1NiIs…"
        />
        <p class="hint">
          <code>npm start</code> prints a viewer, an editor and an admin token; <code>npm run token</code> makes more.
          It is kept for this tab only.
        </p>
        {error !== null && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
