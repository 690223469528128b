import { type MessageInitShape, create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { otlp } from '@heimdall/shared/otlp';
import { DROPPED_ATTRIBUTES_LABEL, INGEST_LIMITS, TRUNCATED_LABEL } from './ingest-limits.js';
import { severityLevel, toLogDocuments } from './otlp-logs.js';
import { msToNanos } from './timestamps.js';

type RecordInit = MessageInitShape<typeof otlp.LogRecordSchema>;
type AnyValueInit = MessageInitShape<typeof otlp.AnyValueSchema>;

const NOW = Date.UTC(2026, 10, 22, 10);
const text = (value: string): AnyValueInit => ({ value: { case: 'stringValue', value } });
const attrs = (values: Record<string, AnyValueInit>) => Object.entries(values).map(([key, value]) => ({ key, value }));

/** A record a second before NOW with a Korean body; `init` overrides either. */
function makeRecord(init: RecordInit = {}) {
  const record = create(otlp.LogRecordSchema, init);
  if (!('timeUnixNano' in init)) record.timeUnixNano = msToNanos(NOW - 1000) + 123_456n;
  if (!('body' in init)) record.body = create(otlp.AnyValueSchema, text('결제 요청이 실패했습니다'));
  return record;
}

function makeRequest(
  records: ReturnType<typeof makeRecord>[],
  resource: Record<string, AnyValueInit> = { 'service.name': text('checkout') },
  scope = { name: 'app.logger', version: '1.2.0' },
) {
  return create(otlp.ExportLogsServiceRequestSchema, {
    resourceLogs: [{ resource: { attributes: attrs(resource) }, scopeLogs: [{ scope, logRecords: records }] }],
  });
}

const only = (request: ReturnType<typeof makeRequest>) => {
  const result = toLogDocuments(request, NOW);
  expect(result.documents).toHaveLength(1);
  return result.documents[0]!.document;
};

describe('severity of an OTLP record', () => {
  it('maps each group of four severity numbers to its level, TRACE to DEBUG', () => {
    const levels = Array.from({ length: 24 }, (_, i) => severityLevel(i + 1, ''));
    expect(levels).toEqual([
      ...Array<string>(8).fill('DEBUG'),
      ...Array<string>(4).fill('INFO'),
      ...Array<string>(4).fill('WARN'),
      ...Array<string>(4).fill('ERROR'),
      ...Array<string>(4).fill('FATAL'),
    ]);
  });

  it('lets the severity text decide when the number is unspecified', () => {
    expect(['Information', 'warning', 'Err', 'FATAL'].map((t) => severityLevel(0, t))).toEqual([
      'INFO',
      'WARN',
      'ERROR',
      'FATAL',
    ]);
  });

  it('prefers the number over the text, and says INFO when neither is known', () => {
    expect(severityLevel(otlp.SeverityNumber.ERROR, 'info')).toBe('ERROR');
    expect(severityLevel(0, '')).toBe('INFO');
    const fromANewerOtlp: number = 99;
    expect(severityLevel(fromANewerOtlp, 'whatever')).toBe('INFO');
  });

  it('keeps the severity text and number on the document', () => {
    const doc = only(makeRequest([makeRecord({ severityNumber: otlp.SeverityNumber.WARN2, severityText: 'Warning' })]));
    expect(doc).toMatchObject({ level: 'WARN', severityText: 'Warning', severityNumber: 14 });
  });

  it('drops a severity number OTLP does not define, so the store does not refuse the record for it, and says so', () => {
    const result = toLogDocuments(
      makeRequest([makeRecord({ severityNumber: 300 as otlp.SeverityNumber, severityText: 'warning' })]),
      NOW,
    );
    expect(result.documents[0]?.document).toMatchObject({ level: 'WARN', severityText: 'warning' });
    expect(result.documents[0]?.document).not.toHaveProperty('severityNumber');
    expect(result.rejected).toBe(0);
    expect(result.errors).toEqual([
      'severityNumber must be 1-24; other values were dropped and the severity text decided the level',
    ]);
  });
});

describe('an OTLP record as a document', () => {
  it('has the time to the nanosecond, the message, the service and the scope', () => {
    const doc = only(makeRequest([makeRecord()]));
    expect(doc).toMatchObject({
      timestamp: '2026-11-22T09:59:59.000123456Z',
      message: '결제 요청이 실패했습니다',
      service: 'checkout',
      scope: { name: 'app.logger', version: '1.2.0' },
      level: 'INFO',
    });
    expect(doc.metadata?.body).toBeUndefined();
  });

  it('keeps the scope when it has a name, a version or attributes, its attributes apart from the labels', () => {
    const scopeAttributes = attrs({ 'library.language': text('go') });
    const withAll = toLogDocuments(
      create(otlp.ExportLogsServiceRequestSchema, {
        resourceLogs: [
          {
            resource: { attributes: attrs({ 'service.name': text('checkout') }) },
            scopeLogs: [
              {
                scope: { name: 'app.logger', version: '1.2.0', attributes: scopeAttributes },
                logRecords: [makeRecord({ attributes: attrs({ region: text('kr') }) })],
              },
              { scope: { version: '2.0.0' }, logRecords: [makeRecord()] },
              { scope: { attributes: scopeAttributes }, logRecords: [makeRecord()] },
              { scope: {}, logRecords: [makeRecord()] },
            ],
          },
        ],
      }),
      NOW,
    ).documents.map((d) => d.document);
    expect(withAll.map((doc) => [doc.scope, doc.metadata?.scopeAttributes])).toEqual([
      [{ name: 'app.logger', version: '1.2.0' }, { 'library.language': 'go' }],
      [{ name: '', version: '2.0.0' }, undefined],
      [{ name: '' }, { 'library.language': 'go' }],
      [undefined, undefined],
    ]);
    expect(withAll[0]!.labels).toEqual({ region: 'kr' });
  });

  it('renders a structured body as the message and keeps its structure in metadata', () => {
    const body: AnyValueInit = {
      value: {
        case: 'kvlistValue',
        value: {
          values: attrs({
            event: text('login'),
            attempts: { value: { case: 'intValue', value: 3n } },
            big: { value: { case: 'intValue', value: 2n ** 60n } },
            tags: {
              value: {
                case: 'arrayValue',
                value: { values: [text('a'), { value: { case: 'boolValue', value: true } }] },
              },
            },
          }),
        },
      },
    };
    const doc = only(makeRequest([makeRecord({ body })]));
    expect(doc.metadata?.body).toEqual({ event: 'login', attempts: 3, big: '1152921504606846976', tags: ['a', true] });
    expect(JSON.parse(doc.message)).toEqual(doc.metadata?.body);
  });

  it('uses the event name as the message of an event without a body', () => {
    const doc = only(makeRequest([makeRecord({ body: undefined, eventName: 'session.start' })]));
    expect(doc.message).toBe('session.start');
    expect(doc.metadata?.eventName).toBe('session.start');
  });

  it('turns attributes into string labels, whatever their type', () => {
    const attributes = attrs({
      'http.method': text('GET'),
      'http.status_code': { value: { case: 'intValue', value: 503n } },
      retry: { value: { case: 'boolValue', value: false } },
      ratio: { value: { case: 'doubleValue', value: 0.25 } },
      raw: { value: { case: 'bytesValue', value: new Uint8Array([1, 2, 3]) } },
      '': text('no key'),
      ' ': text('blank key'),
    });
    expect(only(makeRequest([makeRecord({ attributes })])).labels).toEqual({
      'http.method': 'GET',
      'http.status_code': '503',
      retry: 'false',
      ratio: '0.25',
      raw: 'AQID',
    });
  });

  it('keeps every resource attribute and says unknown_service when service.name is missing', () => {
    const doc = only(
      makeRequest([makeRecord()], {
        'host.name': text('web-1'),
        'process.pid': { value: { case: 'intValue', value: 42n } },
      }),
    );
    expect(doc.service).toBe('unknown_service');
    expect(doc.resource).toEqual({ 'host.name': 'web-1', 'process.pid': '42' });
  });

  it('moves the stack trace out of the labels, and reads user and request ids from the usual attributes', () => {
    const attributes = attrs({
      'exception.type': text('SQLException'),
      'exception.stacktrace': text('java.sql.SQLException: timeout\n\tat Db.query(Db.java:42)'),
      'enduser.id': text('kim'),
      'http.request.id': text('req-7'),
    });
    const doc = only(makeRequest([makeRecord({ attributes })]));
    expect(doc.stackTrace).toBe('java.sql.SQLException: timeout\n\tat Db.query(Db.java:42)');
    expect(doc.labels).toEqual({ 'exception.type': 'SQLException', 'enduser.id': 'kim', 'http.request.id': 'req-7' });
    expect(doc).toMatchObject({ userId: 'kim', requestId: 'req-7' });
  });

  it('prefers user.id over enduser.id and request.id over http.request.id', () => {
    const attributes = attrs({
      'enduser.id': text('old'),
      'user.id': text('new'),
      'http.request.id': text('h'),
      'request.id': text('r'),
    });
    expect(only(makeRequest([makeRecord({ attributes })]))).toMatchObject({ userId: 'new', requestId: 'r' });
  });

  it('writes trace and span ids as lowercase hex and drops empty, zero or mis-sized ones', () => {
    const traceId = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
    const spanId = Uint8Array.from({ length: 8 }, (_, i) => 0xf0 + i);
    expect(only(makeRequest([makeRecord({ traceId, spanId })]))).toMatchObject({
      traceId: 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf',
      spanId: 'f0f1f2f3f4f5f6f7',
    });

    const result = toLogDocuments(
      makeRequest([makeRecord({ traceId: new Uint8Array(16), spanId: new Uint8Array([1, 2, 3]) })]),
      NOW,
    );
    expect(result.documents[0]!.document.traceId).toBeUndefined();
    expect(result.documents[0]!.document.spanId).toBeUndefined();
    expect(result.rejected).toBe(0);
    expect(result.errors).toEqual(['spanId must be 8 bytes; dropped from the records that had another size']);
  });

  it('uses the observed time when the record has none, and the receipt time when neither is set', () => {
    const observed = msToNanos(NOW - 5000);
    expect(only(makeRequest([makeRecord({ timeUnixNano: 0n, observedTimeUnixNano: observed })])).timestamp).toBe(
      '2026-11-22T09:59:55.000000000Z',
    );
    expect(only(makeRequest([makeRecord({ timeUnixNano: 0n })])).timestamp).toBe('2026-11-22T10:00:00.000000000Z');
  });

  it('keeps the observed time whenever it is sent: different from the time, equal to it, or standing in for it', () => {
    const time = msToNanos(NOW - 1000) + 123_456n;
    const observed = msToNanos(NOW - 500);
    const observedOf = (init: RecordInit) => only(makeRequest([makeRecord(init)])).metadata?.observedTimestamp;
    expect(observedOf({ timeUnixNano: time, observedTimeUnixNano: observed })).toBe('2026-11-22T09:59:59.500000000Z');
    expect(observedOf({ timeUnixNano: time, observedTimeUnixNano: time })).toBe('2026-11-22T09:59:59.000123456Z');
    expect(observedOf({ timeUnixNano: 0n, observedTimeUnixNano: observed })).toBe('2026-11-22T09:59:59.500000000Z');
    expect(observedOf({ timeUnixNano: time })).toBeUndefined();
  });

  it("holds a record within the ingest limits, counting values cut and attributes left out, the sender's own included", () => {
    const many = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`a${i}`, text(String(i))]));
    const attributes = attrs({
      [`k${'e'.repeat(1_000)}`]: text('long key'),
      huge: text('x'.repeat(128 * 1024)),
      ...many,
    });
    const doc = only(
      makeRequest([makeRecord({ body: text('본'.repeat(1_100_000)), attributes, droppedAttributesCount: 2 })], {
        'service.name': text('s'.repeat(300)),
      }),
    );
    expect(doc.message).toHaveLength(INGEST_LIMITS.messageChars);
    expect(doc.service).toHaveLength(INGEST_LIMITS.nameChars);
    expect(doc.labels.huge).toHaveLength(INGEST_LIMITS.valueChars);
    expect(Object.keys(doc.labels)[0]).toHaveLength(INGEST_LIMITS.keyChars);
    expect(doc.labels[TRUNCATED_LABEL]).toBe('4'); // the message, the service, a key and a value
    expect(doc.labels[DROPPED_ATTRIBUTES_LABEL]).toBe(String(202 - INGEST_LIMITS.attributes + 2));
    expect(Object.keys(doc.labels)).toHaveLength(INGEST_LIMITS.attributes + 2);
  });

  it('rejects records older than 7 days or more than 10 minutes ahead, one by one', () => {
    const result = toLogDocuments(
      makeRequest([
        makeRecord({ timeUnixNano: msToNanos(NOW - 8 * 86_400_000) }),
        makeRecord(),
        makeRecord({ timeUnixNano: msToNanos(NOW + 11 * 60_000) }),
      ]),
      NOW,
    );
    expect(result.documents).toHaveLength(1);
    expect(result.rejected).toBe(2);
    expect(result.errors).toEqual(['log records must be at most 7 days old and 10 minutes ahead']);
  });
});

