import { createHmac, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '@heimdall/gateway';
import { type Role, ServiceTokens } from '@heimdall/shared/auth';
import { loadConfig, serviceEnvSchema } from '@heimdall/shared/config';
import { createSubgraphPlatform, serveSubgraphSchema } from '@heimdall/shared/graphql';
import type { Platform } from '@heimdall/shared/http';
import { makeCaller, serviceAuthHeaders } from '@heimdall/testkit';
import { localStack } from '@heimdall/stack';
import { JWT_AUDIENCE, JWT_ISSUER, System } from './system.js';

const local = localStack(process.env);
let system: System;
let notes: Platform;
const marked: string[] = [];

/** GraphQL requests a Heimdall service answered, by its request metrics (the calls a gateway made to it). */
async function graphqlCalls(platform: Platform): Promise<number> {
  const metric = await platform.metrics.httpDuration.get();
  return metric.values
    .filter((v) => v.metricName === 'heimdall_http_request_duration_seconds_count' && v.labels.route === '/graphql')
    .reduce((sum, v) => sum + v.value, 0);
}

/**
 * A subgraph of this test: a mutation no table lists (so editors may run it, viewers not), and notes with replies
 * to nest deep and wide.
 */
async function startNotesSubgraph(): Promise<Platform> {
  const platform = createSubgraphPlatform({
    name: 'notes',
    version: '0.0.1',
    env: loadConfig(serviceEnvSchema(0), system.env()),
    consul: system.consul,
  });
  const typeDefs = parse(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
    type Note { id: ID! text: String! replies(limit: Int = 10): [Note!]! }
    type Service @key(fields: "name") { name: String! notes(limit: Int = 10): [Note!]! }
    type Mutation { markSeen(id: ID!): Boolean! }
  `);
  const note = (id: string) => ({ id, text: `note ${id}` });
  const resolvers = {
    Service: { notes: () => [note('1')] },
    Note: { replies: (parent: { id: string }) => [note(`${parent.id}.1`)] },
    Mutation: {
      markSeen: (_: unknown, args: { id: string }) => {
        marked.push(args.id);
        return true;
      },
    },
  };
  await serveSubgraphSchema(platform, buildSubgraphSchema([{ typeDefs, resolvers }]), {});
  await platform.service.start({ host: '127.0.0.1', port: 0 });
  return platform;
}

interface Outcome {
  readonly status: number;
  readonly code?: string | number;
  readonly message?: string;
  readonly contentType?: string | null;
}

async function graphqlAt(
  gateway: Gateway,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<
  Outcome & {
    body: { data?: unknown; errors?: { message: string; extensions?: { code?: string; [key: string]: unknown } }[] };
  }
> {
  const response = await fetch(`${gateway.service.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const parsed = (await response.json()) as {
    data?: unknown;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  const error = parsed.errors?.[0];
  return {
    status: response.status,
    code: error?.extensions?.code,
    message: error?.message,
    contentType: response.headers.get('content-type'),
    body: parsed,
  };
}

async function otlpAt(otlpUrl: string, path: string, body: unknown, headers: Record<string, string>): Promise<Outcome> {
  const response = await fetch(`${otlpUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  if (response.status < 400) {
    await response.body?.cancel();
    return { status: response.status };
  }
  const text = await response.text();
  const status =
    response.headers.get('content-type')?.startsWith('application/json') === true
      ? (JSON.parse(text) as { code?: number; message?: string })
      : {};
  return { status: response.status, code: status.code, message: status.message };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const forgedClaims = (roles: readonly Role[]) => {
  const now = Math.floor(Date.now() / 1000);
  return { sub: 'mallory', roles, iss: JWT_ISSUER, aud: JWT_AUDIENCE, iat: now, exp: now + 600 };
};
/** A token with `alg: none` and no signature. */
const unsignedToken = (roles: readonly Role[]) => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(forgedClaims(roles))}.`;
/** The classic RS256 confusion: HS256 with the (public) key's PEM as the HMAC secret. */
function hs256WithPublicKey(roles: readonly Role[]): string {
  const signed = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(forgedClaims(roles))}`;
  return `${signed}.${createHmac('sha256', system.jwtPublicKeyPem).update(signed).digest('base64url')}`;
}

type Verdict = 'missing' | 'invalid' | 'forbidden' | 'allowed';

/** Each kind of credential, for an operation whose right and wrong roles are given. */
const CREDENTIALS: readonly [
  string,
  Verdict,
  (right: readonly Role[], wrong: readonly Role[]) => Promise<Record<string, string>>,
][] = [
  ['no credentials', 'missing', () => Promise.resolve({})],
  ['a malformed token', 'invalid', () => Promise.resolve({ authorization: 'Bearer not.a.token' })],
  ['an expired token', 'invalid', (right) => system.authHeaders(right, { issuedAt: Date.now() - 2 * 3600_000 })],
  ['a token for another audience', 'invalid', (right) => system.authHeaders(right, { audience: 'someone-else' })],
  ['a token with alg none', 'invalid', (right) => Promise.resolve({ authorization: `Bearer ${unsignedToken(right)}` })],
  [
    'an HS256 token signed with the public key',
    'invalid',
    (right) => Promise.resolve({ authorization: `Bearer ${hs256WithPublicKey(right)}` }),
  ],
  ['a valid token of the wrong role', 'forbidden', (_right, wrong) => system.authHeaders(wrong)],
  ['a valid token of the right role', 'allowed', (right) => system.authHeaders(right)],
];

interface Operation {
  readonly name: string;
  readonly right: readonly Role[];
  readonly wrong: readonly Role[];
  readonly kind: 'graphql' | 'ingest';
  run(headers: Record<string, string>): Promise<Outcome>;
  /** For ingest paths whose owner may not serve them yet: passing the gateway is what is checked. */
  readonly ownerMayLackRoute?: boolean;
}

const service = `auth-${randomUUID().slice(0, 8)}`;
const graphqlOperation = (name: string, query: string, right: Role[], wrong: Role[]): Operation => ({
  name,
  right,
  wrong,
  kind: 'graphql',
  run: (headers) => graphqlAt(system.gateway!, { query }, headers),
});
const ingestOperation = (path: string, body: unknown, ownerMayLackRoute = false): Operation => ({
  name: `POST ${path} at :4318`,
  right: ['agent'],
  wrong: ['viewer', 'editor'],
  kind: 'ingest',
  ownerMayLackRoute,
  run: (headers) => otlpAt(system.otlpUrl!, path, body, headers),
});

const OPERATIONS: readonly Operation[] = [
  graphqlOperation(
    'a query across subgraphs',
    `{ service(name: "${service}") { name series { name } notes { id } } }`,
    ['viewer'],
    ['agent'],
  ),
  graphqlOperation('a mutation no table lists (editors)', 'mutation { markSeen(id: "n1") }', ['editor'], ['viewer']),
  graphqlOperation(
    'createApiKey (admins)',
    'mutation { createApiKey(name: "matrix") { apiKey { id } } }',
    ['admin'],
    ['editor'],
  ),
  graphqlOperation('revokeApiKey (admins)', 'mutation { revokeApiKey(id: "0000000000000000") }', ['admin'], ['editor']),
  graphqlOperation('apiKeys (admins)', '{ apiKeys { id } }', ['admin'], ['viewer']),
  ingestOperation('/v1/metrics', { resourceMetrics: [] }),
  // The logs and traces owners take their OTLP routes and the log API in their own branches.
  ingestOperation('/v1/logs', { resourceLogs: [] }, true),
  ingestOperation('/v1/traces', { resourceSpans: [] }, true),
  ingestOperation('/api/v1/logs', [], true),
];

const EXPECTED: Record<
  Exclude<Verdict, 'allowed'>,
  { status: number; graphqlCode: string; rpcCode: number; message: string }
> = {
  missing: {
    status: 401,
    graphqlCode: 'UNAUTHENTICATED',
    rpcCode: 16,
    message: 'Missing or invalid authorization header',
  },
  invalid: { status: 401, graphqlCode: 'UNAUTHENTICATED', rpcCode: 16, message: 'Invalid token' },
  forbidden: { status: 403, graphqlCode: 'FORBIDDEN', rpcCode: 7, message: 'Insufficient permissions' },
};

beforeAll(async () => {
  await local.require('consul', 'elasticsearch', 'jaeger', 'postgres', 'redis');
  system = await System.create(local, process.env.CLICKHOUSE_URL);
  for (const name of ['metrics', 'logs', 'traces', 'alerts'] as const) await system.startSubgraph(name);
  notes = await startNotesSubgraph();
  await system.startGateway();
  // The supergraph has every subgraph once an admin's query naming each answers without errors.
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const result = await graphqlAt(
      system.gateway!,
      { query: `{ service(name: "${service}") { series { name } logs(limit: 1) { message } notes { id } } }` },
      await system.authHeaders(['admin']),
    );
    if (result.status === 200 && result.body.errors === undefined) break;
    await sleep(200);
  }
});

afterAll(async () => {
  const admin = await system.authHeaders(['admin']);
  const keys = (await graphqlAt(system.gateway!, { query: '{ apiKeys { id name } }' }, admin)).body.data as
    { apiKeys: { id: string; name: string }[] } | undefined;
  for (const key of keys?.apiKeys.filter((k) => k.name.startsWith('matrix') || k.name.startsWith('e2e-')) ?? []) {
    await graphqlAt(system.gateway!, { query: `mutation { revokeApiKey(id: "${key.id}") }` }, admin);
  }
  await notes?.service.stop();
  await system?.stop();
});

describe('the auth matrix: every operation and ingest path × every kind of credential', () => {
  for (const operation of OPERATIONS) {
    describe(operation.name, () => {
      it.each(CREDENTIALS)('with %s', async (_credential, verdict, headersFor) => {
        const outcome = await operation.run(await headersFor(operation.right, operation.wrong));
        if (verdict === 'allowed') {
          if (operation.kind === 'graphql') {
            expect(outcome).toMatchObject({ status: 200, code: undefined });
          } else if (operation.ownerMayLackRoute === true) {
            // Past the gateway and past the owner's own check of the internal token.
            expect([401, 403, 429]).not.toContain(outcome.status);
          } else {
            expect(outcome.status).toBe(200);
          }
          return;
        }
        const expected = EXPECTED[verdict];
        expect(outcome).toMatchObject({
          status: expected.status,
          code: operation.kind === 'graphql' ? expected.graphqlCode : expected.rpcCode,
          message: expected.message,
        });
      });
    });
  }

  it('runs a refused mutation nowhere: the subgraph never sees it', async () => {
    const before = marked.length;
    await graphqlAt(
      system.gateway!,
      { query: 'mutation { markSeen(id: "viewer-try") }' },
      await system.authHeaders(['viewer']),
    );
    expect(marked.slice(before)).not.toContain('viewer-try');
  });
});

describe('a subgraph reached directly', () => {
  const metricsUrl = () => system.subgraphs.get('metrics')!.service.url;

  it('refuses GraphQL and ingest without an internal token (401)', async () => {
    const query = await fetch(`${metricsUrl()}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query":"{ __typename }"}',
    });
    expect(query.status).toBe(401);
    const push = await fetch(`${metricsUrl()}/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"resourceMetrics":[]}',
    });
    expect(push.status).toBe(401);
    expect(await push.json()).toMatchObject({ code: 16 });
  });

  it('refuses an internal token signed with another secret (401)', async () => {
    const forged = await new ServiceTokens({
      service: 'gateway',
      secrets: ['an attacker guessing the secret wrong!'],
    }).headers(makeCaller(['admin']));
    const response = await fetch(`${metricsUrl()}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...forged },
      body: '{"query":"{ __typename }"}',
    });
    expect(response.status).toBe(401);
  });

  it('enforces roles itself from the internal token: a viewer cannot run a mutation there either', async () => {
    const before = marked.length;
    const response = await fetch(`${notes.service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await serviceAuthHeaders(makeCaller(['viewer']))) },
      body: JSON.stringify({ query: 'mutation { markSeen(id: "direct") }' }),
    });
    expect(response.status).toBe(403);
    expect(marked.length).toBe(before);
  });

  it('keeps health, readiness and metrics open for probes', async () => {
    for (const path of ['/health', '/ready', '/metrics'])
      expect((await fetch(`${metricsUrl()}${path}`)).status).toBe(200);
  });
});

describe('API keys', () => {
  const createKey = async (gateway: Gateway, name: string) => {
    const result = await graphqlAt(
      gateway,
      { query: `mutation { createApiKey(name: "${name}") { key apiKey { id name createdBy } } }` },
      await system.authHeaders(['admin'], { subject: 'root' }),
    );
    return (
      result.body.data as { createApiKey: { key: string; apiKey: { id: string; name: string; createdBy: string } } }
    ).createApiKey;
  };
  const push = (otlpUrl: string, headers: Record<string, string>) =>
    otlpAt(otlpUrl, '/v1/metrics', { resourceMetrics: [] }, headers);

  it('let an agent push with the key as a Bearer credential or in x-api-key, and nothing else', async () => {
    const created = await createKey(system.gateway!, 'e2e-agent');
    expect(created.apiKey).toMatchObject({ name: 'e2e-agent', createdBy: 'root' });
    expect(await push(system.otlpUrl!, { authorization: `Bearer ${created.key}` })).toEqual({ status: 200 });
    expect(await push(system.otlpUrl!, { 'x-api-key': created.key })).toEqual({ status: 200 });
    expect(
      await graphqlAt(system.gateway!, { query: '{ service(name: "x") { name } }' }, { 'x-api-key': created.key }),
    ).toMatchObject({ status: 403, code: 'FORBIDDEN' });
  });

  it('with the VIEWER role read through GraphQL (as Bearer or as a Basic password, as Grafana sends it), never write or ingest', async () => {
    const result = await graphqlAt(
      system.gateway!,
      { query: 'mutation { createApiKey(name: "e2e-grafana", role: VIEWER) { key apiKey { role } } }' },
      await system.authHeaders(['admin'], { subject: 'root' }),
    );
    const created = (result.body.data as { createApiKey: { key: string; apiKey: { role: string } } }).createApiKey;
    expect(created.apiKey.role).toBe('VIEWER');
    const basic = { authorization: `Basic ${Buffer.from(`grafana:${created.key}`).toString('base64')}` };
    for (const headers of [{ authorization: `Bearer ${created.key}` }, basic]) {
      expect(await graphqlAt(system.gateway!, { query: '{ service(name: "x") { name } }' }, headers)).toMatchObject({
        status: 200,
        body: { data: { service: { name: 'x' } } },
      });
    }
    expect(await graphqlAt(system.gateway!, { query: 'mutation { revokeApiKey(id: "nope") }' }, basic)).toMatchObject({
      status: 403,
      code: 'FORBIDDEN',
    });
    expect((await push(system.otlpUrl!, { authorization: `Bearer ${created.key}` })).status).toBe(403);
  });

  it('are shown once: the list has their names, never the keys', async () => {
    const created = await createKey(system.gateway!, 'e2e-listed');
    const listed = await graphqlAt(
      system.gateway!,
      { query: '{ apiKeys { id name createdAt createdBy } }' },
      await system.authHeaders(['admin']),
    );
    expect(listed.body.data).toMatchObject({
      apiKeys: expect.arrayContaining([
        expect.objectContaining({ id: created.apiKey.id, name: 'e2e-listed' }),
      ]) as unknown,
    });
    expect(JSON.stringify(listed.body)).not.toContain(created.key.slice(-20));
  });

  it('stop working once revoked: at once on the instance that revoked, within 5 s on another', async () => {
    const second = await system.startGateway();
    const secondOtlp = system.gateways.at(-1)!.otlpUrl;
    const created = await createKey(system.gateway!, 'e2e-revoked');
    expect(await push(secondOtlp, { 'x-api-key': created.key })).toEqual({ status: 200 });

    const revoked = await graphqlAt(
      system.gateway!,
      { query: `mutation { revokeApiKey(id: "${created.apiKey.id}") }` },
      await system.authHeaders(['admin']),
    );
    expect(revoked.body.data).toEqual({ revokeApiKey: true });
    const revokedAt = Date.now();
    expect(await push(system.otlpUrl!, { 'x-api-key': created.key })).toMatchObject({
      status: 401,
      message: 'Invalid token',
    });

    let refusedAfterMs: number | undefined;
    while (Date.now() - revokedAt < 6000) {
      if ((await push(secondOtlp, { 'x-api-key': created.key })).status === 401) {
        refusedAfterMs = Date.now() - revokedAt;
        break;
      }
      await sleep(100);
    }
    expect(refusedAfterMs).toBeDefined();
    expect(refusedAfterMs!).toBeLessThanOrEqual(5000);
    expect(second.service.isRegistered).toBe(true);
  });
});

describe('rate limits shared by two gateway instances', () => {
  it('let exactly the configured number through across both, then 429 with Retry-After on :4000 and :4318, counted in /metrics', async () => {
    const limited = { RATE_LIMIT_REQUESTS: '20', RATE_LIMIT_PERIOD_SECONDS: '3600' };
    const gateways = [await system.startGateway(limited), await system.startGateway(limited)];
    const otlpUrls = system.gateways.slice(-2).map((g) => g.otlpUrl);
    const subject = `rate-${randomUUID().slice(0, 8)}`;
    const viewer = await system.authHeaders(['viewer'], { subject });

    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 30; i++) {
      const response = await fetch(`${gateways[i % 2]!.service.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...viewer },
        body: JSON.stringify({ query: '{ service(name: "x") { name } }' }),
      });
      statuses.push(response.status);
      if (response.status === 429) retryAfter = response.headers.get('retry-after');
      await response.body?.cancel();
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
    expect(statuses.slice(0, 20).every((s) => s === 200)).toBe(true);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);

    // The same client (the token's subject) pushing: the same bucket, now empty.
    const agent = await system.authHeaders(['agent'], { subject });
    expect(await otlpAt(otlpUrls[1]!, '/v1/metrics', { resourceMetrics: [] }, agent)).toMatchObject({
      status: 429,
      code: 8,
    });

    const counted = async (outcome: string, entry = 'graphql') => {
      let total = 0;
      for (const gateway of gateways) {
        const text = await (await fetch(`${gateway.service.url}/metrics`)).text();
        const line = text
          .split('\n')
          .find(
            (l) =>
              l.startsWith('heimdall_rate_limit_decisions_total{') &&
              l.includes(`entry="${entry}"`) &&
              l.includes(`outcome="${outcome}"`),
          );
        total += line === undefined ? 0 : Number(line.split(' ').at(-1));
      }
      return total;
    };
    expect(await counted('allowed')).toBe(20);
    expect(await counted('limited')).toBe(10);
    expect(await counted('limited', 'otlp')).toBe(1);
  });
});

