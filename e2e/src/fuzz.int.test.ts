// The fuzz suite of issue 17: property-based tests of the whole system through the gateway, with what a hostile or
// unlucky client sends. OTLP bodies of the three signals at :4318, entries of the JSON log API, GraphQL documents
// at :4000. Every request is answered in time, never with a 5xx but a 503 with Retry-After, and every refusal
// says why in the shape its protocol has.
//
// Runs are reproducible: the seed is fixed (FUZZ_SEED overrides it) and so is the number of runs (FUZZ_RUNS
// multiplies it, for a longer run by hand). On failure fast-check prints the shrunk request with the seed and the
// path: `FUZZ_SEED=<seed> FUZZ_PATH=<path> npx vitest run --project int e2e/src/fuzz.int.test.ts -t '<test>'` runs
// that case again. Times in the requests are drawn relative to now, so a replay sends the same shapes at new times.
import { randomUUID } from 'node:crypto';
import { type DescMessage, fromBinary } from '@bufbuild/protobuf';
import * as fc from 'fast-check';
import { type GraphQLSchema, type IntrospectionQuery, buildClientSchema, getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OtlpSignal, otlp } from '@heimdall/shared/otlp';
import { localStack } from '@heimdall/stack';
import { type GraphQLCase, graphqlCase } from './fuzz-graphql.fixtures.js';
import { type LogApiCase, logApiCase } from './fuzz-log-api.fixtures.js';
import { type OtlpCase, healthyRequest, otlpCase } from './fuzz-otlp.fixtures.js';
import { System } from './system.js';

const local = localStack(process.env);

const SEED = Number.parseInt(process.env.FUZZ_SEED ?? '17', 10);
const PATH = process.env.FUZZ_PATH;
const RUNS = Number(process.env.FUZZ_RUNS ?? '1');
/** Every request of the fuzz is answered before this, or the property fails. */
const ANSWER_TIMEOUT_MS = 10_000;
/** /health, asked while a GraphQL request is worked on, answers before this. */
const HEALTH_TIMEOUT_MS = 2_000;
/** A property that is still running after this stops where it is (counted as passing, with a warning). */
const PROPERTY_TIME_LIMIT_MS = 100_000;

// One service name for the run's data in the shared stores (Elasticsearch and Jaeger), never another test's.
const service = `fuzz-${randomUUID().slice(0, 8)}`;

let system: System;
let agent: Record<string, string>;
let viewer: Record<string, string>;
let schema: GraphQLSchema;

/**
 * Runs `predicate` over `arbitrary` for `runs` runs of the suite's seed. A failure's message has fast-check's report
 * (seed, path) and what the smallest failing request was answered. Returns how many answers had each status.
 */
async function check<T>(
  arbitrary: fc.Arbitrary<T>,
  predicate: (value: T) => Promise<number>,
  runs: number,
): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {};
  // Shrinking keeps the last failure it saw, the smallest; fast-check's report (cut short by the time limit) may not.
  let lastFailure: unknown;
  const property = fc.asyncProperty(arbitrary, async (value) => {
    try {
      const status = await predicate(value);
      statuses[status] = (statuses[status] ?? 0) + 1;
    } catch (error) {
      lastFailure = error;
      throw error;
    }
  });
  const details = await fc.check(property, {
    seed: SEED,
    numRuns: Math.max(1, Math.round(runs * RUNS)),
    ...(PATH === undefined ? {} : { path: PATH }),
    plugins: [fc.interruptAfterTimeLimit(PROPERTY_TIME_LIMIT_MS)],
  });
  if (details.failed)
    throw new Error(
      `${await fc.asyncDefaultReportMessage(details)}\n${lastFailure instanceof Error ? lastFailure.message : String(lastFailure)}`,
    );
  if (details.interrupted)
    console.warn(`fuzz: interrupted after ${details.numRuns} runs of ${runs * RUNS} (seed ${SEED})`);
  return statuses;
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Uint8Array;
}

/** Posts and reads the whole answer, within ANSWER_TIMEOUT_MS; a timeout or a reset fails with what was sent. */
async function post(
  url: string,
  headers: Record<string, string>,
  body: Uint8Array | string,
  what: () => string,
): Promise<Answer> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : Buffer.from(body),
      signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
    });
    return { status: response.status, headers: response.headers, body: new Uint8Array(await response.arrayBuffer()) };
  } catch (error) {
    throw new Error(
      `${what()}: no answer (${error instanceof Error ? `${error.name}: ${error.message}; ${String(error.cause)}` : String(error)})`,
      { cause: error },
    );
  }
}

const preview = (answer: Answer) =>
  `${answer.status} ${answer.headers.get('content-type') ?? ''} ${Buffer.from(answer.body.subarray(0, 600)).toString()}`;

