import { composeServices } from '@apollo/composition';
import type { SupergraphManager } from '@apollo/gateway';
import { parse } from 'graphql';
import { strict as assert } from 'node:assert';
import type { ServiceInstance } from '@heimdall/shared/discovery';
import type { Logger } from '@heimdall/shared/telemetry';
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

/**
 * `{ _service { sdl } }` over HTTP, as federation subgraphs answer it, with `headers()` on each read (the gateway's
 * own internal token: subgraphs answer nothing without one).
 */
export function httpSdlReader(headers: () => Promise<Record<string, string>>): SdlReader {
  return async (instance, signal) => {
    const url = `http://${instance.address}:${instance.port}${instance.meta.graphql_path ?? '/graphql'}`;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await headers()) },
      body: JSON.stringify({ query: '{ _service { sdl } }' }),
      signal,
    });
    const body = (await response.json()) as { data?: { _service?: { sdl?: string } } };
    const sdl = body.data?._service?.sdl;
    if (sdl === undefined) throw new Error(`no SDL in the answer of ${url} (HTTP ${response.status})`);
    return sdl;
  };
}

export interface SupergraphManagerOptions {
  /** How long a subgraph without a passing instance stays composed (from its last schema). */
  readonly retentionMs: number;
  /** How long one SDL read may take; then the subgraph keeps the schema it last gave. Default 2000. */
  readonly sdlTimeoutMs?: number;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** How each subgraph's schema is read: `httpSdlReader(...)` in the gateway. */
  readonly readSdl: SdlReader;
}

export interface CompositionEvent {
  readonly subgraphs: readonly string[];
  readonly ok: boolean;
  readonly errors?: readonly string[];
}

interface KnownSubgraph {
  /** The schema its instances serve (or served last, while none passes). */
  readonly sdl: string;
  /** When it lost its last passing instance; undefined while it has one. */
  downSince: number | undefined;
}

/** Which schema of each subgraph a composition attempt uses, by subgraph name. */
type Plan = ReadonlyMap<string, string>;

/**
 * Composes the supergraph in-process from the subgraphs Consul lists as passing, recomposes when that set
 * changes, and keeps serving the last good supergraph when a composition fails.
 * - A subgraph whose instances all fail stays composed (from its last schema) for `retentionMs`, so queries
 *   naming its fields still validate and get UNAVAILABLE errors for them alone; after that it is composed out.
 * - A subgraph whose new schema does not compose keeps its last good schema; one that never composed is left
 *   out. The rejected schema is not tried again until the subgraph serves another one, so one bad deploy
 *   neither drops a subgraph nor fails every later composition.
 */
