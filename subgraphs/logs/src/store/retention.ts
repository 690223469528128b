/**
 * Index settings from the configuration and retention (SPEC §5). Where the cluster has ILM, the policy `logs-policy`
 * rolls the write alias over and deletes old indices; where it has not (the local distribution, SPEC §12), Heimdall
 * does both on a schedule, as Jaeger's es-rollover and es-index-cleaner do.
 */
import type { Client } from '@elastic/elasticsearch';
import type { ResiliencePolicy } from '@heimdall/shared/resilience';
import { callElasticsearch, requestOptions, responseStatus } from './elasticsearch.js';

export const WRITE_ALIAS = 'logs';
export const ILM_POLICY = 'logs-policy';
/** Referenced by the index template (`composed_of`); holds what the configuration decides. */
export const SETTINGS_TEMPLATE = 'heimdall-logs-settings';

export type RetentionMode = 'ilm' | 'self-managed';

export interface RetentionOptions {
  readonly shards: number;
  readonly replicas: number;
  /** Days after the newest entry of an index until it is deleted. */
  readonly retentionDays: number;
  /** Rollover conditions, as Elasticsearch writes them (`1d`, `50gb`). */
  readonly maxAge: string;
  readonly maxPrimaryShardSize: string;
  /** Also roll over at this many documents; no such condition when undefined. */
  readonly maxDocs?: number;
  /** The alias writes go through. Default `logs`. */
  readonly alias?: string;
}

export interface RetentionRun {
  /** The new write index when the alias rolled over. */
  readonly rolledOverTo?: string;
  /** Indices deleted for being past the retention. */
  readonly deleted: string[];
}

const DAY_MS = 86_400_000;

/** Rollover and retention of the indices behind the write alias. */
export class LogRetention {
  private readonly alias: string;

  constructor(
    private readonly es: Client,
    private readonly policy: ResiliencePolicy,
    private readonly options: RetentionOptions,
  ) {
    this.alias = options.alias ?? WRITE_ALIAS;
  }

  /** ILM where the cluster has it (`GET /_ilm/status` answers), self-managed where that endpoint does not exist. */
  async detectMode(): Promise<RetentionMode> {
    try {
      await this.call((signal) => this.es.ilm.getStatus({}, requestOptions(signal)));
      return 'ilm';
    } catch (error) {
      // Without the ILM module the endpoint is unknown: 400 "no handler found" (404 on some versions).
      const status = responseStatus(error);
      if (status === 400 || status === 404) return 'self-managed';
      throw error;
    }
  }

  /**
   * The component template of new indices' settings (shards, replicas, and in ILM mode the policy), and in ILM
   * mode the policy itself and its settings on the indices that already exist. Idempotent: runs at every start,
   * so a changed configuration applies to the next index.
   */
  async install(mode: RetentionMode): Promise<void> {
    const lifecycle =
      mode === 'ilm' ? { 'index.lifecycle.name': ILM_POLICY, 'index.lifecycle.rollover_alias': this.alias } : {};
    if (mode === 'ilm') {
      await this.call((signal) =>
        this.es.ilm.putLifecycle(
          {
            name: ILM_POLICY,
            policy: {
              phases: {
                hot: { actions: { rollover: this.rolloverConditions() } },
                delete: { min_age: `${this.options.retentionDays}d`, actions: { delete: {} } },
              },
            },
          },
          requestOptions(signal),
        ),
      );
    }
    await this.call((signal) =>
      this.es.cluster.putComponentTemplate(
        {
          name: SETTINGS_TEMPLATE,
          template: {
            settings: {
              number_of_shards: this.options.shards,
              number_of_replicas: this.options.replicas,
              ...lifecycle,
            },
          },
          _meta: {
            description:
              'Settings of Heimdall logs indices from the logs service configuration; written at every start',
          },
        },
        requestOptions(signal),
      ),
    );
    if (mode === 'ilm' && (await this.aliasExists())) {
      await this.call((signal) =>
        this.es.indices.putSettings({ index: this.alias, settings: lifecycle }, requestOptions(signal)),
      );
    }
  }

  /**
   * One round of the self-managed mode at time `now` (ms): rolls the alias over when a condition is met, then
   * deletes every index behind it, the write index aside, whose newest entry is older than the retention (an index
   * without entries: its creation). An index holds entries written up to 7 days late, so its age is its newest
   * entry's, not its creation's.
   */
  async run(now: number): Promise<RetentionRun> {
    const rollover = await this.call((signal) =>
      this.es.indices.rollover({ alias: this.alias, conditions: this.rolloverConditions() }, requestOptions(signal)),
    );
    const aliases = await this.call((signal) => this.es.indices.getAlias({ name: this.alias }, requestOptions(signal)));
    const cutoff = now - this.options.retentionDays * DAY_MS;
    const deleted: string[] = [];
    for (const [index, { aliases: own }] of Object.entries(aliases)) {
      if (own[this.alias]?.is_write_index === true) continue;
      if ((await this.newestEntryOrCreation(index, now)) >= cutoff) continue;
      // Several instances run this: one of them deletes, the others find it gone.
      await this.call((signal) => this.es.indices.delete({ index }, { ...requestOptions(signal), ignore: [404] }));
      deleted.push(index);
    }
    return { ...(rollover.rolled_over ? { rolledOverTo: rollover.new_index } : {}), deleted };
  }

  private async newestEntryOrCreation(index: string, now: number): Promise<number> {
    const found = await this.call((signal) =>
      this.es.search({ index, size: 0, aggs: { newest: { max: { field: 'timestamp' } } } }, requestOptions(signal)),
    );
    const newest = (found.aggregations?.newest as { value: number | null } | undefined)?.value;
    if (typeof newest === 'number') return newest;
    const settings = await this.call((signal) =>
      this.es.indices.getSettings({ index, name: 'index.creation_date' }, requestOptions(signal)),
    );
    return Number(settings[index]?.settings?.index?.creation_date ?? now);
  }

  private async aliasExists(): Promise<boolean> {
    return this.call((signal) => this.es.indices.existsAlias({ name: this.alias }, requestOptions(signal)));
  }

  private rolloverConditions() {
    return {
      max_age: this.options.maxAge,
      max_primary_shard_size: this.options.maxPrimaryShardSize,
      ...(this.options.maxDocs === undefined ? {} : { max_docs: this.options.maxDocs }),
    };
  }

  private call<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return callElasticsearch(this.policy, fn, { idempotent: true });
  }
}

/**
 * Runs the self-managed round every `intervalMs`, the first at once, one round at a time, until the returned
 * function is called (it waits for a round under way). A failed round is reported and tried again next time.
 */
export function scheduleRetention(
  retention: LogRetention,
  intervalMs: number,
  report: { done(run: RetentionRun): void; failed(error: unknown): void },
): () => Promise<void> {
  let round: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const next = () => {
    round = retention
      .run(Date.now())
      .then(
        (run) => report.done(run),
        (error: unknown) => report.failed(error),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(next, intervalMs).unref();
      });
  };
  next();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await round;
  };
}
