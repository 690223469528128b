import { create, fromBinary } from '@bufbuild/protobuf';
import { heimdallError } from '@heimdall/shared/errors';
import { type ExportTraceServiceRequest, decodeOtlpRequest, hexId, otlp } from '@heimdall/shared/otlp';
import { HttpStatusError, type ResiliencePolicy } from '@heimdall/shared/resilience';
import { badUserInput } from '@heimdall/shared/user-input';
import { type JaegerJsonTrace, otlpFromJaegerJson } from './jaeger-json.js';
import { encodeForJaeger } from './span-validation.js';
import { type SpanKind, type TraceModel, tracesFromOtlp } from './trace-model.js';

export interface JaegerOperation {
  readonly name: string;
  /** Empty when unknown. */
  readonly spanKind: SpanKind | '';
}

/** A service-to-service edge as Jaeger's dependencies API counts it: spans of `child` whose parent is in `parent`. */
export interface JaegerDependencyLink {
  readonly parent: string;
  readonly child: string;
  readonly callCount: number;
}

/** A trace search, as Jaeger's v1 search API takes it. Jaeger requires the service. */
export interface TraceQuery {
  readonly service: string;
  readonly operation?: string;
  /** Each must match a span, process or log tag of the service's spans (as text: `error` → `true`). */
  readonly tags?: Readonly<Record<string, string>>;
  readonly minDurationMs?: number;
  readonly maxDurationMs?: number;
  /** Only traces with a span of the service in error (tag `error=true`, which Jaeger sets for OTLP status ERROR). */
  readonly errorsOnly?: boolean;
  /** Span start times, ms since the epoch. */
  readonly start: number;
  readonly end: number;
  readonly limit: number;
}

export interface CallOptions {
  /** The caller's abort (the client went away). */
  readonly signal?: AbortSignal;
}

export interface JaegerStoreOptions {
  /** Jaeger's query API, e.g. http://127.0.0.1:16686. */
  readonly queryUrl: string;
  /** Jaeger's OTLP/HTTP traces receiver, e.g. http://127.0.0.1:14318/v1/traces. */
  readonly otlpUrl: string;
  /** Reads of the query API by key: a trace by id, services, operations. */
  readonly readPolicy: ResiliencePolicy;
  /**
   * Searches and the service map: a policy of their own, so that searches slow enough to time out (a badger
   * duration filter over many traces) open only their own breaker, not the one of reading traces by id.
   */
  readonly searchPolicy: ResiliencePolicy;
  /**
   * How long a search may run in Jaeger, under the search policy's timeout. A search past it is the caller's
   * LIMIT_EXCEEDED when Jaeger answers a look-up of its services within `probeTimeoutMs`, so that expensive searches
   * never open the breaker every user's searches share; when Jaeger answers nothing, it is Jaeger's failure.
   */
  readonly searchDeadline?: { readonly ms: number; readonly probeTimeoutMs: number };
  /**
   * Jaeger's service map: on badger it scans every span stored, whatever the range, so it may be slow where searches
   * are fast; a policy of its own (and a short timeout: the map can be computed from traces instead).
   */
  readonly dependenciesPolicy: ResiliencePolicy;
  /** Writes to the receiver: a policy of their own, so that a flood of pushes cannot starve the queries. */
  readonly writePolicy: ResiliencePolicy;
}

/** An export as its client sent it, in protobuf: forwarded as it is when every span of it is to be stored. */
export interface RawExport {
  readonly body: Uint8Array;
  readonly gzip: boolean;
}

/** What Jaeger did not store of a write, from its OTLP partial success. */
export interface JaegerWriteResult {
  readonly rejected: number;
  readonly errorMessage: string;
}

/**
 * Jaeger, the trace store (SPEC §5): spans are written through its OTLP/HTTP receiver and read through its query
 * API. The only module that talks to it; every call goes through the read or the write policy with its signal.
 */
