// Hostile OTLP/HTTP export bodies for the fuzz suite: requests of each signal in OTLP/JSON form whose values are
// what an unlucky or hostile agent sends (huge strings, ids of any length, NaN and infinities, timestamps at the
// ends of uint64, deep AnyValues), then broken on the way out: wrong types and raw tokens in the JSON text,
// truncated or flipped protobuf bytes, random bytes, corrupt gzip.
import { gzipSync } from 'node:zlib';
import { type DescMessage, type JsonValue, fromJson, toBinary } from '@bufbuild/protobuf';
import * as fc from 'fast-check';
import { type OtlpEncoding, type OtlpSignal, otlp } from '@heimdall/shared/otlp';

/** One request of the fuzz: what is sent, and a short account of how it was made (its body is too big to print). */
export interface OtlpCase {
  readonly signal: OtlpSignal;
  readonly encoding: OtlpEncoding;
  readonly contentType: string;
  readonly contentEncoding: string | undefined;
  readonly body: Uint8Array;
  readonly how: readonly string[];
}

type Json = JsonValue;
type JsonObject = { [key: string]: Json };

const REQUEST_SCHEMAS: { readonly [S in OtlpSignal]: DescMessage } = {
  metrics: otlp.ExportMetricsServiceRequestSchema,
  logs: otlp.ExportLogsServiceRequestSchema,
  traces: otlp.ExportTraceServiceRequestSchema,
};

const TOP_FIELD: { readonly [S in OtlpSignal]: string } = {
  metrics: 'resourceMetrics',
  logs: 'resourceLogs',
  traces: 'resourceSpans',
};

/** Lengths past every limit that matters: span limits (16 KiB values), badger's 65,000-byte keys, Lucene's 32 KiB terms. */
const HUGE_LENGTHS = [1_025, 16_385, 32_767, 65_001, 70_000, 131_072, 1_048_576];

/** A string as long as a poison item's, put in place of one string of a request (see `hugeString`). */
const huge = fc.record({
  length: fc.constantFrom(...HUGE_LENGTHS),
  char: fc.constantFrom('x', 'é', '한', '😀', '\u0000', ' '),
  at: fc.nat(),
});

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\u0000',
      '\ud800',
      '\udfff\ud800',
      '\u202e\u200b',
      'null',
      '{"a":1}',
      '${jndi:ldap://127.0.0.1/a}',
      "'; DROP TABLE series; --",
      '%s%s%n',
      '<em>x</em><script>',
      '../../etc/passwd',
      'a\nb\r\nc\td',
      '데이터베이스 연결 실패',
      '𝕳𝖊𝖎𝖒𝖉𝖆𝖑𝖑',
      '*',
      '\\',
    ),
  },
);

/** A uint64 nanosecond time as OTLP/JSON writes it: mostly within the last hour, sometimes at the ends of the type. */
const timestamp: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .integer({ min: -3_600_000, max: 60_000 })
      .map((ms) => (BigInt(Date.now() + ms) * 1_000_000n).toString()),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '0',
      '1',
      '999999',
      '9223372036854775807',
      '9223372036854775808',
      '18446744073709551615',
    ),
  },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String) },
);

const uint64 = fc
  .oneof(fc.bigInt({ min: 0n, max: 1000n }), fc.constantFrom(0n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n))
  .map(String);
const int64 = fc
  .oneof(fc.bigInt({ min: -1000n, max: 1000n }), fc.constantFrom(-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n))
  .map(String);
const uint32 = fc.oneof(fc.nat(10), fc.constant(2 ** 32 - 1));
/** A double as proto3 JSON writes one: the non-finite ones as strings. */
const double: fc.Arbitrary<Json> = fc
  .double()
  .map((d) => (Number.isNaN(d) ? 'NaN' : d === Infinity ? 'Infinity' : d === -Infinity ? '-Infinity' : d));

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
/** A trace (16) or span (8) id: mostly valid, sometimes all zero or of any length. */
const id = (length: number): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.uint8Array({ minLength: length, maxLength: length }).map(hex) },
    { weight: 1, arbitrary: fc.constant('00'.repeat(length)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map(hex) },
  );