export class ConsulSupergraphManager implements SupergraphManager {
  private current: string | undefined;
  private composing: Promise<void> = Promise.resolve();
  private listeners: ((event: CompositionEvent) => void)[] = [];
  private readonly known = new Map<string, KnownSubgraph>();
  /** Each subgraph's schema in the last composition that included it. */
  private readonly lastGood = new Map<string, string>();
  /** Per subgraph, a schema that failed to compose. */
  private readonly rejected = new Map<string, string>();
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
    this.readSdl = options.readSdl;
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
    this.composing = this.composing
      .then(async () => {
        const next = await this.compose();
        if (next !== undefined && next !== this.current) {
          this.current = next;
          this.update?.(next);
        }
      })
      // A failure here must not end the chain: every later change would then go unheard.
      .catch((error: unknown) =>
        this.logger.error({ err: error }, 'recomposition failed; serving the previous supergraph'),
      );
  }

  private async compose(): Promise<string | undefined> {
    const now = this.clock.now();
    const available = new Set(this.directory.available());
    await Promise.all(
      [...available].map(async (name) => {
        // A subgraph that is passing but did not hand over its schema keeps the one it last gave.
        const sdl = (await this.fetchSdl(name)) ?? this.known.get(name)?.sdl;
        if (sdl !== undefined) this.known.set(name, { sdl, downSince: undefined });
      }),
    );
    for (const [name, subgraph] of this.known) if (!available.has(name)) subgraph.downSince ??= now;
    this.forgetExpired(now);

    const plan = new Map<string, string>();
    for (const [name, { sdl }] of this.known) {
      const schema = this.rejected.get(name) === sdl ? this.lastGood.get(name) : sdl;
      if (schema !== undefined) plan.set(name, schema);
    }
    const composed = this.tryCompose(plan);
    if (composed !== undefined) return this.accept(plan, composed);

    // The subgraphs with a schema that never composed are the suspects: back to their last good schema, or out.
    const suspects = [...plan].filter(([name, sdl]) => this.lastGood.get(name) !== sdl).map(([name]) => name);
    if (suspects.length === 0) return undefined;
    let accepted = new Map(plan);
    for (const name of suspects) {
      const good = this.lastGood.get(name);
      if (good === undefined) accepted.delete(name);
      else accepted.set(name, good);
    }
    const reverted = suspects.filter((name) => accepted.has(name));
    const excluded = suspects.filter((name) => !accepted.has(name));
    this.logger.warn(
      { event: 'composition_retry', reverted, excluded },
      `composing again with ${[...reverted.map((n) => `${n} at its last good schema`), ...excluded.map((n) => `${n} left out`)].join(', ')}`,
    );
    let supergraphSdl = this.tryCompose(accepted);
    if (supergraphSdl === undefined) return undefined;
    // Several new schemas at once: each is tried on its own, so a bad one does not hold back good ones.
    if (suspects.length > 1) {
      for (const name of suspects) {
        const attempt = new Map(accepted).set(name, plan.get(name)!);
        const result = this.tryCompose(attempt);
        if (result === undefined) continue;
        accepted = attempt;
        supergraphSdl = result;
      }
    }
    for (const name of suspects) {
      if (accepted.get(name) === plan.get(name)) continue;
      this.rejected.set(name, plan.get(name)!);
      this.logger.warn(
        { event: 'schema_rejected', subgraph: name },
        `the new schema of ${name} does not compose; not trying it again until it changes`,
      );
    }
    return this.accept(accepted, supergraphSdl);
  }

  private accept(plan: Plan, supergraphSdl: string): string {
    for (const [name, sdl] of plan) {
      this.lastGood.set(name, sdl);
      if (this.known.get(name)?.sdl === sdl) this.rejected.delete(name);
    }
    return supergraphSdl;
  }

  /** The supergraph of the catalog and `plan`, or undefined (reported, logged) when it does not compose. */
  private tryCompose(plan: Plan): string | undefined {
    const names = [...plan.keys()].sort();
    const included = [CATALOG_NAME, ...names];
    const result = this.composeOrErrors(names.map((name) => ({ name, sdl: plan.get(name)! })));
    if (!result.ok) {
      this.logger.error(
        { event: 'composition_failed', subgraphs: included, errors: result.errors },
        'composition failed',
      );
      this.emit({ subgraphs: included, ok: false, errors: result.errors });
      return undefined;
    }
    this.logger.info({ event: 'composed', subgraphs: included }, `supergraph composed from ${included.join(', ')}`);
    this.emit({ subgraphs: included, ok: true });
    return result.supergraphSdl;
  }

  private composeOrErrors(
    subgraphs: readonly { name: string; sdl: string }[],
  ): { ok: true; supergraphSdl: string } | { ok: false; errors: string[] } {
    const services = [{ name: CATALOG_NAME, typeDefs: catalogTypeDefs, url: logicalUrl(CATALOG_NAME) }];
    for (const { name, sdl } of subgraphs) {
      try {
        services.push({ name, typeDefs: parse(sdl), url: logicalUrl(name) });
      } catch (error) {
        return {
          ok: false,
          errors: [`the schema of ${name} does not parse: ${error instanceof Error ? error.message : String(error)}`],
        };
      }
    }
    const result = composeServices(services);
    if (result.errors !== undefined) return { ok: false, errors: result.errors.map((e) => e.message) };
    return { ok: true, supergraphSdl: result.supergraphSdl };
  }

  /** Drops subgraphs down for longer than the retention, and wakes up when the next one is due. */
  private forgetExpired(now: number): void {
    clearTimeout(this.expiry);
    let nextDue = Infinity;
    for (const [name, { downSince }] of this.known) {
      if (downSince === undefined) continue;
      const due = downSince + this.retentionMs;
      if (due > now) {
        nextDue = Math.min(nextDue, due);
        continue;
      }
      this.known.delete(name);
      this.lastGood.delete(name);
      this.rejected.delete(name);
    }
    if (nextDue !== Infinity) this.expiry = setTimeout(() => this.recompose(), nextDue - now).unref();
  }

  /** The subgraph's SDL from one passing instance; undefined (left out this round) when it does not answer. */
  private async fetchSdl(name: string): Promise<string | undefined> {
    const instance = this.directory.pick(name);
    if (instance === undefined) return undefined;
    // A global timer rather than AbortSignal.timeout, so that fake timers drive it.
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new Error(`no schema within ${this.sdlTimeoutMs} ms`)),
      this.sdlTimeoutMs,
    );
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