export class JaegerStore {
  /** Reads of a trace by id in flight: entity fetches for many spans of one trace share one read. */
  private readonly tracesInFlight = new Map<string, Promise<TraceModel | undefined>>();

  constructor(private readonly options: JaegerStoreOptions) {}

  /**
   * Stores spans; resolves once Jaeger answered 200, which the stack's Jaeger gives only after writing them (no
   * batch processor, no exporter queue). Retried on connection errors, 429 and 5xx: a span stored twice reads
   * back once (trace-model.ts). A refusal for good (another 4xx, or badger's size errors, which Jaeger answers
   * 503) is no failure of Jaeger's: the spans are written again in halves until the refused ones are alone, which
   * are reported rejected with Jaeger's reason (after `MAX_ISOLATION_WRITES` more writes, the parts still refused
   * are rejected whole). With `raw`, the client's own bytes (the same spans as `request`) go to Jaeger, sparing
   * their encoding.
   */
  async write(
    request: ExportTraceServiceRequest,
    options: CallOptions & { readonly raw?: RawExport } = {},
  ): Promise<JaegerWriteResult> {
    const first = await this.writeOnce(
      request,
      options.raw ?? { body: encodeForJaeger(request), gzip: false },
      options,
    );
    if (first.refused === undefined) return first;

    const messages = new Set<string>();
    let rejected = 0;
    let writes = 0;
    const refused: { spans: SpanEntry[]; reason: string }[] = [{ spans: spanEntries(request), reason: first.refused }];
    for (let part = refused.pop(); part !== undefined; part = refused.pop()) {
      if (part.spans.length === 1 || writes >= MAX_ISOLATION_WRITES) {
        rejected += part.spans.length;
        messages.add(
          part.spans.length === 1
            ? `refused a span for good: ${part.reason}`
            : `refused spans for good: ${part.reason}`,
        );
        continue;
      }
      const middle = Math.ceil(part.spans.length / 2);
      for (const half of [part.spans.slice(0, middle), part.spans.slice(middle)]) {
        writes++;
        const halfRequest = requestOf(half);
        const result = await this.writeOnce(halfRequest, { body: encodeForJaeger(halfRequest), gzip: false }, options);
        if (result.refused !== undefined) refused.push({ spans: half, reason: result.refused });
        else {
          rejected += result.rejected;
          if (result.errorMessage !== '') messages.add(result.errorMessage);
        }
      }
    }
    return { rejected, errorMessage: [...messages].join('; ') };
  }

  /** One write; a refusal for good is returned with its reason, not thrown, so that the breaker counts it a success. */
  private writeOnce(
    request: ExportTraceServiceRequest,
    body: RawExport,
    options: CallOptions,
  ): Promise<JaegerWriteResult & { readonly refused?: string }> {
    const headers: Record<string, string> = {
      'content-type': 'application/x-protobuf',
      ...(body.gzip ? { 'content-encoding': 'gzip' } : {}),
    };
    return this.options.writePolicy.execute(
      async (signal) => {
        const response = await fetch(this.options.otlpUrl, {
          method: 'POST',
          headers,
          body: Buffer.from(body.body.buffer, body.body.byteOffset, body.body.byteLength),
          signal,
        });
        const answer = new Uint8Array(await response.arrayBuffer());
        if (response.ok) {
          // A read that began before these spans were stored must not answer readers that come after.
          if (this.tracesInFlight.size > 0) for (const id of traceIdsOf(request)) this.tracesInFlight.delete(id);
          return writeResult(answer);
        }
        const message = statusMessage(answer);
        const refusedForGood =
          (response.status >= 400 && response.status < 500 && response.status !== 429) || BADGER_REFUSAL.test(message);
        if (refusedForGood)
          return { rejected: 0, errorMessage: '', refused: firstLine(message) || `HTTP ${response.status}` };
        throw HttpStatusError.fromResponse(response);
      },
      { idempotent: true, signal: options.signal },
    );
  }

  async services(options: CallOptions = {}): Promise<string[]> {
    return (await this.getJson<{ data: string[] | null }>('/api/services', options))?.data ?? [];
  }