const base64 = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64'));

/** An AnyValue in OTLP/JSON form, nested a few levels (deeper ones come from `deepAnyValueCase`). */
const anyValue: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ stringValue: hostileString }),
    fc.record({ boolValue: fc.boolean() }),
    fc.record({ intValue: int64 }),
    fc.record({ doubleValue: double }),
    fc.record({ bytesValue: base64 }),
    fc.record({ arrayValue: fc.record({ values: fc.array(tie('value'), { maxLength: 4 }) }) }),
    fc.record({
      kvlistValue: fc.record({
        values: fc.array(fc.record({ key: hostileString, value: tie('value') }), { maxLength: 4 }),
      }),
    }),
    fc.constant({}),
  ),
})).value;

/**
 * Attributes with keys from `key`: a few, or sometimes many (past the 128 an SDK keeps).
 */
const attributes = (key: fc.Arbitrary<string>): fc.Arbitrary<Json[]> =>
  fc.oneof(
    { weight: 40, arbitrary: fc.array(fc.record({ key, value: anyValue }), { maxLength: 4 }) },
    {
      weight: 1,
      arbitrary: fc.array(fc.record({ key, value: fc.record({ stringValue: fc.string({ maxLength: 8 }) }) }), {
        minLength: 129,
        maxLength: 200,
      }),
    },
  );

const resource = (service: string, key: fc.Arbitrary<string>): fc.Arbitrary<Json> =>
  fc.record({ attributes: attributes(key), droppedAttributesCount: uint32 }).map((r) => ({
    ...r,
    attributes: [{ key: 'service.name', value: { stringValue: service } }, ...r.attributes],
  }));

const scope = (key: fc.Arbitrary<string>): fc.Arbitrary<Json> =>
  fc.record(
    { name: hostileString, version: hostileString, attributes: attributes(key), droppedAttributesCount: uint32 },
    { requiredKeys: [] },
  );

const exemplar: fc.Arbitrary<Json> = fc.record(
  {
    filteredAttributes: attributes(hostileString),
    timeUnixNano: timestamp,
    asDouble: double,
    spanId: id(8),
    traceId: id(16),
  },
  { requiredKeys: ['timeUnixNano'] },
);

const numberPoint: fc.Arbitrary<Json> = fc
  .tuple(
    fc.record(
      {
        attributes: attributes(hostileString),
        startTimeUnixNano: timestamp,
        timeUnixNano: timestamp,
        exemplars: fc.array(exemplar, { maxLength: 2 }),
        flags: uint32,
      },
      { requiredKeys: ['attributes', 'timeUnixNano'] },
    ),
    fc.oneof(fc.record({ asDouble: double }), fc.record({ asInt: int64 }), fc.constant({})),
  )
  .map(([point, value]) => ({ ...point, ...value }));

const histogramPoint: fc.Arbitrary<Json> = fc.record(
  {
    attributes: attributes(hostileString),
    startTimeUnixNano: timestamp,
    timeUnixNano: timestamp,
    count: uint64,
    sum: double,
    bucketCounts: fc.array(uint64, { maxLength: 12 }),
    explicitBounds: fc.array(double, { maxLength: 12 }),
    min: double,
    max: double,
    flags: uint32,
  },
  { requiredKeys: ['timeUnixNano', 'count'] },
);

const buckets = fc.record({
  offset: fc.oneof(fc.integer({ min: -10, max: 10 }), fc.constantFrom(-(2 ** 31), 2 ** 31 - 1)),
  bucketCounts: fc.array(uint64, { maxLength: 12 }),
});