function fail(what: string, answer: Answer, why: string): never {
  throw new Error(`${what}\n  answered ${preview(answer)}\n  ${why}`);
}

/** A 5xx is a failure of the system unless it is a 503 telling the agent when to come back. */
function expectNoServerError(what: string, answer: Answer): void {
  if (answer.status >= 500 && !(answer.status === 503 && answer.headers.get('retry-after') !== null))
    fail(what, answer, 'a 5xx other than 503 with Retry-After');
}

const isJson = (answer: Answer) => (answer.headers.get('content-type') ?? '').includes('json');

function parsed(what: string, answer: Answer): unknown {
  try {
    return JSON.parse(Buffer.from(answer.body).toString());
  } catch {
    return fail(what, answer, 'the body is not JSON');
  }
}

const RESPONSE_SCHEMAS: { readonly [S in OtlpSignal]: DescMessage } = {
  metrics: otlp.ExportMetricsServiceResponseSchema,
  logs: otlp.ExportLogsServiceResponseSchema,
  traces: otlp.ExportTraceServiceResponseSchema,
};

/** The message of `answer` in the encoding its Content-Type names. */
function decoded(what: string, answer: Answer, schema: DescMessage): Record<string, unknown> {
  if (isJson(answer)) {
    const json = parsed(what, answer);
    if (json === null || typeof json !== 'object') fail(what, answer, `the body is not a ${schema.typeName}`);
    return json as Record<string, unknown>;
  }
  try {
    return fromBinary(schema, answer.body);
  } catch (error) {
    return fail(what, answer, `the body is not a ${schema.typeName} (${String(error)})`);
  }
}

function expectOtlpAnswer(c: OtlpCase, answer: Answer): void {
  const what = `${fc.stringify(c)}`;
  expectNoServerError(what, answer);
  if (answer.status === 200) {
    decoded(what, answer, RESPONSE_SCHEMAS[c.signal]);
  } else if (answer.status >= 400) {
    const status = decoded(what, answer, otlp.RpcStatusSchema);
    if (
      typeof status.code !== 'number' ||
      status.code === 0 ||
      typeof status.message !== 'string' ||
      status.message === ''
    ) {
      fail(what, answer, `a ${answer.status} whose body is no google.rpc.Status with a code and a message`);
    }
  }
}

