import { type ClickHouseClient, type ClickHouseSettings, createClient } from '@clickhouse/client';
import { heimdallError } from '@heimdall/shared/errors';
import type { ResiliencePolicy } from '@heimdall/shared/resilience';
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
 * What the engine itself enforces on every read, so that a query the planner misjudged is stopped by ClickHouse
 * (and answered LIMIT_EXCEEDED) instead of running on after the caller gave up.
 */
export interface ReadLimits {
  /**
   * Seconds a read may run (fractions allowed); 0 for no limit. Default 2.5: under the gateway's 3 s for a
   * subgraph call (SPEC §7) and under the read policy's timeout, so the engine ends a long read first
   * (LIMIT_EXCEEDED, the caller's) instead of the client (UNAVAILABLE, which the breaker counts).
   */
  readonly maxExecutionSeconds?: number;
  /** Rows a read may scan. Default 200,000,000. */
  readonly maxRowsToRead?: number;
  /** Uncompressed bytes a read may scan. Default 20 GiB. */
  readonly maxBytesToRead?: number;
}

function readSettings(limits: ReadLimits, defaults?: ClickHouseSettings): ClickHouseSettings {
  return {
    max_execution_time: limits.maxExecutionSeconds ?? defaults?.max_execution_time ?? 2.5,
    max_rows_to_read: String(limits.maxRowsToRead ?? defaults?.max_rows_to_read ?? 200_000_000),
    max_bytes_to_read: String(limits.maxBytesToRead ?? defaults?.max_bytes_to_read ?? 20 * 2 ** 30),
    // The limits stop the query with an error, never with a silently partial answer.
    read_overflow_mode: 'throw',
  };
}

/** ClickHouse error types that mean "this query asked for too much", by the limit each one names. */
const LIMIT_ERRORS: Readonly<Record<string, string>> = {
  TOO_MANY_ROWS: 'rows read',
  TOO_MANY_BYTES: 'bytes read',
  TOO_MANY_ROWS_OR_BYTES: 'rows or bytes read',
  TIMEOUT_EXCEEDED: 'execution time',
  TOO_SLOW: 'execution time',
  QUERY_IS_TOO_LARGE: 'query size',
  TOO_BIG_AST: 'query size',
  TOO_DEEP_AST: 'query size',
};

/** A failure ClickHouse reported about the query (not the connection), as the catalog error clients should see. */
function queryError(error: unknown): unknown {
  const type = (error as { type?: unknown }).type;
  if (typeof type !== 'string') return error;
  const limit = LIMIT_ERRORS[type];
  if (limit !== undefined) {
    return heimdallError('LIMIT_EXCEEDED', {
      message: `the query went over the store's limit on ${limit}; narrow the range or the matchers`,
      details: { limit: type },
      cause: error,
    });
  }
  if (type === 'CANNOT_COMPILE_REGEXP')
    return heimdallError('BAD_USER_INPUT', { message: 'a regular expression does not compile', cause: error });
  return error;
}

/**
 * What writes and statements run with. The embedded engine applies a call's settings as `SET`s on its one session,
 * so they stay for the calls after it: every call states its own, and a write must not inherit a read's limits.
 * Deduplicated blocks of the samples table are also dropped from the rollup its view feeds.
 */
const WRITE_SETTINGS: ClickHouseSettings = {
  max_execution_time: 0,
  max_rows_to_read: '0',
  max_bytes_to_read: '0',
  deduplicate_blocks_in_dependent_materialized_views: 1,
};

/**
 * The ClickHouse side of the metrics store: every call runs through the store's resilience policy with its abort
 * signal, every read carries the engine-side limits, and values travel as bound parameters, never spliced into SQL.
 */
export class ClickHouseStore {
  private readonly readSettings: ClickHouseSettings;

  constructor(
    readonly client: ClickHouseClient,
    private readonly policy: ResiliencePolicy,
    limits: ReadLimits = {},
  ) {
    this.readSettings = readSettings(limits);
  }

  /** A SELECT's rows as objects (retried: reads are idempotent); `limits` tighten the store's own for this read. */
  async rows<T>(query: string, params: Record<string, unknown>, limits?: ReadLimits): Promise<T[]> {
    return this.read(query, params, async (result) => (await result.json<T>()) as T[], 'JSONEachRow', limits);
  }

  /** A SELECT's rows as arrays (no key repeated per row), with the rows ClickHouse read to answer it. */
  async compact<T>(query: string, params: Record<string, unknown>): Promise<{ rows: T[]; rowsRead: number }> {
    const body = await this.read(
      query,
      params,
      async (result) => result.json<T>() as Promise<{ data: T[]; statistics?: { rows_read: number } }>,
      'JSONCompact',
    );
    return { rows: body.data, rowsRead: body.statistics?.rows_read ?? 0 };
  }

  /**
   * Inserts rows as one block. Not retried here: a table with a deduplication window drops a block whose content it
   * has seen in its last inserts, which is what makes an agent's retry safe.
   */
  async insert<T>(table: string, values: readonly T[]): Promise<void> {
    await this.policy.execute(async (signal) => {
      try {
        return await this.client.insert({
          table,
          values: values as T[],
          format: 'JSONEachRow',
          abort_signal: signal,
          clickhouse_settings: WRITE_SETTINGS,
        });
      } catch (error) {
        throw queryError(error);
      }
    });
  }

  /** Whether the engine answers. */
  async ping(signal: AbortSignal): Promise<void> {
    await (
      await this.client.query({ query: 'SELECT 1', abort_signal: signal, clickhouse_settings: this.readSettings })
    ).text();
  }

  /** A statement with no result (DDL), through the policy. */
  async command(query: string): Promise<void> {
    await this.policy.execute(async (signal) => {
      try {
        await this.client.command({ query, abort_signal: signal, clickhouse_settings: WRITE_SETTINGS });
      } catch (error) {
        throw queryError(error);
      }
    });
  }

  private read<R>(
    query: string,
    params: Record<string, unknown>,
    parse: (result: Awaited<ReturnType<ClickHouseClient['query']>>) => Promise<R>,
    format: 'JSONEachRow' | 'JSONCompact' = 'JSONEachRow',
    limits?: ReadLimits,
  ): Promise<R> {
    const settings =
      limits === undefined ? this.readSettings : { ...this.readSettings, ...readSettings(limits, this.readSettings) };
    return this.policy.execute(
      async (signal) => {
        try {
          return await parse(
            await this.client.query({
              query,
              query_params: params,
              format,
              abort_signal: signal,
              clickhouse_settings: settings,
            }),
          );
        } catch (error) {
          throw queryError(error);
        }
      },
      { idempotent: true },
    );
  }
}