  /**
   * The operations (span names) of a service with their span kinds, only those of `spanKind` when given. Badger
   * records no kinds (it answers '' and ignores the filter); then the kinds come from the service's spans in its
   * newest traces of the last hour, and an operation not among them has kind '' (and no kind filter keeps it).
   */
  async operations(
    service: string,
    options: CallOptions & { readonly spanKind?: SpanKind } = {},
  ): Promise<JaegerOperation[]> {
    const query = new URLSearchParams({ service });
    if (options.spanKind !== undefined) query.set('spanKind', options.spanKind.toLowerCase());
    const body = await this.getJson<{ data: { name: string; spanKind: string }[] | null }>(
      `/api/operations?${query.toString()}`,
      options,
    );
    const reported = (body?.data ?? []).map((o) => ({ name: o.name, spanKind: spanKindOf(o.spanKind) }));
    if (reported.every((o) => o.spanKind !== '')) return reported;

    const now = Date.now();
    const traces = await this.findTraces(
      { service, start: now - KIND_LOOKBACK_MS, end: now, limit: KIND_SAMPLE_TRACES },
      options,
    );
    const seen = new Map<string, JaegerOperation>();
    for (const span of traces.flatMap((t) => t.spans)) {
      if (span.service === service)
        seen.set(`${span.kind}\u0000${span.operationName}`, { name: span.operationName, spanKind: span.kind });
    }
    const names = new Set(reported.map((o) => o.name));
    const withKinds = [...seen.values()].filter((o) => names.has(o.name));
    const kindless = reported.filter((o) => !withKinds.some((k) => k.name === o.name));
    const operations = [...withKinds, ...kindless];
    return operations
      .filter((o) => options.spanKind === undefined || o.spanKind === options.spanKind)
      .sort((a, b) => a.name.localeCompare(b.name) || a.spanKind.localeCompare(b.spanKind));
  }

  /**
   * A trace by id, as stored (`raw_traces`: none of Jaeger's adjustments), through the v3 API, whose OTLP keeps
   * nanoseconds and native kinds and statuses. Undefined when Jaeger has no such trace; a malformed id is
   * BAD_USER_INPUT without asking Jaeger.
   */
  async trace(traceId: string): Promise<TraceModel | undefined> {
    const id = normalizeTraceId(traceId);
    const inFlight = this.tracesInFlight.get(id);
    if (inFlight !== undefined) return inFlight;
    const read = this.readTrace(id).finally(() => {
      if (this.tracesInFlight.get(id) === read) this.tracesInFlight.delete(id);
    });
    this.tracesInFlight.set(id, read);
    return read;
  }

  /** Not shared with other callers, so without a caller's signal: one caller leaving must not fail the others. */
  private async readTrace(id: string): Promise<TraceModel | undefined> {
    const body = await this.getJson<{ result?: unknown }>(`/api/v3/traces/${id}?raw_traces=true`, {
      notFoundIsEmpty: true,
    });
    if (body?.result === undefined) return undefined;
    const decoded = decodeOtlpRequest('traces', 'json', Buffer.from(JSON.stringify(body.result)));
    if (!decoded.ok)
      throw heimdallError('INTERNAL', { message: `Jaeger's trace ${id} is not OTLP: ${decoded.message}` });
    return tracesFromOtlp(decoded.request).find((t) => t.traceId === id);
  }