const exponentialPoint: fc.Arbitrary<Json> = fc.record(
  {
    attributes: attributes(hostileString),
    timeUnixNano: timestamp,
    count: uint64,
    sum: double,
    scale: fc.oneof(fc.integer({ min: -10, max: 20 }), fc.constantFrom(-(2 ** 31), 2 ** 31 - 1)),
    zeroCount: uint64,
    positive: buckets,
    negative: buckets,
    min: double,
    max: double,
    zeroThreshold: double,
  },
  { requiredKeys: ['timeUnixNano', 'count'] },
);

const summaryPoint: fc.Arbitrary<Json> = fc.record(
  {
    attributes: attributes(hostileString),
    timeUnixNano: timestamp,
    count: uint64,
    sum: double,
    quantileValues: fc.array(fc.record({ quantile: double, value: double }), { maxLength: 4 }),
  },
  { requiredKeys: ['timeUnixNano'] },
);

const points = (point: fc.Arbitrary<Json>) => fc.array(point, { maxLength: 4 });
const temporality = fc.constantFrom(0, 1, 2);

const metricData: fc.Arbitrary<Json> = fc.oneof(
  fc.record({ gauge: fc.record({ dataPoints: points(numberPoint) }) }),
  fc.record({
    sum: fc.record({ dataPoints: points(numberPoint), aggregationTemporality: temporality, isMonotonic: fc.boolean() }),
  }),
  fc.record({ histogram: fc.record({ dataPoints: points(histogramPoint), aggregationTemporality: temporality }) }),
  fc.record({
    exponentialHistogram: fc.record({ dataPoints: points(exponentialPoint), aggregationTemporality: temporality }),
  }),
  fc.record({ summary: fc.record({ dataPoints: points(summaryPoint) }) }),
  fc.constant({}),
);

const metric: fc.Arbitrary<Json> = fc
  .tuple(
    fc.record(
      {
        name: fc.oneof(fc.constantFrom('http_requests_total', 'cpu.usage', 'fuzz_metric'), hostileString),
        unit: hostileString,
        description: hostileString,
      },
      { requiredKeys: ['name'] },
    ),
    metricData,
  )
  .map(([m, data]) => ({ ...m, ...(data as JsonObject) }));

// Keys of what the logs subgraph stores become fields of the shared Elasticsearch index's mapping (labels.*,
// resource.*; at most 1,000 fields): the fuzz takes its log keys from a fixed set so that runs never grow it.
export const LOG_KEYS = ['fuzz.key', 'fuzz.other', 'region', 'user.id', 'http.method', 'a..b', '.', ' ', ''];
const logKey = fc.constantFrom(...LOG_KEYS);

const logRecord: fc.Arbitrary<Json> = fc.record(
  {
    timeUnixNano: timestamp,
    observedTimeUnixNano: timestamp,
    severityNumber: fc.integer({ min: 0, max: 24 }),
    severityText: hostileString,
    body: anyValue,
    attributes: attributes(logKey),
    droppedAttributesCount: uint32,
    flags: uint32,
    traceId: id(16),
    spanId: id(8),
    eventName: hostileString,
  },
  { requiredKeys: ['timeUnixNano', 'body'] },
);

const spanKind = fc.constantFrom(0, 1, 2, 3, 4, 5);

const span: fc.Arbitrary<Json> = fc.record(
  {
    traceId: id(16),
    spanId: id(8),
    parentSpanId: id(8),
    traceState: hostileString,
    flags: uint32,
    name: hostileString,
    kind: spanKind,
    startTimeUnixNano: timestamp,
    endTimeUnixNano: timestamp,
    attributes: attributes(hostileString),
    droppedAttributesCount: uint32,
    events: fc.array(
      fc.record(
        { timeUnixNano: timestamp, name: hostileString, attributes: attributes(hostileString) },
        { requiredKeys: [] },
      ),
      { maxLength: 3 },
    ),
    links: fc.array(
      fc.record(
        { traceId: id(16), spanId: id(8), traceState: hostileString, attributes: attributes(hostileString) },
        { requiredKeys: [] },
      ),
      { maxLength: 2 },
    ),
    status: fc.record({ code: fc.constantFrom(0, 1, 2), message: hostileString }, { requiredKeys: [] }),
  },
  { requiredKeys: ['traceId', 'spanId', 'name', 'startTimeUnixNano', 'endTimeUnixNano'] },
);

