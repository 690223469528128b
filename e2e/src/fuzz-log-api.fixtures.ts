// Hostile bodies for the JSON log API (POST /api/v1/logs, README "The JSON API"): entries of the seed format with
// values of every wrong kind, and bodies that are not entries at all.
import * as fc from 'fast-check';
import { LOG_KEYS, hostileString } from './fuzz-otlp.fixtures.js';

export interface LogApiCase {
  readonly contentType: string;
  readonly body: string;
  /** Entries sent when the body is a valid JSON list or entry, else undefined. */
  readonly entries: number | undefined;
}

const wrongType = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
  fc.array(fc.string(), { maxLength: 2 }),
);

const iso = (ms: number) => new Date(ms).toISOString();
const validTimestamp = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: -3_600_000, max: 60_000 }).map((ms) => iso(Date.now() + ms)) },
  { weight: 1, arbitrary: fc.integer({ min: -3_600_000, max: 60_000 }).map((ms) => Date.now() + ms) },
);
const validHex = (n: number) =>
  fc.uint8Array({ minLength: n / 2, maxLength: n / 2 }).map((b) => Buffer.from(b).toString('hex'));
const nonBlank = hostileString.filter((s) => s.trim() !== '' && s.length <= 256);

/** Keys from the fixed set: the keys of stored labels are fields of the shared index. */
const validLabels = fc.dictionary(fc.constantFrom(...LOG_KEYS.filter((k) => k.trim() !== '')), hostileString, {
  maxKeys: 4,
});

const validEntry = (service: string) =>
  fc.record(
    {
      timestamp: validTimestamp,
      level: fc.constantFrom('DEBUG', 'INFO', 'WARN', 'WARNING', 'ERROR', 'FATAL', 'info', 'warning'),
      message: fc.oneof(
        { weight: 12, arbitrary: nonBlank },
        { weight: 1, arbitrary: fc.constantFrom('x'.repeat(200_000), '한'.repeat(70_000)) },
      ),
      service: fc.oneof(
        { weight: 4, arbitrary: fc.constant(service) },
        { weight: 1, arbitrary: fc.string({ maxLength: 8 }).map((suffix) => `${service}${suffix}`) },
      ),
      trace_id: validHex(32),
      span_id: validHex(16),
      labels: validLabels,
      stack_trace: hostileString,
      user_id: nonBlank,
      request_id: nonBlank,
    },
    { requiredKeys: ['message', 'service'] },
  );

/** What the API must refuse, field by field. */
const WRONG: { readonly [field: string]: fc.Arbitrary<unknown> } = {
  timestamp: fc.oneof(
    fc.constantFrom<unknown>(
      '2026-13-45T99:00:00Z',
      '2026-01-01T00:00:00',
      '',
      'now',
      '1970-01-01T00:00:00Z',
      '9999-12-31T23:59:59.999999999Z',
      -1,
      1e300,
      '1700000000000',
    ),
    wrongType,
  ),
  level: fc.oneof(fc.constantFrom('Trace', 'CRITICAL', '', 'INFO '), wrongType),
  message: fc.oneof(fc.constantFrom('', '   ', '\n'), wrongType),
  service: fc.oneof(fc.constantFrom('', '   ', 'x'.repeat(257)), wrongType),
  trace_id: fc.oneof(fc.constantFrom('0'.repeat(32), 'abc', 'z'.repeat(32), 'ab'.repeat(17)), wrongType),
  span_id: fc.oneof(fc.constantFrom('0'.repeat(16), 'abc', 'z'.repeat(16)), wrongType),
  labels: fc.oneof(
    fc.constant(Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`fuzz.k${i}`, 'v']))),
    fc.constant({ ['k'.repeat(257)]: 'v' }),
    fc.constant({ ' ': 'v' }),
    fc.dictionary(fc.constantFrom(...LOG_KEYS), wrongType, { minKeys: 1, maxKeys: 2 }),
    wrongType,
  ),
  stack_trace: wrongType,
  user_id: fc.oneof(fc.constantFrom('', 'x'.repeat(257)), wrongType),
  request_id: fc.oneof(fc.constantFrom('', 'x'.repeat(257)), wrongType),
  unknown: fc.jsonValue({ maxDepth: 1 }),
};

const spoiledEntry = (service: string) =>
  fc
    .tuple(validEntry(service), fc.constantFrom(...Object.keys(WRONG)))
    .chain(([entry, field]) => WRONG[field]!.map((value) => ({ ...entry, [field]: value })));

const entries = (service: string) =>
  fc.oneof(
    { weight: 2, arbitrary: fc.array(validEntry(service), { minLength: 1, maxLength: 20 }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.array(validEntry(service), { maxLength: 5 }), spoiledEntry(service))
        .map(([valid, spoiled]) => [...valid, spoiled]),
    },
  );

/** A body of the log API naming `service` (or a name that starts with it) in its entries. */
export function logApiCase(service: string): fc.Arbitrary<LogApiCase> {
  const json = (value: unknown, entries: number | undefined): LogApiCase => ({
    contentType: 'application/json',
    body: JSON.stringify(value),
    entries,
  });
  return fc.oneof(
    { weight: 6, arbitrary: entries(service).map((list) => json(list, list.length)) },
    { weight: 2, arbitrary: fc.oneof(validEntry(service), spoiledEntry(service)).map((one) => json(one, 1)) },
    { weight: 1, arbitrary: fc.constant(json([], 0)) },
    {
      weight: 1,
      arbitrary: fc.constant(
        json(
          Array.from({ length: 10_001 }, () => ({ message: 'm', service })),
          10_001,
        ),
      ),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => json(value, undefined)) },
    {
      weight: 1,
      arbitrary: fc
        .string({ unit: 'binary', maxLength: 64 })
        .map((text) => ({ contentType: 'application/json', body: text, entries: undefined })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(validEntry(service), fc.double({ min: 0, max: 1, noNaN: true })).map(([one, cut]) => {
        const text = JSON.stringify([one]);
        return {
          contentType: 'application/json',
          body: text.slice(0, Math.floor(text.length * cut)),
          entries: undefined,
        };
      }),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1')
        .map((contentType) => ({ contentType, body: JSON.stringify({ message: 'm', service }), entries: undefined })),
    },
  );
}
