import { Kind, type ObjectTypeDefinitionNode, parse } from 'graphql';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SubgraphDirectory } from './directory.js';
import { FakeConsul, makeInstance } from './fake-consul.fixtures.js';
import { makeLogger } from './logger.fixtures.js';
import { type CompositionEvent, ConsulSupergraphManager, type SdlReader } from './supergraph-manager.js';

const TAG = 'graphql-subgraph';
const RETENTION_MS = 300_000;

/** A subgraph schema adding `fields` to the shared Service entity; `keyType` other than String! cannot compose. */
function makeSdl(fields: string, keyType = 'String!'): string {
  return `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
    type Service @key(fields: "name") { name: ${keyType} ${fields} }
  `;
}

const BAD = (fields: string) => makeSdl(fields, 'Int!');

/** The fields the supergraph offers on Service. */
function serviceFields(supergraphSdl: string): string[] {
  const service = parse(supergraphSdl).definitions.find(
    (d): d is ObjectTypeDefinitionNode => d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value === 'Service',
  );
  return (service?.fields ?? []).map((f) => f.name.value).sort();
}

/** Subgraphs as Consul and their schema endpoints show them: each deploy is a new instance replacing the last. */
class Deployments {
  readonly consul = new FakeConsul();
  private readonly schemas = new Map<string, string>();
  private readonly current = new Map<string, string>();
  private deploys = 0;

  readonly readSdl = vi.fn<SdlReader>((instance) => {
    const sdl = this.schemas.get(instance.id);
    return sdl === undefined ? Promise.reject(new Error(`${instance.id} is gone`)) : Promise.resolve(sdl);
  });

  deploy(name: string, sdl: string): void {
    const id = `${name}-${++this.deploys}`;
    this.schemas.set(id, sdl);
    const previous = this.current.get(name);
    this.consul.add(makeInstance({ name, id }));
    this.current.set(name, id);
    if (previous !== undefined) void this.consul.deregister(previous);
  }

  /** Its instance stops passing its check (crash, outage). */
  fail(name: string): void {
    this.consul.setPassing(this.instanceOf(name), false);
  }

  recover(name: string): void {
    this.consul.setPassing(this.instanceOf(name), true);
  }

  private instanceOf(name: string): string {
    const id = this.current.get(name);
    if (id === undefined) throw new Error(`${name} was never deployed`);
    return id;
  }
}

async function makeManager(deployments: Deployments, retentionMs = RETENTION_MS) {
  const log = makeLogger();
  const directory = new SubgraphDirectory(deployments.consul, TAG, log.logger);
  const manager = new ConsulSupergraphManager(directory, log.logger, { retentionMs, readSdl: deployments.readSdl });
  const events: CompositionEvent[] = [];
  manager.onComposition((event) => events.push(event));
  const updates: string[] = [];
  const { supergraphSdl, cleanup } = await manager.initialize({
    update: (sdl) => updates.push(sdl),
    healthCheck: () => Promise.resolve(),
    getDataSource: () => {
      throw new Error('the manager does not call subgraphs');
    },
  });
  return { events, updates, cleanup, current: () => updates.at(-1) ?? supergraphSdl, ...log };
}

/** Long enough for the directory's coalesced notification and the composition it starts. */
const propagate = () => vi.advanceTimersByTimeAsync(100);

