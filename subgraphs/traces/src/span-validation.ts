import { create, toBinary } from '@bufbuild/protobuf';
import {
  type AnyValue,
  type ExportTraceServiceRequest,
  type KeyValue,
  anyValueJson,
  otlp,
} from '@heimdall/shared/otlp';

/** Spans must lie within [now − 7 days, now + 10 minutes] (SPEC §4). */
export const MAX_SPAN_AGE_MS = 7 * 86_400_000;
export const MAX_SPAN_FUTURE_MS = 10 * 60_000;

/**
 * What a span stores, as OpenTelemetry SDKs' span limits bound it; sizes are UTF-8 bytes. They keep badger's index
 * keys (service + operation, or service + tag key + tag value, + 25 bytes) under its 65,000-byte limit: Jaeger
 * refuses a span with a longer one. A value is text (strings; bytes in hex, arrays and maps in JSON, as badger
 * indexes them), so bytes get half the value limit. Resources and scopes have the same limits on their attributes,
 * and scope names and versions on their values.
 */
export interface SpanLimits {
  /** An attribute value, a status message, a trace state, a scope name or version. */
  readonly valueBytes: number;
  readonly keyBytes: number;
  /** A span's and an event's name. */
  readonly nameBytes: number;
  /** Attributes of a span, event, link, scope or resource. */
  readonly attributes: number;
  readonly events: number;
  readonly links: number;
}

export const DEFAULT_SPAN_LIMITS: SpanLimits = {
  valueBytes: 16_384,
  keyBytes: 256,
  nameBytes: 1024,
  attributes: 128,
  events: 128,
  links: 128,
};

/**
 * Set on a span, scope or resource that Heimdall cut to the limits: how many of its values were shortened and
 * items (attributes, events, links) dropped; the dropped ones are also added to OTLP's `dropped_*_count`.
 */
export const TRUNCATED_ATTRIBUTE = 'heimdall.truncated';

export interface SpanValidation {
  /** The request with only the valid spans, cut to the limits; scopes and resources left without spans are dropped. */
  readonly accepted: ExportTraceServiceRequest;
  /** Values cut and items dropped to fit the limits; 0 when `accepted` holds the valid spans as they came. */
  readonly truncated: number;
  /** Spans left out, for `partialSuccess.rejectedSpans`. */
  readonly rejected: number;
  /** Why spans were left out, each reason once, for `partialSuccess.errorMessage`. */
  readonly errors: string[];
}

const NS_PER_MS = 1_000_000n;

/**
 * Splits an export into the spans Jaeger should store and the ones rejected one by one: ids of the wrong size
 * or all zero, an end before the start, or a span not wholly within 7 days back and 10 minutes ahead of `now`
 * (ms since the epoch). What is kept is cut to `limits`.
 */
export function validateSpans(
  request: ExportTraceServiceRequest,
  now: number,
  limits: SpanLimits = DEFAULT_SPAN_LIMITS,
): SpanValidation {
  const oldest = BigInt(now - MAX_SPAN_AGE_MS) * NS_PER_MS;
  const newest = BigInt(now + MAX_SPAN_FUTURE_MS) * NS_PER_MS;
  const errors = new Set<string>();
  let rejected = 0;

  const keep = (span: otlp.Span): boolean => {
    const problem = spanProblem(span, oldest, newest);
    if (problem === undefined) return true;
    rejected++;
    errors.add(problem);
    return false;
  };
  const limiter = new Limiter(limits);
  const resourceSpans = request.resourceSpans
    .map((rs) => {
      const scopeSpans = rs.scopeSpans
        .map((ss) => {
          const spans = ss.spans.filter(keep).map((span) => limiter.span(span));
          return create(otlp.ScopeSpansSchema, {
            scope: spans.length > 0 ? limiter.scope(ss.scope) : ss.scope,
            schemaUrl: ss.schemaUrl,
            spans,
          });
        })
        .filter((ss) => ss.spans.length > 0);
      return create(otlp.ResourceSpansSchema, {
        resource: scopeSpans.length > 0 ? limiter.resource(rs.resource) : rs.resource,
        schemaUrl: rs.schemaUrl,
        scopeSpans,
      });
    })
    .filter((rs) => rs.scopeSpans.length > 0);

  const accepted = create(otlp.ExportTraceServiceRequestSchema, { resourceSpans });
  return { accepted, truncated: limiter.total, rejected, errors: [...errors] };
}