  /** Traces with a span of the service matching the query, newest first. */
  async findTraces(query: TraceQuery, options: CallOptions = {}): Promise<TraceModel[]> {
    const tags = { ...query.tags, ...(query.errorsOnly ? { error: 'true' } : {}) };
    const params = new URLSearchParams({
      service: query.service,
      start: String(Math.floor(query.start * 1000)),
      end: String(Math.ceil(query.end * 1000)),
      limit: String(query.limit),
    });
    if (query.operation !== undefined) params.set('operation', query.operation);
    if (Object.keys(tags).length > 0) params.set('tags', JSON.stringify(tags));
    if (query.minDurationMs !== undefined) params.set('minDuration', `${Math.round(query.minDurationMs * 1000)}us`);
    if (query.maxDurationMs !== undefined) params.set('maxDuration', `${Math.round(query.maxDurationMs * 1000)}us`);
    const body = await this.getJson<{ data: JaegerJsonTrace[] | null }>(`/api/traces?${params.toString()}`, {
      ...options,
      policy: this.options.searchPolicy,
      deadline: this.options.searchDeadline,
    });
    return (body?.data ?? [])
      .flatMap((trace) => tracesFromOtlp(otlpFromJaegerJson(trace)))
      .sort((a, b) => (a.startTime < b.startTime ? 1 : a.startTime > b.startTime ? -1 : 0));
  }

  /**
   * Jaeger's service map for the spans that started in (endTs − lookback, endTs], both in ms. With badger it is
   * computed on the fly from the newest 100 traces of that window only, after a scan of every span stored.
   */
  async dependencies(endTs: number, lookbackMs: number, options: CallOptions = {}): Promise<JaegerDependencyLink[]> {
    const params = new URLSearchParams({ endTs: String(Math.round(endTs)), lookback: String(Math.round(lookbackMs)) });
    const body = await this.getJson<{ data: JaegerDependencyLink[] | null }>(`/api/dependencies?${params.toString()}`, {
      ...options,
      policy: this.options.dependenciesPolicy,
    });
    return (body?.data ?? []).map((d) => ({ parent: d.parent, child: d.child, callCount: d.callCount }));
  }

  private getJson<T>(
    path: string,
    options: CallOptions & {
      readonly notFoundIsEmpty?: boolean;
      readonly policy?: ResiliencePolicy;
      readonly deadline?: JaegerStoreOptions['searchDeadline'] | undefined;
    },
  ): Promise<T | undefined> {
    const { deadline } = options;
    const policy = options.policy ?? this.options.readPolicy;
    if (deadline === undefined)
      return policy.execute((signal) => this.fetchJson<T>(path, options, signal), {
        idempotent: true,
        signal: options.signal,
      });
    return policy.execute(
      async (signal) => {
        const expired = AbortSignal.timeout(deadline.ms);
        try {
          return await this.fetchJson<T>(path, options, AbortSignal.any([signal, expired]));
        } catch (error) {
          if (!expired.aborted || signal.aborted) throw error;
          throw await this.pastDeadline(deadline, signal);
        }
      },
      { idempotent: true, signal: options.signal },
    );
  }

