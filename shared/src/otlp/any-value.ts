import type { AnyValue } from './schema.js';

/** JSON as OTLP values become it. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * An OTLP value as JSON, the way Jaeger's storage and OTLP/JSON write it, so a value reads the same in every signal
 * and before and after storage: 64-bit integers beyond 2^53 and non-finite doubles as strings, bytes as base64, an
 * empty value as null.
 */
export function anyValueJson(value: AnyValue | undefined): Json {
  const v = value?.value;
  switch (v?.case) {
    case 'stringValue':
    case 'boolValue':
      return v.value;
    case 'intValue':
      return v.value >= BigInt(Number.MIN_SAFE_INTEGER) && v.value <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v.value)
        : v.value.toString();
    case 'doubleValue':
      return Number.isFinite(v.value) ? v.value : String(v.value);
    case 'bytesValue':
      return Buffer.from(v.value).toString('base64');
    case 'arrayValue':
      return v.value.values.map(anyValueJson);
    case 'kvlistValue':
      return Object.fromEntries(v.value.values.map((kv) => [kv.key, anyValueJson(kv.value)]));
    default:
      return null;
  }
}

/**
 * An OTLP value as text (a label, a log message): strings as they are, scalars in their usual notation, bytes
 * base64, arrays and maps as their JSON (`anyValueJson`), an empty value as ''.
 */
export function anyValueText(value: AnyValue | undefined): string {
  const v = value?.value;
  switch (v?.case) {
    case 'stringValue':
      return v.value;
    case 'boolValue':
    case 'intValue':
    case 'doubleValue':
      return String(v.value);
    case 'bytesValue':
      return Buffer.from(v.value).toString('base64');
    case undefined:
      return '';
    default:
      return JSON.stringify(anyValueJson(value));
  }
}
