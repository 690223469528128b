import type pg from 'pg';
import { heimdallError } from '@heimdall/shared/errors';
import type { ResiliencePolicy } from '@heimdall/shared/resilience';

export interface PostgresLimits {
  /** Milliseconds PostgreSQL lets one statement run before it cancels it. Default 3000 (SPEC §7's timeout). */
  readonly statementTimeoutMs?: number;
}

/** A statement inside a transaction (PostgresStore.transaction). */
export type Query = <R extends pg.QueryResultRow>(text: string, values?: readonly unknown[]) => Promise<R[]>;

/** SQLSTATEs that mean the client's input was wrong, not that the store failed. */
const INPUT_ERRORS = new Set(['22P02', '22007', '22008', '22003', '23514']);
/** query_canceled: the statement ran past statement_timeout (or was cancelled). */
const CANCELED = '57014';

function storeError(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return error;
  if (INPUT_ERRORS.has(code))
    return heimdallError('BAD_USER_INPUT', { message: 'a value is not of the form its field takes', cause: error });
  if (code === CANCELED)
    return heimdallError('UNAVAILABLE', {
      message: 'the store took too long to answer',
      retryAfterSeconds: 1,
      service: 'postgres',
      cause: error,
    });
  return error;
}

/**
 * PostgreSQL calls of the alerts store: each through the store's resilience policy; its abort signal (the policy's
 * timeout, or the caller going away) gives the connection back to the pool at once, closed, so that a slow
 * statement never holds a connection the next call needs; the server stops the statement itself at
 * statement_timeout, set on every connection of the pool.
 */
export class PostgresStore {
  constructor(
    readonly pool: pg.Pool,
    private readonly policy: ResiliencePolicy,
    limits: PostgresLimits = {},
  ) {
    const timeout = limits.statementTimeoutMs ?? 3000;
    pool.on('connect', (client) => {
      client.query(`SET statement_timeout = ${Math.floor(timeout)}`).catch(() => undefined);
    });
  }

  /** One statement; `idempotent` lets the policy retry it after a connection failure. */
  query<R extends pg.QueryResultRow>(
    text: string,
    values: readonly unknown[] = [],
    options: { idempotent?: boolean } = {},
  ): Promise<R[]> {
    return this.policy.execute(
      (signal) => this.withClient(signal, async (client) => (await client.query<R>(text, values as unknown[])).rows),
      options,
    );
  }

  /** Statements in one transaction, committed when `fn` resolves, rolled back when it throws. */
  transaction<T>(fn: (query: Query) => Promise<T>): Promise<T> {
    return this.policy.execute((signal) =>
      this.withClient(signal, async (client) => {
        await client.query('BEGIN');
        try {
          const result = await fn(
            async <R extends pg.QueryResultRow>(text: string, values: readonly unknown[] = []) =>
              (await client.query<R>(text, values as unknown[])).rows,
          );
          await client.query('COMMIT');
          return result;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }),
    );
  }

  async ping(signal: AbortSignal): Promise<void> {
    await this.withClient(signal, (client) => client.query('SELECT 1'));
  }

  private async withClient<T>(signal: AbortSignal, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    signal.throwIfAborted();
    const client = await this.pool.connect();
    let released = false;
    const release = (error?: Error) => {
      if (released) return;
      released = true;
      client.release(error);
    };
    // Releasing with an error closes the connection: its statement may still be running server-side.
    const onAbort = () => release(new Error('aborted'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    try {
      signal.throwIfAborted();
      return await fn(client);
    } catch (error) {
      throw storeError(error);
    } finally {
      signal.removeEventListener('abort', onAbort);
      release();
    }
  }
}