describe('ConsulSupergraphManager', () => {
  let deployments: Deployments;
  let cleanup: (() => Promise<void>) | undefined;

  beforeEach(() => {
    vi.useFakeTimers();
    deployments = new Deployments();
  });
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
    vi.useRealTimers();
  });

  describe('composition', () => {
    it('composes the catalog with every passing subgraph at start', async () => {
      deployments.deploy('metrics', makeSdl('series: [String!]!'));
      deployments.deploy('logs', makeSdl('logs: [String!]!'));
      const gateway = await makeManager(deployments);
      cleanup = gateway.cleanup;

      expect(serviceFields(gateway.current())).toEqual(['logs', 'name', 'series']);
      expect(gateway.events).toEqual([{ subgraphs: ['catalog', 'logs', 'metrics'], ok: true }]);
    });

    it('starts with the catalog alone when no subgraph is up', async () => {
      const gateway = await makeManager(deployments);
      cleanup = gateway.cleanup;

      expect(serviceFields(gateway.current())).toEqual(['name']);
    });

    it('recomposes when a subgraph registers or is redeployed with a new schema', async () => {
      deployments.deploy('metrics', makeSdl('series: [String!]!'));
      const gateway = await makeManager(deployments);
      cleanup = gateway.cleanup;

      deployments.deploy('logs', makeSdl('logs: [String!]!'));
      await propagate();
      expect(serviceFields(gateway.current())).toEqual(['logs', 'name', 'series']);

      deployments.deploy('metrics', makeSdl('series: [String!]! seriesCount: Int!'));
      await propagate();
      expect(serviceFields(gateway.current())).toEqual(['logs', 'name', 'series', 'seriesCount']);
      expect(gateway.updates).toHaveLength(2);
    });
  });

  describe('retention', () => {
    it('keeps a subgraph that lost its last instance for the retention, then composes it out', async () => {
      deployments.deploy('metrics', makeSdl('series: [String!]!'));
      deployments.deploy('logs', makeSdl('logs: [String!]!'));
      const gateway = await makeManager(deployments);
      cleanup = gateway.cleanup;
      // A quiet hour first: the retention counts from the outage, not from the last composition.
      await vi.advanceTimersByTimeAsync(3_600_000);

      deployments.fail('metrics');
      await propagate();
      expect(serviceFields(gateway.current())).toEqual(['logs', 'name', 'series']);

      await vi.advanceTimersByTimeAsync(RETENTION_MS - 200);
      expect(serviceFields(gateway.current())).toEqual(['logs', 'name', 'series']);

      await vi.advanceTimersByTimeAsync(200);
      expect(serviceFields(gateway.current())).toEqual(['logs', 'name']);
    });

    it('keeps a subgraph that comes back within the retention', async () => {
      deployments.deploy('metrics', makeSdl('series: [String!]!'));
      const gateway = await makeManager(deployments);
      cleanup = gateway.cleanup;

      deployments.fail('metrics');
      await propagate();
      await vi.advanceTimersByTimeAsync(RETENTION_MS / 2);
      deployments.recover('metrics');
      await propagate();
      await vi.advanceTimersByTimeAsync(RETENTION_MS);

      expect(serviceFields(gateway.current())).toEqual(['name', 'series']);
    });
  });

  describe('a schema that does not compose', () => {
    it('keeps a redeployed subgraph at its last good schema and reports the failure', async () => {
      deployments.deploy('metrics', makeSdl('series: [String!]!'));
      deployments.deploy('logs', makeSdl('logs: [String!]!'));
      const gateway = await makeManager(deployments);
      cleanup = gateway.cleanup;

      deployments.deploy('metrics', BAD('series: [String!]! broken: Int'));
      await propagate();

      expect(gateway.events.slice(1).map((e) => e.ok)).toEqual([false, true]);
      expect(gateway.events[1]?.errors?.length).toBeGreaterThan(0);
      expect(serviceFields(gateway.current())).toEqual(['logs', 'name', 'series']);
      expect(gateway.warn).toHaveBeenCalledWith(
        expect.objectContaining({ event: 'composition_retry', reverted: ['metrics'], excluded: [] }),
        expect.any(String),
      );
    });

    it('takes the good changes that came with a bad one', async () => {
      deployments.deploy('metrics', makeSdl('series: [String!]!'));
      deployments.deploy('logs', makeSdl('logs: [String!]!'));
      const gateway = await makeManager(deployments);
      cleanup = gateway.cleanup;

      deployments.deploy('metrics', BAD('series: [String!]!'));
      deployments.deploy('logs', makeSdl('logs: [String!]! logVolume: Int!'));
      deployments.deploy('traces', makeSdl('operations: [String!]!'));
      await propagate();

      expect(serviceFields(gateway.current())).toEqual(['logVolume', 'logs', 'name', 'operations', 'series']);
    });

    it('leaves out a subgraph that never composed, and does not try its schema again on unrelated changes', async () => {
      deployments.deploy('metrics', makeSdl('series: [String!]!'));
      const gateway = await makeManager(deployments);
      cleanup = gateway.cleanup;

      deployments.deploy('rogue', BAD('rogue: Boolean'));
      await propagate();
      expect(gateway.events.slice(1).map((e) => e.ok)).toEqual([false, true]);
      expect(gateway.warn).toHaveBeenCalledWith(
        expect.objectContaining({ event: 'composition_retry', reverted: [], excluded: ['rogue'] }),
        expect.any(String),
      );

      const before = gateway.events.length;
      deployments.deploy('logs', makeSdl('logs: [String!]!'));
      await propagate();
      deployments.deploy('metrics', makeSdl('series: [String!]! seriesCount: Int!'));
      await propagate();

      expect(gateway.events.slice(before)).toEqual([
        { subgraphs: ['catalog', 'logs', 'metrics'], ok: true },
        { subgraphs: ['catalog', 'logs', 'metrics'], ok: true },
      ]);
      expect(serviceFields(gateway.current())).toEqual(['logs', 'name', 'series', 'seriesCount']);
    });

    it('tries a rejected subgraph again once its schema changes', async () => {
      deployments.deploy('metrics', makeSdl('series: [String!]!'));
      const gateway = await makeManager(deployments);
      cleanup = gateway.cleanup;
      deployments.deploy('rogue', BAD('rogue: Boolean'));
      await propagate();

      deployments.deploy('rogue', makeSdl('rogue: Boolean'));
      await propagate();

      expect(gateway.events.at(-1)).toEqual({ subgraphs: ['catalog', 'metrics', 'rogue'], ok: true });
      expect(serviceFields(gateway.current())).toEqual(['name', 'rogue', 'series']);
    });

    it('does not try a rejected redeploy again while it stays, and takes the next good one', async () => {
      deployments.deploy('metrics', makeSdl('series: [String!]!'));
      deployments.deploy('logs', makeSdl('logs: [String!]!'));
      const gateway = await makeManager(deployments);
      cleanup = gateway.cleanup;
      deployments.deploy('metrics', BAD('series: [String!]!'));
      await propagate();

      const before = gateway.events.length;
      deployments.deploy('logs', makeSdl('logs: [String!]! logVolume: Int!'));
      await propagate();
      expect(gateway.events.slice(before).map((e) => e.ok)).toEqual([true]);

      deployments.deploy('metrics', makeSdl('series: [String!]! seriesCount: Int!'));
      await propagate();
      expect(serviceFields(gateway.current())).toEqual(['logVolume', 'logs', 'name', 'series', 'seriesCount']);
    });
  });

  describe('a schema that cannot be read', () => {
    it('treats a schema that does not parse like one that does not compose, and keeps composing later changes', async () => {
      deployments.deploy('metrics', makeSdl('series: [String!]!'));
      const gateway = await makeManager(deployments);
      cleanup = gateway.cleanup;

      deployments.deploy('metrics', 'type Service @key(fields: "name") {');
      await propagate();
      expect(gateway.events.at(-2)).toMatchObject({
        ok: false,
        errors: [expect.stringContaining('metrics does not parse') as unknown],
      });

      deployments.deploy('logs', makeSdl('logs: [String!]!'));
      await propagate();
      expect(serviceFields(gateway.current())).toEqual(['logs', 'name', 'series']);
    });

    it('keeps the schema a passing subgraph last gave when it does not answer for it', async () => {
      deployments.deploy('metrics', makeSdl('series: [String!]!'));
      const gateway = await makeManager(deployments);
      cleanup = gateway.cleanup;
      deployments.readSdl.mockRejectedValue(new Error('connect ECONNREFUSED'));

      deployments.deploy('logs', makeSdl('logs: [String!]!'));
      await propagate();

      expect(serviceFields(gateway.current())).toEqual(['name', 'series']);
      expect(gateway.warn).toHaveBeenCalledWith(
        expect.objectContaining({ subgraph: 'logs' }),
        'could not read the subgraph schema',
      );
    });
  });

  describe('churn', () => {
    it('composes many quick changes one at a time, in order, and ends at the supergraph of the last state', async () => {
      const gateway = await makeManager(deployments, 0);
      cleanup = gateway.cleanup;
      // Slow schema reads, so that changes keep arriving while compositions run.
      deployments.readSdl.mockImplementation(
        (instance) => new Promise((resolve) => setTimeout(() => resolve(makeSdl(`${instance.name}: Int`)), 30)),
      );

      for (let i = 0; i < 12; i++) {
        deployments.deploy(`s${i}`, makeSdl(`s${i}: Int`));
        await vi.advanceTimersByTimeAsync(60);
        if (i % 3 === 2) {
          deployments.fail(`s${i - 1}`);
          await vi.advanceTimersByTimeAsync(60);
        }
      }
      await vi.advanceTimersByTimeAsync(5000);

      const expected = ['name', 's0', 's11', 's2', 's3', 's5', 's6', 's8', 's9'];
      expect(serviceFields(gateway.current())).toEqual(expected);
      expect(gateway.events.every((e) => e.ok)).toBe(true);
      // Each update was composed after the one before it: the subgraph lists follow the deploys.
      const updatesFields = gateway.updates.map(serviceFields);
      expect(updatesFields.at(-1)).toEqual(expected);
      const deployedUpTo = updatesFields.map((fields) =>
        Math.max(...fields.filter((f) => f !== 'name').map((f) => Number(f.slice(1)))),
      );
      expect(deployedUpTo).toEqual([...deployedUpTo].sort((a, b) => a - b));
    });
  });
});
