import { composeServices } from '@apollo/composition';
import type { SupergraphManager } from '@apollo/gateway';
import { parse } from 'graphql';
import { strict as assert } from 'node:assert';
import type { Logger, ServiceInstance } from '@heimdall/shared';
import { CATALOG_NAME, catalogTypeDefs } from './catalog.js';
import type { SubgraphDirectory } from './directory.js';

/** The URL the supergraph records for a subgraph; the data source resolves it to a passing instance per call. */
export function logicalUrl(name: string): string {
  return `http://${name}.subgraph.heimdall/graphql`;
}

/** Where the gateway reads the time; tests pass their own. */
export interface Clock {
  now(): number;
}

/** Reads a subgraph's SDL from one of its instances; rejects when it cannot. Must honour `signal`. */
export type SdlReader = (instance: ServiceInstance, signal: AbortSignal) => Promise<string>;

/** `{ _service { sdl } }` over HTTP, as federation subgraphs answer it. */
export const readSdlOverHttp: SdlReader = async (instance, signal) => {
  const url = `http://${instance.address}:${instance.port}${instance.meta.graphql_path ?? '/graphql'}`;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ _service { sdl } }' }),
    signal,
  });
  const body = (await response.json()) as { data?: { _service?: { sdl?: string } } };
  const sdl = body.data?._service?.sdl;
  if (sdl === undefined) throw new Error(`no SDL in the answer of ${url} (HTTP ${response.status})`);
  return sdl;
};

export interface SupergraphManagerOptions {
  /** How long a subgraph without a passing instance stays composed (from its last schema). */
  readonly retentionMs: number;
  /** How long one SDL read may take; then the subgraph keeps the schema it last gave. Default 2000. */
  readonly sdlTimeoutMs?: number;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Default: `readSdlOverHttp`. */
  readonly readSdl?: SdlReader;
}

export interface CompositionEvent {
  readonly subgraphs: readonly string[];
  readonly ok: boolean;
  readonly errors?: readonly string[];
}

/**
 * Composes the supergraph in-process from the subgraphs Consul lists as passing, recomposes when that set
 * changes, and keeps serving the last good supergraph when a composition fails. A subgraph whose instances all
 * fail stays composed (from its last schema) for `retentionMs`, so queries naming its fields still validate and
 * get UNAVAILABLE errors for them alone; after that it is composed out.
 */
export class ConsulSupergraphManager implements SupergraphManager {
  private current: string | undefined;
  private composing: Promise<void> = Promise.resolve();
  private listeners: ((event: CompositionEvent) => void)[] = [];
  private readonly known = new Map<string, { sdl: string; lastPassing: number }>();
  private lastGood = new Map<string, string>();
  private expiry: NodeJS.Timeout | undefined;
  private update: ((supergraphSdl: string) => void) | undefined;
  private readonly retentionMs: number;
  private readonly sdlTimeoutMs: number;
  private readonly clock: Clock;
  private readonly readSdl: SdlReader;

  constructor(
    private readonly directory: SubgraphDirectory,
    private readonly logger: Logger,
    options: SupergraphManagerOptions,
  ) {
    this.retentionMs = options.retentionMs;
    this.sdlTimeoutMs = options.sdlTimeoutMs ?? 2000;
    this.clock = options.clock ?? { now: () => Date.now() };
    this.readSdl = options.readSdl ?? readSdlOverHttp;
  }

  /** For tests and benchmarks: called after each composition attempt. */
  onComposition(listener: (event: CompositionEvent) => void): void {
    this.listeners.push(listener);
  }

  async initialize({ update }: Parameters<SupergraphManager['initialize']>[0]) {
    await this.directory.start();
    const first = await this.compose();
    assert(first !== undefined, 'the catalog subgraph alone always composes');
    this.current = first;
    this.update = update;
    this.directory.onChange(() => this.recompose());
    return {
      supergraphSdl: first,
      cleanup: () => {
        clearTimeout(this.expiry);
        this.directory.stop();
        return Promise.resolve();
      },
    };
  }