beforeAll(async () => {
  await local.require('consul', 'elasticsearch', 'jaeger', 'postgres', 'redis');
  system = await System.create(local, process.env.CLICKHOUSE_URL);
  for (const name of ['metrics', 'logs', 'traces', 'alerts'] as const) await system.startSubgraph(name);
  // The fuzz sends far more than a client's 100 requests a second; rate limits have tests of their own.
  await system.startGateway({ RATE_LIMIT_REQUESTS: '1000000', OTLP_TRACES_URL: 'off' });
  agent = await system.authHeaders(['agent']);
  viewer = await system.authHeaders(['viewer']);
  // The documents are made from the supergraph's schema, once it has every subgraph's root fields.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const answer = await system.query<IntrospectionQuery>(getIntrospectionQuery(), viewer);
    if (answer.data !== undefined) {
      schema = buildClientSchema(answer.data);
      const fields = Object.keys(schema.getQueryType()?.getFields() ?? {});
      if (['metricNames', 'logSearch', 'services', 'alertRules'].every((field) => fields.includes(field))) break;
    }
    if (Date.now() > deadline)
      throw new Error(`the gateway never composed the four subgraphs: ${JSON.stringify(answer.errors)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
});

/** Deletes the run's log entries (by id: the local Elasticsearch has no delete-by-query). */
async function removeLogEntries(): Promise<void> {
  for (let round = 0; round < 50; round++) {
    await system.elasticsearch.indices.refresh({ index: 'logs' });
    const found = await system.elasticsearch.search({
      index: 'logs',
      query: { prefix: { service } },
      size: 1_000,
      _source: false,
    });
    if (found.hits.hits.length === 0) return;
    await system.elasticsearch.bulk({
      operations: found.hits.hits.map((hit) => ({ delete: { _index: hit._index, _id: hit._id! } })),
    });
  }
}

afterAll(async () => {
  if (system === undefined) return;
  // The logs subgraph finishes what it was storing, then the run's entries leave the shared index.
  await system.stopSubgraph('logs');
  await removeLogEntries().catch((error: unknown) => console.warn('fuzz: clean-up', error));
  await system.stop();
});

describe('fuzz: OTLP bodies at the gateway’s :4318', () => {
  it.each(['metrics', 'logs', 'traces'] as const)(
    '%s: every mutated JSON or protobuf body is answered in time, without a 5xx but 503 + Retry-After, a 400 with a google.rpc.Status; a healthy push then still succeeds',
    async (signal) => {
      const statuses = await check(
        otlpCase(signal, service),
        async (c) => {
          const headers: Record<string, string> = {
            ...agent,
            ...(c.contentType === '' ? {} : { 'content-type': c.contentType }),
            ...(c.contentEncoding === undefined ? {} : { 'content-encoding': c.contentEncoding }),
          };
          const answer = await post(`${system.otlpUrl!}/v1/${signal}`, headers, c.body, () => fc.stringify(c));
          expectOtlpAnswer(c, answer);
          return answer.status;
        },
        60,
      );
      console.info(`fuzz ${signal}: answers by status`, statuses);
      // Nothing the fuzz sent counted against the signal's store: an agent's ordinary push is stored.
      const healthy = await post(
        `${system.otlpUrl!}/v1/${signal}`,
        { ...agent, 'content-type': 'application/x-protobuf' },
        healthyRequest(signal, service),
        () => `a healthy ${signal} push`,
      );
      expect(preview(healthy)).toMatch(/^200 /);
    },
    240_000,
  );
});

function expectLogApiAnswer(c: LogApiCase, answer: Answer): void {
  const what = `POST /api/v1/logs (${c.contentType}), ${c.body.length} characters: ${c.body.slice(0, 400)}`;
  if (answer.status >= 500) fail(what, answer, 'a 5xx');
  if (answer.status < 200 || (answer.status >= 300 && answer.status < 400)) fail(what, answer, 'neither 2xx nor 4xx');
  const body = parsed(what, answer) as { ids?: unknown; error?: { message?: unknown } } | null;
  if (answer.status < 300) {
    if (!Array.isArray(body?.ids) || (c.entries !== undefined && body.ids.length !== c.entries))
      fail(what, answer, `an acceptance without the ids of its ${c.entries} entries`);
  } else if (typeof body?.error?.message !== 'string' || body.error.message === '') {
    fail(what, answer, 'a refusal without a message');
  }
}

describe('fuzz: the JSON log API', () => {
  it('answers every random body 2xx with the ids, or 4xx with a message; never a 5xx', async () => {
    const statuses = await check(
      logApiCase(service),
      async (c) => {
        const answer = await post(
          `${system.otlpUrl!}/api/v1/logs`,
          { ...agent, 'content-type': c.contentType },
          c.body,
          () => c.body.slice(0, 400),
        );
        expectLogApiAnswer(c, answer);
        return answer.status;
      },
      60,
    );
    console.info('fuzz log API: answers by status', statuses);
  }, 240_000);
});

interface GraphQLResult {
  errors?: { message?: unknown; extensions?: { code?: unknown } }[];
}

function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function expectGraphQLAnswer(c: GraphQLCase, answer: Answer): void {
  const what = `${c.kind}: ${c.body.slice(0, 1_500)}`;
  if (answer.status >= 500) fail(what, answer, 'a 5xx');
  const body = parsed(what, answer);
  // A body that is no JSON is refused before GraphQL, in the services' error shape ({"error": {code, message}}),
  // not GraphQL's (reported with the suite: the front door's other refusals keep GraphQL's shape).
  if (
    !isJsonText(c.body) &&
    answer.status === 400 &&
    typeof (body as { error?: { code?: unknown } } | null)?.error?.code === 'string'
  )
    return;
  const results = (Array.isArray(body) ? body : [body]) as (GraphQLResult | null)[];
  // A batch is answered 400 when one of its requests is refused; the others keep their data.
  if (answer.status >= 400 && results.every((result) => result?.errors === undefined))
    fail(what, answer, `a ${answer.status} without errors`);
  for (const result of results) {
    if (result === null || typeof result !== 'object') fail(what, answer, 'an answer that is no GraphQL result');
    for (const error of result.errors ?? []) {
      if (typeof error.extensions?.code !== 'string')
        fail(what, answer, `an error without extensions.code: ${JSON.stringify(error).slice(0, 300)}`);
    }
  }
}

describe('fuzz: GraphQL documents at :4000', () => {
  it('answers every random document without a 5xx, each error with extensions.code, while /health answers in 2 s', async () => {
    const url = `${system.gateway!.service.url}/graphql`;
    const statuses = await check(
      fc.gen(),
      async (g) => {
        const c = graphqlCase(g, schema, service);
        const [answer, health] = await Promise.all([
          post(
            url,
            { ...viewer, 'content-type': 'application/json' },
            c.body,
            () => `${c.kind}: ${c.body.slice(0, 1_500)}`,
          ),
          fetch(`${system.gateway!.service.url}/health`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) }).then(
            (response) => response.status,
            (error: unknown) => String(error),
          ),
        ]);
        expectGraphQLAnswer(c, answer);
        if (health !== 200) throw new Error(`${c.kind}: ${c.body.slice(0, 1_500)}\n  /health meanwhile: ${health}`);
        return answer.status;
      },
      150,
    );
    console.info('fuzz GraphQL: answers by status', statuses);
  }, 240_000);
});
