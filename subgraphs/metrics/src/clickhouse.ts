import { type ClickHouseClient, createClient } from '@clickhouse/client';
import type { ResiliencePolicy } from '@heimdall/shared';
import { createChdbConnection } from 'chdb/connection';

/** Where ClickHouse lives: a server over HTTP when `url` is set, else the engine embedded here (chdb). */
export interface ClickHouseTarget {
  readonly url?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly database?: string | undefined;
  /** Data folder of the embedded engine; one process per folder (chdb locks it). */
  readonly dataDir: string;
}

/** One `@clickhouse/client` for both targets, so the SQL and the code above the connection are the same. */
export function createClickHouseClient(target: ClickHouseTarget): ClickHouseClient {
  if (target.url !== undefined) {
    return createClient({
      url: target.url,
      ...(target.username === undefined ? {} : { username: target.username }),
      ...(target.password === undefined ? {} : { password: target.password }),
      ...(target.database === undefined ? {} : { database: target.database }),
    });
  }
  // chdb types its connection against @clickhouse/client-common, which the client now bundles as a copy of its
  // own: the same interface twice, so TypeScript sees two types. At run time they are one (SPEC §12).
  const connection = createChdbConnection({ path: target.dataDir }) as unknown as NonNullable<
    Parameters<typeof createClient>[0]
  >['connection'];
  return createClient({ connection });
}

/**
 * A SELECT through the store's resilience policy (retried: reads are idempotent), its rows as objects.
 * Values go in `params` and are bound by ClickHouse, never spliced into `query`.
 */
export async function selectRows<T>(
  clickhouse: ClickHouseClient,
  policy: ResiliencePolicy,
  query: string,
  params: Record<string, unknown>,
): Promise<T[]> {
  return policy.execute(
    async (signal) => (await clickhouse.query({ query, query_params: params, format: 'JSONEachRow', abort_signal: signal })).json<T>(),
    { idempotent: true },
  );
}

/**
 * A SELECT like {@link selectRows}, its rows as arrays (compact: no key repeated per row) with the rows ClickHouse
 * read to answer it, which `metricQuery` reports.
 */
export async function selectCompact<T>(
  clickhouse: ClickHouseClient,
  policy: ResiliencePolicy,
  query: string,
  params: Record<string, unknown>,
): Promise<{ rows: T[]; rowsRead: number }> {
  const result = await policy.execute(
    async (signal) =>
      (await clickhouse.query({ query, query_params: params, format: 'JSONCompact', abort_signal: signal })).json<T>() as Promise<{
        data: T[];
        statistics?: { rows_read: number };
      }>,
    { idempotent: true },
  );
  return { rows: result.data, rowsRead: result.statistics?.rows_read ?? 0 };
}