/** A request of `signal` whose service is `service`, every value valid proto3 JSON. */
function request(signal: OtlpSignal, service: string): fc.Arbitrary<JsonObject> {
  const key = signal === 'logs' ? logKey : hostileString;
  const [scopes, items, item] =
    signal === 'metrics'
      ? ['scopeMetrics', 'metrics', metric]
      : signal === 'logs'
        ? ['scopeLogs', 'logRecords', logRecord]
        : ['scopeSpans', 'spans', span];
  const scoped = fc.record(
    { scope: scope(key), [items]: fc.array(item, { minLength: 1, maxLength: 4 }), schemaUrl: hostileString },
    { requiredKeys: [items] },
  );
  const resourced = fc.record(
    {
      resource: resource(service, key),
      [scopes]: fc.array(scoped, { minLength: 1, maxLength: 2 }),
      schemaUrl: hostileString,
    },
    { requiredKeys: ['resource', scopes] },
  );
  return fc.oneof(
    {
      weight: 12,
      arbitrary: fc.array(resourced, { minLength: 1, maxLength: 2 }).map((list) => ({ [TOP_FIELD[signal]]: list })),
    },
    { weight: 1, arbitrary: fc.constant({}) },
  );
}

const ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);

/**
 * The proto3 JSON of an OTLP/JSON value: ids from hex to base64, and strings made well-formed (protobuf strings are
 * UTF-8, which a lone surrogate has no encoding in; broken UTF-8 comes from the byte mutations).
 */
function asProto3Json(json: Json): Json {
  if (typeof json === 'string') return Buffer.from(json).toString();
  if (Array.isArray(json)) return json.map(asProto3Json);
  if (json === null || typeof json !== 'object') return json;
  return Object.fromEntries(
    Object.entries(json).map(([key, value]) => [
      key,
      ID_KEYS.has(key) && typeof value === 'string'
        ? Buffer.from(value, 'hex').toString('base64')
        : asProto3Json(value),
    ]),
  );
}

function toProtobuf(signal: OtlpSignal, json: JsonObject): Uint8Array {
  const schema = REQUEST_SCHEMAS[signal];
  return toBinary(schema, fromJson(schema, asProto3Json(json)));
}

/** Every path to a value in `json`, objects and arrays included. */
function paths(json: Json, at: (string | number)[] = []): (string | number)[][] {
  const own = at.length === 0 ? [] : [at];
  if (Array.isArray(json)) return [...own, ...json.flatMap((v, i) => paths(v, [...at, i]))];
  if (json !== null && typeof json === 'object')
    return [...own, ...Object.entries(json).flatMap(([k, v]) => paths(v, [...at, k]))];
  return own;
}

function setAt(json: Json, path: (string | number)[], value: Json | undefined): Json {
  if (path.length === 0) return value ?? null;
  const [head, ...rest] = path;
  if (Array.isArray(json)) {
    const copy = [...json];
    if (value === undefined && rest.length === 0) copy.splice(Number(head), 1);
    else copy[Number(head)] = setAt(copy[Number(head)] ?? null, rest, value);
    return copy;
  }
  const copy = { ...(json as JsonObject) };
  if (value === undefined && rest.length === 0) delete copy[String(head)];
  else copy[String(head)] = setAt(copy[String(head)] ?? null, rest, value);
  return copy;
}

/** The fields of OTLP/JSON that are strings in protobuf too (the 64-bit integers are strings in JSON only). */
const STRING_FIELDS = new Set([
  'stringValue',
  'name',
  'description',
  'unit',
  'severityText',
  'message',
  'version',
  'traceState',
  'eventName',
  'schemaUrl',
]);

