/**
 * A small typed schema DSL: one definition yields the CRD's structural OpenAPI schema (with CEL
 * rules), the TypeScript types, and the validation and defaulting of the embedded store.
 */
import {
  AnyObjectSchema,
  ArraySchema,
  MapSchema,
  ObjectSchema,
  type ArrayOptions,
  type MapOptions,
  type ObjectOptions,
  type RejectedField,
} from './composites';
import type { AnySchema, ShapeEntry } from './node';
import { BooleanSchema, EnumSchema, NumberSchema, StringSchema, type NumberOptions, type StringOptions } from './scalars';

export const s = {
  string: (options?: StringOptions) => new StringSchema(options),
  enum: <const V extends string>(values: readonly V[]) => new EnumSchema<V>(values),
  integer: (options?: NumberOptions) => new NumberSchema('integer', options),
  number: (options?: NumberOptions) => new NumberSchema('number', options),
  boolean: () => new BooleanSchema(),
  array: <Item extends AnySchema>(items: Item, options?: ArrayOptions) => new ArraySchema(items, options),
  object: <S extends Record<string, ShapeEntry>>(shape: S, options?: ObjectOptions) => new ObjectSchema(shape, options),
  map: <Value extends AnySchema>(values: Value, options?: MapOptions) => new MapSchema(values, options),
  anyObject: () => new AnyObjectSchema(),
};

/** Declares an ECS field Berth refuses, with what to use instead. */
export function reject(schema: AnySchema, hint: string): RejectedField {
  return { schema, hint };
}

export { rule, Schema, Field, type Rule, type Infer, type InferInput, type ValidationContext } from './node';
export type { ObjectSchema } from './composites';
export type { JSONSchemaProps } from './openapi';