const encoder = new TextEncoder();

/** `text` cut to at most `maxBytes` of UTF-8 at a character boundary; undefined when it fits. */
export function cutText(text: string, maxBytes: number): string | undefined {
  // Three bytes at most per UTF-16 unit: most texts are known to fit without being measured.
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text) <= maxBytes) return undefined;
  // encodeInto writes whole characters only, so `read` ends at a boundary.
  return text.slice(0, encoder.encodeInto(text, new Uint8Array(maxBytes)).read);
}

/** Bytes of the JSON text Jaeger makes of an array or map (Go escapes <, > and & as \u003c…: 5 bytes more). */
function jsonBytes(json: string): number {
  let escaped = 0;
  for (const char of json.matchAll(/[<>&\u2028\u2029]/g)) escaped += char.length;
  return Buffer.byteLength(json) + 5 * escaped;
}

const valueJsonBytes = (value: AnyValue | undefined) => jsonBytes(JSON.stringify(anyValueJson(value)));

/** Cuts spans, scopes and resources to the limits, counting what it cut. */
class Limiter {
  /** Values cut and items dropped in everything seen. */
  total = 0;
  /** Those of the span, scope or resource being cut. */
  private cuts = 0;

  constructor(private readonly limits: SpanLimits) {}

  span(span: otlp.Span): otlp.Span {
    this.cuts = 0;
    const { limits } = this;
    const name = this.text(span.name, limits.nameBytes);
    const traceState = this.text(span.traceState, limits.valueBytes);
    const status =
      span.status === undefined
        ? undefined
        : { ...span.status, message: this.text(span.status.message, limits.valueBytes) };
    const attributes = this.attributes(span.attributes);
    const events = this.drop(span.events, limits.events).map((event) => {
      const eventName = this.text(event.name, limits.nameBytes);
      const eventAttributes = this.attributes(event.attributes);
      if (eventName === event.name && eventAttributes.kept === event.attributes) return event;
      return create(otlp.Span_EventSchema, {
        ...event,
        name: eventName,
        attributes: eventAttributes.kept,
        droppedAttributesCount: event.droppedAttributesCount + eventAttributes.dropped,
      });
    });
    const links = this.drop(span.links, limits.links).map((link) => {
      const linkState = this.text(link.traceState, limits.valueBytes);
      const linkAttributes = this.attributes(link.attributes);
      if (linkState === link.traceState && linkAttributes.kept === link.attributes) return link;
      return create(otlp.Span_LinkSchema, {
        ...link,
        traceState: linkState,
        attributes: linkAttributes.kept,
        droppedAttributesCount: link.droppedAttributesCount + linkAttributes.dropped,
      });
    });
    if (this.cuts === 0) return span;
    this.total += this.cuts;
    return create(otlp.SpanSchema, {
      ...span,
      name,
      traceState,
      status,
      attributes: this.marked(attributes.kept),
      droppedAttributesCount: span.droppedAttributesCount + attributes.dropped,
      events,
      droppedEventsCount: span.droppedEventsCount + span.events.length - events.length,
      links,
      droppedLinksCount: span.droppedLinksCount + span.links.length - links.length,
    });
  }

  scope(scope: otlp.InstrumentationScope | undefined): otlp.InstrumentationScope | undefined {
    if (scope === undefined) return undefined;
    this.cuts = 0;
    const name = this.text(scope.name, this.limits.valueBytes);
    const version = this.text(scope.version, this.limits.valueBytes);
    const attributes = this.attributes(scope.attributes);
    if (this.cuts === 0) return scope;
    this.total += this.cuts;
    return create(otlp.InstrumentationScopeSchema, {
      ...scope,
      name,
      version,
      attributes: this.marked(attributes.kept),
      droppedAttributesCount: scope.droppedAttributesCount + attributes.dropped,
    });
  }

  resource(resource: otlp.Resource | undefined): otlp.Resource | undefined {
    if (resource === undefined) return undefined;
    this.cuts = 0;
    const attributes = this.attributes(resource.attributes);
    if (this.cuts === 0) return resource;
    this.total += this.cuts;
    return create(otlp.ResourceSchema, {
      ...resource,
      attributes: this.marked(attributes.kept),
      droppedAttributesCount: resource.droppedAttributesCount + attributes.dropped,
    });
  }