const hugeStrings = fc.oneof(
  { weight: 3, arbitrary: fc.constant<{ length: number; char: string; at: number }[]>([]) },
  { weight: 1, arbitrary: fc.array(huge, { minLength: 1, maxLength: 2 }) },
);

/** `request` with some of its strings (a name, a key, a value) made huge: the poison items of issue 17. */
function withHugeStrings(
  signal: OtlpSignal,
  request: JsonObject,
  strings: readonly { length: number; char: string; at: number }[],
  how: string[],
): JsonObject {
  let json: Json = request;
  // Keys of logs are the shared index's fields (see LOG_KEYS).
  const fields = signal === 'logs' ? STRING_FIELDS : new Set([...STRING_FIELDS, 'key']);
  for (const { length, char, at } of strings) {
    const candidates = paths(json).filter((p) => fields.has(String(p.at(-1))) && typeof valueAt(json, p) === 'string');
    const path = candidates[at % Math.max(1, candidates.length)];
    if (path === undefined) continue;
    json = setAt(json, path, char.repeat(length));
    how.push(`${path.join('.')} = ${JSON.stringify(char)} x ${length}`);
  }
  return json as JsonObject;
}

function valueAt(json: Json, path: readonly (string | number)[]): Json | undefined {
  let at: Json | undefined = json;
  for (const step of path) at = at !== null && typeof at === 'object' ? (at as Record<string, Json>)[step] : undefined;
  return at;
}

/** JSON text that JSON.stringify cannot write: non-finite numbers, integers past 64 bits, negative times. */
const RAW_TOKENS = [
  'NaN',
  'Infinity',
  '-Infinity',
  '1e999',
  '-1',
  '-0',
  '1.5',
  '18446744073709551616',
  '-9223372036854775809',
  '0x10',
  '1e30',
  '99999999999999999999999999',
  'undefined',
  'tru',
];
const WRONG_VALUES: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json>(
    '',
    '-1',
    'NaN',
    '1e30',
    'zz',
    'abc',
    'A'.repeat(32),
    'ff'.repeat(1000),
    [],
    {},
    null,
    true,
    -1,
    1.5,
    2 ** 64,
  ),
);

type JsonMutation =
  | { readonly kind: 'set'; readonly at: number; readonly value: Json }
  | { readonly kind: 'delete'; readonly at: number }
  | { readonly kind: 'raw'; readonly at: number; readonly token: string };

const jsonMutation: fc.Arbitrary<JsonMutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: WRONG_VALUES }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('raw' as const), at: fc.nat(), token: fc.constantFrom(...RAW_TOKENS) }),
);

type TextMutation =
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'bom' }
  | { readonly kind: 'garbage'; readonly bytes: Uint8Array };
const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('bom' as const) }),
  fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
);

type ByteMutation =
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'flip'; readonly at: number; readonly xor: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array };
const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    xor: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }),
  }),
);

const position = (fraction: number, length: number) => Math.min(length, Math.floor(fraction * length));

function mutateBytes(bytes: Uint8Array, mutation: ByteMutation): Uint8Array {
  const at = position(mutation.at, bytes.length);
  switch (mutation.kind) {
    case 'truncate':
      return bytes.subarray(0, at);
    case 'flip': {
      const copy = Uint8Array.from(bytes);
      if (copy.length > 0) copy[Math.min(at, copy.length - 1)]! ^= mutation.xor;
      return copy;
    }
    case 'insert':
      return Buffer.concat([bytes.subarray(0, at), mutation.bytes, bytes.subarray(at)]);
  }
}

function describeByteMutation(m: ByteMutation): string {
  return m.kind === 'truncate'
    ? `bytes cut at ${m.at.toFixed(3)}`
    : m.kind === 'flip'
      ? `byte at ${m.at.toFixed(3)} ^ ${m.xor}`
      : `${m.bytes.length} bytes inserted at ${m.at.toFixed(3)}`;
}

