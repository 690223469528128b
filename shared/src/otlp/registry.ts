/**
 * The OTLP schema at runtime. `otlp.binpb` is a google.protobuf.FileDescriptorSet generated from the PyPI
 * package `opentelemetry-proto` by scripts/gen-otlp-descriptors.py (npm has no OTLP decoder, SPEC §12);
 * `@bufbuild/protobuf` decodes and encodes with it by reflection. It is read once, at import.
 */
import { readFileSync } from 'node:fs';
import { createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import type { GenEnum, GenMessage } from '@bufbuild/protobuf/codegenv2';
import type { Message } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';

/** Every message and enum of the OTLP collector services and of google.rpc.Status, by full name. */
export const otlpRegistry = createFileRegistry(
  fromBinary(FileDescriptorSetSchema, readFileSync(new URL('./otlp.binpb', import.meta.url))),
);

/**
 * The descriptor of a message, typed with its generated shape. The cast is the one place types meet the
 * runtime schema; schema.ts is generated from the same file, and an unknown name fails at import.
 */
export function messageDesc<T extends Message>(typeName: T['$typeName']): GenMessage<T> {
  const desc = otlpRegistry.getMessage(typeName);
  if (desc === undefined) throw new Error(`otlp.binpb has no message ${typeName}; regenerate it`);
  return desc as unknown as GenMessage<T>;
}

/** The descriptor of an enum, typed with its generated TypeScript enum. */
export function enumDesc<T extends number>(typeName: string): GenEnum<T> {
  const desc = otlpRegistry.getEnum(typeName);
  if (desc === undefined) throw new Error(`otlp.binpb has no enum ${typeName}; regenerate it`);
  return desc as unknown as GenEnum<T>;
}