describe('document ids', () => {
  it('are the same when the same request is sent again', () => {
    const request = () => makeRequest([makeRecord(), makeRecord({ body: text('other') })]);
    const first = toLogDocuments(request(), NOW).documents.map((d) => d.id);
    const retry = toLogDocuments(request(), NOW + 60_000).documents.map((d) => d.id);
    expect(retry).toEqual(first);
    expect(first[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(toLogDocuments(request(), NOW).documents.map((d) => d.document.id)).toEqual(first);
  });

  it('differ when the resource, scope, time, body or attributes differ', () => {
    const base = toLogDocuments(makeRequest([makeRecord()]), NOW).documents[0]!.id;
    const variants = [
      makeRequest([makeRecord()], { 'service.name': text('payments') }),
      makeRequest([makeRecord()], undefined, { name: 'other.logger', version: '1.2.0' }),
      makeRequest([makeRecord({ timeUnixNano: msToNanos(NOW - 1000) + 123_457n })]),
      makeRequest([makeRecord({ body: text('결제 요청이 성공했습니다') })]),
      makeRequest([makeRecord({ attributes: attrs({ attempt: text('2') }) })]),
    ];
    const ids = variants.map((request) => toLogDocuments(request, NOW).documents[0]!.id);
    expect(new Set([base, ...ids]).size).toBe(6);
  });

  it('keep identical records of one request apart, and give a retry the same ids', () => {
    const request = () => makeRequest([makeRecord(), makeRecord(), makeRecord()]);
    const ids = toLogDocuments(request(), NOW).documents.map((d) => d.id);
    expect(new Set(ids).size).toBe(3);
    expect(toLogDocuments(request(), NOW).documents.map((d) => d.id)).toEqual(ids);
  });
});