  /**
   * A search past its deadline: LIMIT_EXCEEDED when Jaeger still answers a cheap read (the search asked too much),
   * else UNAVAILABLE, which the breaker counts (Jaeger is down or hung).
   */
  private async pastDeadline(
    deadline: NonNullable<JaegerStoreOptions['searchDeadline']>,
    signal: AbortSignal,
  ): Promise<Error> {
    const answers = await fetch(`${this.options.queryUrl}/api/services`, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(deadline.probeTimeoutMs)]),
    }).then(
      async (response) => {
        await response.body?.cancel();
        return response.ok;
      },
      () => false,
    );
    if (!answers) {
      return heimdallError('UNAVAILABLE', {
        message: `jaeger is unavailable: a search ran past ${deadline.ms} ms and Jaeger did not list its services within ${deadline.probeTimeoutMs} ms`,
        retryAfterSeconds: 1,
        service: 'jaeger',
      });
    }
    return heimdallError('LIMIT_EXCEEDED', {
      message: `the search ran past ${deadline.ms} ms in Jaeger (JAEGER_SEARCH_DEADLINE_MS): narrow the range, or name a service, an operation or a tag`,
      details: { limit: 'JAEGER_SEARCH_DEADLINE_MS', deadlineMs: deadline.ms },
    });
  }

  private async fetchJson<T>(
    path: string,
    options: { readonly notFoundIsEmpty?: boolean },
    signal: AbortSignal,
  ): Promise<T | undefined> {
    const response = await fetch(`${this.options.queryUrl}${path}`, { signal });
    if (response.status === 404 && options.notFoundIsEmpty) {
      await response.body?.cancel();
      return undefined;
    }
    // Jaeger refusing what was asked (a parameter it cannot parse, a request too long) is the caller's mistake,
    // not Jaeger failing; another 4xx (a wrong URL) is ours.
    if (REFUSED_QUERY_STATUSES.has(response.status)) {
      throw heimdallError('BAD_USER_INPUT', {
        message: `Jaeger refused the query: ${refusalReason(await response.text()) || `HTTP ${response.status}`}`,
      });
    }
    if (!response.ok) throw HttpStatusError.fromResponse(response);
    // Jaeger answers unknown paths with a 200 HTML placeholder page: anything but JSON is a fault. Its v3
    // gateway labels its JSON text/plain.
    const type = response.headers.get('content-type') ?? '';
    if (!type.includes('application/json') && !(path.startsWith('/api/v3/') && type.startsWith('text/plain'))) {
      await response.body?.cancel();
      throw heimdallError('UNAVAILABLE', {
        message: `Jaeger answered ${path} with no JSON; is ${this.options.queryUrl} a Jaeger query API?`,
        retryAfterSeconds: 30,
        service: 'jaeger',
      });
    }
    return JSON.parse(await readAtMost(response, JAEGER_ANSWER_MAX_BYTES, path)) as T;
  }
}

/**
 * Most bytes of one Jaeger answer read: Jaeger 1.76 bounds neither the spans of a trace nor those of the traces a
 * search finds (its `max_trace_size` came later), so a trace of 10,000 spans with 128 attributes of 16 KiB each
 * would be read whole, gigabytes. 64 MiB holds the 1,000 traces of a search at its largest `limit` with 30 spans
 * of a kilobyte each; answers carry at most 8 MiB of them anyway (answers.ts).
 */
export const JAEGER_ANSWER_MAX_BYTES = 64 * 1024 * 1024;

/** The body as text, LIMIT_EXCEEDED (what was asked, not Jaeger failing) once it is longer than `max` bytes. */
async function readAtMost(response: Response, max: number, path: string): Promise<string> {
  const tooLarge = () =>
    heimdallError('LIMIT_EXCEEDED', {
      message: path.startsWith('/api/v3/traces/')
        ? `the trace is more than ${max / 1024 / 1024} MiB in Jaeger, more than Heimdall reads`
        : `Jaeger's answer is more than ${max / 1024 / 1024} MiB: lower filter.limit, narrow the range, or name an operation or a tag`,
      details: { limit: 'JAEGER_ANSWER_MAX_BYTES', bytes: max },
    });
  if (Number(response.headers.get('content-length') ?? 0) > max) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of (response.body ?? []) as AsyncIterable<Uint8Array>) {
    bytes += chunk.byteLength;
    // Leaving the loop cancels the body: Jaeger's connection is not read further.
    if (bytes > max) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Badger's refusals of a span whatever is retried: an index key over 65,000 bytes, a value too large, a span with its
 * index keys too large for one transaction. Jaeger answers them 503, as if it were down.
 */
const BADGER_REFUSAL = /^(Key|Value) with size \d+ exceeded \d+ limit|^Txn is too big/;

/** Writes beyond the first one spent isolating the spans Jaeger refuses in one push. */
export const MAX_ISOLATION_WRITES = 32;

/** Badger's messages go on with a hex dump of the key, as long as the key. */
function firstLine(message: string): string {
  const line = message.split('\n', 1)[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** A span with where it came from, so that any run of spans can be sent again under their resources and scopes. */
interface SpanEntry {
  readonly resourceSpans: otlp.ResourceSpans;
  readonly scopeSpans: otlp.ScopeSpans;
  readonly span: otlp.Span;
}

function spanEntries(request: ExportTraceServiceRequest): SpanEntry[] {
  return request.resourceSpans.flatMap((resourceSpans) =>
    resourceSpans.scopeSpans.flatMap((scopeSpans) =>
      scopeSpans.spans.map((span) => ({ resourceSpans, scopeSpans, span })),
    ),
  );
}

function requestOf(entries: readonly SpanEntry[]): ExportTraceServiceRequest {
  const resourceSpans: otlp.ResourceSpans[] = [];
  let previous: SpanEntry | undefined;
  for (const entry of entries) {
    if (entry.resourceSpans !== previous?.resourceSpans) {
      resourceSpans.push(
        create(otlp.ResourceSpansSchema, {
          resource: entry.resourceSpans.resource,
          schemaUrl: entry.resourceSpans.schemaUrl,
        }),
      );
    }
    const scopes = resourceSpans.at(-1)!.scopeSpans;
    if (entry.scopeSpans !== previous?.scopeSpans || entry.resourceSpans !== previous.resourceSpans) {
      scopes.push(
        create(otlp.ScopeSpansSchema, { scope: entry.scopeSpans.scope, schemaUrl: entry.scopeSpans.schemaUrl }),
      );
    }
    scopes.at(-1)!.spans.push(entry.span);
    previous = entry;
  }
  return create(otlp.ExportTraceServiceRequestSchema, { resourceSpans });
}

function traceIdsOf(request: ExportTraceServiceRequest): Set<string> {
  return new Set(
    request.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => hexId(s.traceId)))),
  );
}