/** JSON text of `json` with the mutations applied; raw tokens go in as markers replaced in the text. */
function mutatedJsonText(
  signal: OtlpSignal,
  json: JsonObject,
  mutations: readonly JsonMutation[],
  how: string[],
): string {
  let mutated: Json = json;
  const raws: string[] = [];
  for (const mutation of mutations) {
    // A string in place of a log attribute's key would be a new field in the shared index's mapping.
    const candidates = paths(mutated).filter((p) => !(signal === 'logs' && p.at(-1) === 'key'));
    const path = candidates[mutation.at % Math.max(1, candidates.length)];
    if (
      path === undefined ||
      (signal === 'logs' && mutation.kind === 'set' && JSON.stringify(mutation.value).includes('"key"'))
    )
      continue;
    const where = path.join('.');
    if (mutation.kind === 'delete') {
      mutated = setAt(mutated, path, undefined);
      how.push(`deleted ${where}`);
    } else if (mutation.kind === 'set') {
      mutated = setAt(mutated, path, mutation.value);
      how.push(`${where} = ${JSON.stringify(mutation.value).slice(0, 80)}`);
    } else {
      mutated = setAt(mutated, path, `@@raw${raws.length}@@`);
      raws.push(mutation.token);
      how.push(`${where} = ${mutation.token} (raw)`);
    }
  }
  return raws.reduce((text, token, i) => text.replace(`"@@raw${i}@@"`, token), JSON.stringify(mutated));
}

function mutateText(text: string, mutation: TextMutation, how: string[]): Uint8Array {
  const bytes = Buffer.from(text);
  switch (mutation.kind) {
    case 'truncate':
      how.push(`text cut at ${mutation.at.toFixed(3)}`);
      return bytes.subarray(0, position(mutation.at, bytes.length));
    case 'bom':
      how.push('byte order mark first');
      return Buffer.concat([Buffer.from('\ufeff'), bytes]);
    case 'garbage':
      how.push(`${mutation.bytes.length} random bytes appended`);
      return Buffer.concat([bytes, mutation.bytes]);
  }
}

type Compression = 'none' | 'gzip' | 'gzip-truncated' | 'gzip-flipped' | 'gzip-header-only' | 'gzip-bomb' | 'br';
const compression: fc.Arbitrary<Compression> = fc.oneof(
  { weight: 12, arbitrary: fc.constant('none' as const) },
  { weight: 3, arbitrary: fc.constant('gzip' as const) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'gzip-truncated' as const,
      'gzip-flipped' as const,
      'gzip-header-only' as const,
      'gzip-bomb' as const,
      'br' as const,
    ),
  },
);

/** 64 MiB of zeros, gzipped once (about 64 KiB): past the 20 MiB a body may decompress to. */
let bomb: Buffer | undefined;

function compress(body: Uint8Array, how: Compression): { body: Uint8Array; contentEncoding: string | undefined } {
  switch (how) {
    case 'none':
      return { body, contentEncoding: undefined };
    case 'gzip':
      return { body: gzipSync(body), contentEncoding: 'gzip' };
    case 'gzip-truncated': {
      const gz = gzipSync(body);
      return { body: gz.subarray(0, Math.floor(gz.length / 2)), contentEncoding: 'gzip' };
    }
    case 'gzip-flipped': {
      const gz = gzipSync(body);
      gz[Math.floor(gz.length / 2)]! ^= 0x5a;
      return { body: gz, contentEncoding: 'gzip' };
    }
    case 'gzip-header-only':
      return { body, contentEncoding: 'gzip' };
    case 'gzip-bomb':
      bomb ??= gzipSync(Buffer.alloc(64 * 1024 * 1024));
      return { body: bomb, contentEncoding: 'gzip' };
    case 'br':
      return { body, contentEncoding: 'br' };
  }
}

const CONTENT_TYPES: { readonly [E in OtlpEncoding]: readonly string[] } = {
  json: ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON'],
  protobuf: ['application/x-protobuf', 'application/protobuf', 'application/x-protobuf; charset=binary'],
};

