import { create, fromJson } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { anyValueJson, anyValueText } from './any-value.js';
import { type AnyValue, AnyValueSchema } from './schema.js';

const value = (v: AnyValue['value']): AnyValue => create(AnyValueSchema, { value: v });
const str = (s: string) => value({ case: 'stringValue', value: s });
const int = (n: bigint) => value({ case: 'intValue', value: n });

describe('OTLP values', () => {
  it('read as text: strings unchanged, scalars in their usual notation, bytes base64, nothing as empty', () => {
    expect(anyValueText(str('결제 실패'))).toBe('결제 실패');
    expect(anyValueText(int(42n))).toBe('42');
    expect(anyValueText(value({ case: 'doubleValue', value: 0.5 }))).toBe('0.5');
    expect(anyValueText(value({ case: 'boolValue', value: true }))).toBe('true');
    expect(anyValueText(value({ case: 'bytesValue', value: new Uint8Array([1, 2, 255]) }))).toBe('AQL/');
    expect(anyValueText(undefined)).toBe('');
  });

  it('keep the types of arrays and maps as JSON, with integers past 2^53 and non-finite doubles as strings', () => {
    const map = fromJson(AnyValueSchema, {
      kvlistValue: {
        values: [
          { key: 'ids', value: { arrayValue: { values: [{ intValue: '7' }, { intValue: '1152921504606846976' }] } } },
          { key: 'ratio', value: { doubleValue: 'NaN' } },
        ],
      },
    });
    expect(anyValueJson(map)).toEqual({ ids: [7, '1152921504606846976'], ratio: 'NaN' });
    expect(anyValueText(map)).toBe('{"ids":[7,"1152921504606846976"],"ratio":"NaN"}');
  });
});