function writeResult(body: Uint8Array): JaegerWriteResult {
  try {
    const partial = fromBinary(otlp.ExportTraceServiceResponseSchema, body).partialSuccess;
    return { rejected: Number(partial?.rejectedSpans ?? 0n), errorMessage: partial?.errorMessage ?? '' };
  } catch {
    // An answer that is not OTLP still said 200: the spans are stored.
    return { rejected: 0, errorMessage: '' };
  }
}

const REFUSED_QUERY_STATUSES: ReadonlySet<number> = new Set([400, 413, 414, 422, 431]);

/** The reason in a query API error body (`{"errors": [{"msg"}]}`, v3's `{"error": {"message"}}`); '' when there is none. */
function refusalReason(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: { msg?: unknown }[] | null; error?: { message?: unknown } };
    const reason = parsed.errors?.[0]?.msg ?? parsed.error?.message;
    return typeof reason === 'string' ? firstLine(reason) : '';
  } catch {
    return '';
  }
}

/** The message of a google.rpc.Status error body; '' when the body is not one. */
function statusMessage(body: Uint8Array): string {
  try {
    return fromBinary(otlp.RpcStatusSchema, body).message;
  } catch {
    return '';
  }
}

/** Where the kinds of a badger-stored service's operations are looked up. */
const KIND_LOOKBACK_MS = 3_600_000;
const KIND_SAMPLE_TRACES = 100;

const SPAN_KINDS: ReadonlySet<string> = new Set<SpanKind>([
  'UNSPECIFIED',
  'INTERNAL',
  'SERVER',
  'CLIENT',
  'PRODUCER',
  'CONSUMER',
]);

/** Jaeger writes kinds in lower case ('server'). */
function spanKindOf(kind: string): SpanKind | '' {
  const upper = kind.toUpperCase();
  return SPAN_KINDS.has(upper) ? (upper as SpanKind) : '';
}

const TRACE_ID = /^[0-9a-f]{1,32}$/i;

/** A trace id as Jaeger prints it: 32 lower-case hex digits (shorter legacy ids padded). BAD_USER_INPUT otherwise. */
export function normalizeTraceId(traceId: string): string {
  if (!TRACE_ID.test(traceId) || /^0+$/.test(traceId)) {
    throw badUserInput('traceId', 'must be 1 to 32 hexadecimal digits, not all zero');
  }
  return traceId.toLowerCase().padStart(32, '0');
}