const contentType = (encoding: OtlpEncoding) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constant(CONTENT_TYPES[encoding][0]!) },
    { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES[encoding]) },
    { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', '') },
  );

function makeCase(
  signal: OtlpSignal,
  encoding: OtlpEncoding,
  type: string,
  plain: Uint8Array,
  squeeze: Compression,
  how: string[],
): OtlpCase {
  const { body, contentEncoding } = compress(plain, squeeze);
  if (squeeze !== 'none') how.push(squeeze);
  const made = { signal, encoding, contentType: type, contentEncoding, body, how };
  return Object.assign(made, {
    [fc.toStringMethod]: () =>
      `${signal} ${encoding} (${type || 'no content type'}${contentEncoding === undefined ? '' : `, ${contentEncoding}`}), ${body.length} bytes: ${how.join('; ') || 'as generated'}`,
  });
}

/** A request of the signal in OTLP/JSON: valid hostile values, then wrong types, raw tokens, a broken text. */
function jsonCase(signal: OtlpSignal, service: string): fc.Arbitrary<OtlpCase> {
  return fc
    .record({
      request: request(signal, service),
      mutations: fc.oneof(
        { weight: 2, arbitrary: fc.constant<JsonMutation[]>([]) },
        { weight: 1, arbitrary: fc.array(jsonMutation, { minLength: 1, maxLength: 3 }) },
      ),
      text: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: textMutation }),
      huge: hugeStrings,
      type: contentType('json'),
      squeeze: compression,
    })
    .map(({ request, mutations, text, huge, type, squeeze }) => {
      const how: string[] = [];
      const json = mutatedJsonText(signal, withHugeStrings(signal, request, huge, how), mutations, how);
      return makeCase(
        signal,
        'json',
        type,
        text === null ? Buffer.from(json) : mutateText(json, text, how),
        squeeze,
        how,
      );
    });
}

/** The same requests in protobuf, their bytes cut, flipped or added to. */
function protobufCase(signal: OtlpSignal, service: string): fc.Arbitrary<OtlpCase> {
  return fc
    .record({
      request: request(signal, service),
      mutations: fc.oneof(
        { weight: 3, arbitrary: fc.constant<ByteMutation[]>([]) },
        { weight: 2, arbitrary: fc.array(byteMutation, { minLength: 1, maxLength: 3 }) },
      ),
      huge: hugeStrings,
      type: contentType('protobuf'),
      squeeze: compression,
    })
    .map(({ request, mutations, huge, type, squeeze }) => {
      const how: string[] = [];
      const valid = toProtobuf(signal, withHugeStrings(signal, request, huge, how));
      how.push(...mutations.map(describeByteMutation));
      const bytes = mutations.reduce(mutateBytes, valid);
      return makeCase(signal, 'protobuf', type, bytes, squeeze, how);
    });
}

function randomBytesCase(signal: OtlpSignal): fc.Arbitrary<OtlpCase> {
  return fc
    .record({
      bytes: fc.uint8Array({ maxLength: 512 }),
      encoding: fc.constantFrom<OtlpEncoding>('protobuf', 'json'),
      squeeze: compression,
    })
    .map(({ bytes, encoding, squeeze }) =>
      makeCase(signal, encoding, CONTENT_TYPES[encoding][0]!, bytes, squeeze, ['random bytes']),
    );
}

/** Protobuf's length-delimited field. */
function field(number: number, bytes: Uint8Array): Uint8Array {
  return Buffer.concat([varint((number << 3) | 2), varint(bytes.length), bytes]);
}