  /** The cut attributes with the count of cuts in place of any marker they had. */
  private marked(attributes: KeyValue[]): KeyValue[] {
    const count = create(otlp.AnyValueSchema, { value: { case: 'intValue', value: BigInt(this.cuts) } });
    return [
      ...attributes.filter((a) => a.key !== TRUNCATED_ATTRIBUTE),
      create(otlp.KeyValueSchema, { key: TRUNCATED_ATTRIBUTE, value: count }),
    ];
  }

  private drop<T>(items: T[], max: number): T[] {
    if (items.length <= max) return items;
    this.cuts += items.length - max;
    return items.slice(0, max);
  }

  private text(text: string, maxBytes: number): string {
    const cut = cutText(text, maxBytes);
    if (cut === undefined) return text;
    this.cuts++;
    return cut;
  }

  /** `kept` is `attributes` itself when nothing of them was cut. */
  private attributes(attributes: KeyValue[]): { kept: KeyValue[]; dropped: number } {
    const before = this.cuts;
    const limited = this.drop(attributes, this.limits.attributes).map((kv) => {
      const key = this.text(kv.key, this.limits.keyBytes);
      const value = this.value(kv.value, this.limits.valueBytes);
      return key === kv.key && value === kv.value ? kv : create(otlp.KeyValueSchema, { key, value });
    });
    return { kept: this.cuts === before ? attributes : limited, dropped: attributes.length - limited.length };
  }

  private value(value: AnyValue | undefined, maxBytes: number): AnyValue | undefined {
    const v = value?.value;
    switch (v?.case) {
      case 'stringValue': {
        const cut = this.text(v.value, maxBytes);
        return cut === v.value ? value : create(otlp.AnyValueSchema, { value: { case: 'stringValue', value: cut } });
      }
      case 'bytesValue': {
        if (v.value.length * 2 <= maxBytes) return value;
        this.cuts++;
        return create(otlp.AnyValueSchema, {
          value: { case: 'bytesValue', value: v.value.subarray(0, Math.floor(maxBytes / 2)) },
        });
      }
      case 'arrayValue':
      case 'kvlistValue': {
        if (valueJsonBytes(value) <= maxBytes) return value;
        this.cuts++;
        return v.case === 'arrayValue'
          ? create(otlp.AnyValueSchema, {
              value: { case: 'arrayValue', value: { values: leading(v.value.values, maxBytes, valueJsonBytes) } },
            })
          : create(otlp.AnyValueSchema, {
              value: {
                case: 'kvlistValue',
                value: {
                  values: leading(
                    v.value.values,
                    maxBytes,
                    (kv) => jsonBytes(JSON.stringify(kv.key)) + 1 + valueJsonBytes(kv.value),
                  ),
                },
              },
            });
      }
      default:
        return value;
    }
  }
}

/** The leading items whose JSON, in brackets and with commas, fits in `maxBytes`. */
function leading<T>(items: T[], maxBytes: number, bytesOf: (item: T) => number): T[] {
  let bytes = 1;
  let count = 0;
  for (const item of items) {
    bytes += bytesOf(item) + 1;
    if (bytes > maxBytes) break;
    count++;
  }
  return items.slice(0, count);
}

function spanProblem(span: otlp.Span, oldest: bigint, newest: bigint): string | undefined {
  if (!isValidId(span.traceId, 16)) return 'trace ids must be 16 bytes and not all zero';
  if (!isValidId(span.spanId, 8)) return 'span ids must be 8 bytes and not all zero';
  if (span.parentSpanId.length !== 0 && span.parentSpanId.length !== 8)
    return 'parent span ids must be empty or 8 bytes';
  if (span.endTimeUnixNano < span.startTimeUnixNano) return 'spans must not end before they start';
  if (span.startTimeUnixNano < oldest || span.endTimeUnixNano > newest) {
    return 'spans must be at most 7 days old and at most 10 minutes ahead';
  }
  return undefined;
}

function isValidId(id: Uint8Array, size: number): boolean {
  return id.length === size && id.some((byte) => byte !== 0);
}

/** The request as OTLP protobuf, the body Jaeger's OTLP/HTTP receiver takes. */
export function encodeForJaeger(request: ExportTraceServiceRequest): Uint8Array {
  return toBinary(otlp.ExportTraceServiceRequestSchema, request);
}