describe('query limits before any subgraph is called', () => {
  // One reply per level: deep, yet cheap.
  const deepNotes = (levels: number) =>
    `{ service(name: "${service}") { notes(limit: 1) { ${'replies(limit: 1) { '.repeat(levels)}id${' }'.repeat(levels)} } } }`;
  const BOMBS: [string, string, string][] = [
    ['a depth bomb', deepNotes(12), 'depth'],
    [
      'an alias bomb',
      `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: service(name: "${service}") { notes { id } }`).join(' ')} }`,
      'aliases',
    ],
    [
      'a cost bomb of nested lists',
      `{ service(name: "${service}") { notes(limit: 1000) { replies(limit: 1000) { id } } } }`,
      'cost',
    ],
    ['a cost bomb of one huge page', `{ service(name: "${service}") { logs(limit: 100000) { message } } }`, 'cost'],
  ];

  it.each(BOMBS)(
    'refuses %s with 400 LIMIT_EXCEEDED naming the limit, calling no subgraph',
    async (_bomb, query, limit) => {
      const logs = system.subgraphs.get('logs')!;
      const before = [await graphqlCalls(notes), await graphqlCalls(logs)];
      const refused = await graphqlAt(system.gateway!, { query }, await system.authHeaders(['viewer']));
      expect(refused).toMatchObject({ status: 400, code: 'LIMIT_EXCEEDED' });
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({ limit });
      expect([await graphqlCalls(notes), await graphqlCalls(logs)]).toEqual(before);
    },
  );

  it('calls the subgraphs for the same kind of query within the limits', async () => {
    const before = await graphqlCalls(notes);
    const answered = await graphqlAt(system.gateway!, { query: deepNotes(3) }, await system.authHeaders(['viewer']));
    expect(answered).toMatchObject({ status: 200, code: undefined });
    expect(await graphqlCalls(notes)).toBeGreaterThan(before);
  });

  it('refuses a batch over the limit and a query of too many tokens', async () => {
    const viewer = await system.authHeaders(['viewer']);
    const batch = await graphqlAt(
      system.gateway!,
      Array.from({ length: 11 }, () => ({ query: '{ __typename }' })),
      viewer,
    );
    expect(batch).toMatchObject({ status: 400, code: 'LIMIT_EXCEEDED' });
    expect(batch.body.errors?.[0]?.extensions).toMatchObject({ limit: 'batch', max: 10 });
    const tokens = await graphqlAt(system.gateway!, { query: `{ ${'__typename '.repeat(2500)}}` }, viewer);
    expect(tokens.body.errors?.[0]?.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 'tokens' });
  });
});

describe('GraphQL over HTTP at :4000', () => {
  const RESPONSE_TYPE = 'application/graphql-response+json';
  const as = async (headers: Record<string, string> = {}) => ({
    ...(await system.authHeaders(['viewer'])),
    accept: RESPONSE_TYPE,
    ...headers,
  });

  it.each([
    ['a document that does not parse', { query: '{ service(name: "x") { name ' }, 'GRAPHQL_PARSE_FAILED'],
    ['a document that does not validate', { query: '{ service(name: "x") { nope } }' }, 'GRAPHQL_VALIDATION_FAILED'],
    [
      'variables that do not coerce',
      { query: 'query($n: String!) { service(name: $n) { name } }', variables: { n: 42 } },
      'BAD_USER_INPUT',
    ],
    ['no query at all', { variables: {} }, 'BAD_REQUEST'],
  ])('answers %s with 400 in application/graphql-response+json', async (_case, body, code) => {
    const result = await graphqlAt(system.gateway!, body, await as());
    expect(result).toMatchObject({ status: 400, code });
    expect(result.contentType).toContain(RESPONSE_TYPE);
  });

  it('answers a malformed JSON body with 400', async () => {
    const response = await fetch(`${system.gateway!.service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await as()) },
      body: '{"query": ',
    });
    expect(response.status).toBe(400);
  });

  it('answers a GET query in application/graphql-response+json, and refuses a GET mutation with 405', async () => {
    const url = (query: string) => `${system.gateway!.service.url}/graphql?query=${encodeURIComponent(query)}`;
    const query = await fetch(url(`{ service(name: "${service}") { name } }`), { headers: await as() });
    expect(query.status).toBe(200);
    expect(query.headers.get('content-type')).toContain(RESPONSE_TYPE);
    expect(await query.json()).toEqual({ data: { service: { name: service } } });
    const mutation = await fetch(url('mutation { markSeen(id: "get") }'), { headers: await as() });
    expect(mutation.status).toBe(405);
  });

  it('answers refusals of the front door in the media type the client asked for', async () => {
    const response = await fetch(`${system.gateway!.service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: RESPONSE_TYPE },
      body: '{"query":"{ __typename }"}',
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toContain(RESPONSE_TYPE);
    expect(response.headers.get('www-authenticate')).toContain('Bearer');
  });
});

describe('introspection', () => {
  it('is on locally and off by default with NODE_ENV=production', async () => {
    const query = { query: '{ __schema { queryType { name } } }' };
    expect(await graphqlAt(system.gateway!, query, await system.authHeaders(['viewer']))).toMatchObject({
      status: 200,
      code: undefined,
    });
    const production = await system.startGateway({ NODE_ENV: 'production' });
    expect(await graphqlAt(production, query, await system.authHeaders(['viewer']))).toMatchObject({
      status: 400,
      code: 'GRAPHQL_VALIDATION_FAILED',
    });
  });
});