function varint(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/**
 * A resource attribute `fuzz.key` whose AnyValue nests `depth` arrays or lists, written by hand (the protobuf and
 * JSON writers of this process recurse, and give up long before a server must).
 */
function deepAnyValueCase(signal: OtlpSignal, service: string): fc.Arbitrary<OtlpCase> {
  return fc
    .record({
      depth: fc.constantFrom(16, 64, 99, 100, 101, 128, 1_000, 20_000, 200_000),
      list: fc.boolean(),
      encoding: fc.constantFrom<OtlpEncoding>('protobuf', 'json'),
      squeeze: fc.constantFrom<Compression>('none', 'gzip'),
    })
    .map(({ depth, list, encoding, squeeze }) => {
      const how = [`resource attribute nested ${depth} ${list ? 'kvlists' : 'arrays'} deep`];
      let body: Uint8Array;
      if (encoding === 'json') {
        const open = list ? '{"kvlistValue":{"values":[{"key":"k","value":' : '{"arrayValue":{"values":[';
        const close = list ? '}]}}' : ']}}';
        const value = `${open.repeat(depth)}{"stringValue":"x"}${close.repeat(depth)}`;
        const attribute = `{"key":"fuzz.key","value":${value}}`;
        body = Buffer.from(
          `{"${TOP_FIELD[signal]}":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":${JSON.stringify(service)}}},${attribute}]}}]}`,
        );
      } else {
        // AnyValue: string_value 1, array_value 5, kvlist_value 6; ArrayValue/KeyValueList: values 1; KeyValue: key 1, value 2.
        let value = field(1, Buffer.from('x'));
        for (let i = 0; i < depth; i++)
          value = list
            ? field(6, field(1, Buffer.concat([field(1, Buffer.from('k')), field(2, value)])))
            : field(5, field(1, value));
        const attribute = (key: string, v: Uint8Array) =>
          field(1, Buffer.concat([field(1, Buffer.from(key)), field(2, v)]));
        const resourceBytes = Buffer.concat([
          attribute('service.name', field(1, Buffer.from(service))),
          attribute('fuzz.key', value),
        ]);
        body = field(1, field(1, resourceBytes));
      }
      return makeCase(signal, encoding, CONTENT_TYPES[encoding][0]!, body, squeeze, how);
    });
}

/** Every kind of hostile body for `signal`, all naming `service`. */
export function otlpCase(signal: OtlpSignal, service: string): fc.Arbitrary<OtlpCase> {
  return fc.oneof(
    { weight: 8, arbitrary: jsonCase(signal, service) },
    { weight: 8, arbitrary: protobufCase(signal, service) },
    { weight: 1, arbitrary: randomBytesCase(signal) },
    { weight: 1, arbitrary: deepAnyValueCase(signal, service) },
  );
}

/** A small valid request of `signal` now, in protobuf: what a healthy agent sends. */
export function healthyRequest(signal: OtlpSignal, service: string): Uint8Array {
  const now = (BigInt(Date.now()) * 1_000_000n).toString();
  const resourceJson = { attributes: [{ key: 'service.name', value: { stringValue: service } }] };
  const json: JsonObject =
    signal === 'metrics'
      ? {
          resourceMetrics: [
            {
              resource: resourceJson,
              scopeMetrics: [
                { metrics: [{ name: 'fuzz_healthy', gauge: { dataPoints: [{ timeUnixNano: now, asDouble: 1 }] } }] },
              ],
            },
          ],
        }
      : signal === 'logs'
        ? {
            resourceLogs: [
              {
                resource: resourceJson,
                scopeLogs: [{ logRecords: [{ timeUnixNano: now, body: { stringValue: 'healthy' } }] }],
              },
            ],
          }
        : {
            resourceSpans: [
              {
                resource: resourceJson,
                scopeSpans: [
                  {
                    spans: [
                      {
                        traceId: hex(crypto.getRandomValues(new Uint8Array(16))),
                        spanId: hex(crypto.getRandomValues(new Uint8Array(8))),
                        name: 'healthy',
                        startTimeUnixNano: now,
                        endTimeUnixNano: now,
                      },
                    ],
                  },
                ],
              },
            ],
          };
  return toProtobuf(signal, json);
}