  /** One composition at a time, in the order of the changes that asked for it. */
  private recompose(): void {
    this.composing = this.composing.then(async () => {
      const next = await this.compose();
      if (next !== undefined && next !== this.current) {
        this.current = next;
        this.update?.(next);
      }
    });
  }

  private async compose(): Promise<string | undefined> {
    const now = this.clock.now();
    const available = this.directory.available();
    await Promise.all(
      available.map(async (name) => {
        // A subgraph that is passing but did not hand over its schema keeps the one it last gave.
        const sdl = (await this.fetchSdl(name)) ?? this.known.get(name)?.sdl;
        if (sdl !== undefined) this.known.set(name, { sdl, lastPassing: now });
      }),
    );
    this.forgetExpired(now, available);
    const candidates = [...this.known].sort(([a], [b]) => a.localeCompare(b));
    const result = this.tryCompose(candidates);
    if (result.supergraphSdl !== undefined) {
      this.lastGood = new Map(candidates.map(([name, { sdl }]) => [name, sdl]));
      return result.supergraphSdl;
    }
    // The subgraphs new or changed since the last good composition are the suspects: they are left out until
    // their schema changes again, so that one bad subgraph cannot hold back every later change.
    const suspects = candidates.filter(([name, { sdl }]) => this.lastGood.get(name) !== sdl).map(([name]) => name);
    for (const name of suspects) this.known.delete(name);
    if (suspects.length === 0) return undefined;
    this.logger.warn({ event: 'composition_retry', excluded: suspects }, `composing again without ${suspects.join(', ')}`);
    return this.tryCompose(candidates.filter(([name]) => !suspects.includes(name))).supergraphSdl;
  }

  private tryCompose(candidates: readonly [string, { sdl: string }][]): { supergraphSdl?: string } {
    const subgraphs = [
      { name: CATALOG_NAME, typeDefs: catalogTypeDefs, url: logicalUrl(CATALOG_NAME) },
      ...candidates.map(([name, { sdl }]) => ({ name, typeDefs: parse(sdl), url: logicalUrl(name) })),
    ];
    const included = subgraphs.map((s) => s.name);
    const result = composeServices(subgraphs);
    if (result.errors !== undefined) {
      const errors = result.errors.map((e) => e.message);
      this.logger.error({ event: 'composition_failed', subgraphs: included, errors }, 'composition failed; serving the previous supergraph');
      this.emit({ subgraphs: included, ok: false, errors });
      return {};
    }
    this.logger.info({ event: 'composed', subgraphs: included }, `supergraph composed from ${included.join(', ')}`);
    this.emit({ subgraphs: included, ok: true });
    return { supergraphSdl: result.supergraphSdl };
  }

  /** Drops subgraphs down for longer than the retention, and wakes up when the next one is due. */
  private forgetExpired(now: number, available: readonly string[]): void {
    clearTimeout(this.expiry);
    let nextDue = Infinity;
    for (const [name, { lastPassing }] of this.known) {
      if (available.includes(name)) continue;
      const due = lastPassing + this.retentionMs;
      if (due <= now) this.known.delete(name);
      else nextDue = Math.min(nextDue, due);
    }
    if (nextDue !== Infinity) this.expiry = setTimeout(() => this.recompose(), nextDue - now).unref();
  }

  /** The subgraph's SDL from one passing instance; undefined (left out this round) when it does not answer. */
  private async fetchSdl(name: string): Promise<string | undefined> {
    const instance = this.directory.pick(name);
    if (instance === undefined) return undefined;
    // A global timer rather than AbortSignal.timeout, so that fake timers drive it.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new Error(`no schema within ${this.sdlTimeoutMs} ms`)), this.sdlTimeoutMs);
    try {
      return await this.readSdl(instance, deadline.signal);
    } catch (error) {
      this.logger.warn({ err: error, subgraph: name, instance: instance.id }, 'could not read the subgraph schema');
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private emit(event: CompositionEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
