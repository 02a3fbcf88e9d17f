import { childPath, fieldError, indexPath } from './field-errors';
import { Field, Schema, type AnySchema, type Presence, type ShapeEntry, type ValidationContext } from './node';
import type { JSONSchemaProps } from './openapi';

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type Shape = Record<string, ShapeEntry>;
type OutOf<E> = E extends Field<infer S extends AnySchema, Presence> ? S['_out'] : E extends AnySchema ? E['_out'] : never;
type InOf<E> = E extends Field<infer S extends AnySchema, Presence> ? S['_in'] : E extends AnySchema ? E['_in'] : never;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends Field<AnySchema, 'optional'> ? K : never }[keyof S];
type OmittableKeys<S extends Shape> = { [K in keyof S]: S[K] extends Field<AnySchema, Presence> ? K : never }[keyof S];

export type ObjectOut<S extends Shape> = Simplify<{ [K in Exclude<keyof S, OptionalKeys<S>>]: OutOf<S[K]> } & { [K in OptionalKeys<S>]?: OutOf<S[K]> }>;
export type ObjectIn<S extends Shape> = Simplify<{ [K in Exclude<keyof S, OmittableKeys<S>>]: InOf<S[K]> } & { [K in OmittableKeys<S>]?: InOf<S[K]> }>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An ECS field Berth does not support: declared so that it is refused with a hint instead of pruned silently. */
export interface RejectedField {
  schema: AnySchema;
  hint: string;
}

export interface ObjectOptions {
  rejected?: Record<string, RejectedField>;
}

export class ObjectSchema<S extends Shape> extends Schema<ObjectOut<S>, ObjectIn<S>> {
  protected readonly type = 'object';

  constructor(
    readonly shape: S,
    private readonly options: ObjectOptions = {},
  ) {
    super();
  }

  override toOpenAPI(): JSONSchemaProps {
    const props = super.toOpenAPI();
    const rejections = Object.entries(this.options.rejected ?? {}).map(([name, { schema, hint }]) => ({
      rule: schema instanceof ArraySchema ? `!has(self.${name}) || size(self.${name}) == 0` : `!has(self.${name})`,
      message: rejectionMessage(name, hint),
      fieldPath: `.${name}`,
      reason: 'FieldValueForbidden' as const,
    }));
    if (rejections.length > 0) props['x-kubernetes-validations'] = [...(props['x-kubernetes-validations'] ?? []), ...rejections];
    return props;
  }

  override applyDefaults(value: unknown): void {
    if (!isPlainObject(value)) return;
    for (const [key, entry] of Object.entries(this.shape)) {
      // The API server prunes nulls of non-nullable fields before defaulting.
      if (value[key] === null) delete value[key];
      if (value[key] === undefined && entry instanceof Field && entry.presence === 'defaulted') {
        value[key] = structuredClone(entry.defaultValue);
      }
      if (value[key] !== undefined) schemaOf(entry).applyDefaults(value[key]);
    }
  }

  protected constraints(): JSONSchemaProps {
    const properties: Record<string, JSONSchemaProps> = {};
    for (const [key, entry] of Object.entries(this.shape)) {
      properties[key] = schemaOf(entry).toOpenAPI();
      if (entry instanceof Field && entry.presence === 'defaulted') properties[key].default = entry.defaultValue;
    }
    for (const [key, { schema, hint }] of Object.entries(this.options.rejected ?? {})) {
      properties[key] = { description: rejectionMessage(key, hint), ...schema.toOpenAPI() };
    }
    const required = Object.keys(this.shape).filter((key) => !(this.shape[key] instanceof Field));
    return required.length > 0 ? { properties, required } : { properties };
  }

  protected validateValue(value: unknown, path: string, oldValue: unknown, context: ValidationContext): boolean {
    if (!isPlainObject(value)) {
      context.errors.push(fieldError.wrongType(path, 'object', value));
      return false;
    }
    const old = isPlainObject(oldValue) ? oldValue : {};
    for (const [key, entry] of Object.entries(this.shape)) {
      const at = childPath(path, key);
      if (value[key] !== undefined) schemaOf(entry).validate(value[key], at, old[key], context);
      else if (!(entry instanceof Field)) context.errors.push(fieldError.required(at));
    }
    const rejected = this.options.rejected ?? {};
    for (const key of Object.keys(value)) {
      const at = childPath(path, key);
      if (key in rejected) {
        const asksForNothing = rejected[key].schema instanceof ArraySchema && isEmptyList(value[key]);
        if (!asksForNothing) context.errors.push(fieldError.forbidden(at, rejectionMessage(key, rejected[key].hint)));
      } else if (!(key in this.shape)) context.errors.push(fieldError.unknownField(at));
    }
    return true;
  }
}

/** ECS's DescribeTaskDefinition prints unused lists as [], so a pasted empty list asks for nothing and passes. */
function isEmptyList(value: unknown): boolean {
  return Array.isArray(value) && value.length === 0;
}

function rejectionMessage(name: string, hint: string): string {
  return `${name} is not supported: ${hint}`;
}

function schemaOf(entry: ShapeEntry): AnySchema {
  return entry instanceof Field ? entry.schema : entry;
}

export interface ArrayOptions {
  minItems?: number;
  maxItems?: number;
  /** Items are unique scalars (`x-kubernetes-list-type: set`). */
  set?: boolean;
  /** Items are objects unique by these keys (`x-kubernetes-list-type: map`): duplicates are refused, and updates correlate items by key. */
  mapKeys?: string[];
}

export class ArraySchema<Item extends AnySchema> extends Schema<Item['_out'][], Item['_in'][]> {
  protected readonly type = 'array';

  constructor(
    readonly items: Item,
    private readonly options: ArrayOptions = {},
  ) {
    super();
  }

  override applyDefaults(value: unknown): void {
    if (Array.isArray(value)) value.forEach((item) => this.items.applyDefaults(item));
  }

  protected constraints(): JSONSchemaProps {
    const { minItems, maxItems, set, mapKeys } = this.options;
    const props: JSONSchemaProps = {};
    if (minItems !== undefined) props.minItems = minItems;
    if (maxItems !== undefined) props.maxItems = maxItems;
    props.items = this.items.toOpenAPI();
    if (set) props['x-kubernetes-list-type'] = 'set';
    if (mapKeys) {
      props['x-kubernetes-list-type'] = 'map';
      props['x-kubernetes-list-map-keys'] = mapKeys;
    }
    return props;
  }

  protected validateValue(value: unknown, path: string, oldValue: unknown, context: ValidationContext): boolean {
    if (!Array.isArray(value)) {
      context.errors.push(fieldError.wrongType(path, 'array', value));
      return false;
    }
    const { minItems, maxItems } = this.options;
    if (maxItems !== undefined && value.length > maxItems) context.errors.push(fieldError.tooMany(path, value.length, maxItems));
    if (minItems !== undefined && value.length < minItems) {
      context.errors.push(fieldError.invalid(path, value.length, `${path} in body should have at least ${minItems} items`));
    }
    const oldItems = Array.isArray(oldValue) ? oldValue : [];
    value.forEach((item, index) => this.items.validate(item, indexPath(path, index), this.correlate(item, oldItems), context));
    this.refuseDuplicates(value, path, context);
    return true;
  }

  /** Only list-map items have an old counterpart: atomic and set items cannot be correlated across updates. */
  private correlate(item: unknown, oldItems: unknown[]): unknown {
    const keys = this.options.mapKeys;
    if (!keys || !isPlainObject(item)) return undefined;
    return oldItems.find((old) => isPlainObject(old) && keys.every((k) => old[k] === item[k]));
  }

  private refuseDuplicates(value: unknown[], path: string, context: ValidationContext): void {
    const { set, mapKeys } = this.options;
    if (!set && !mapKeys) return;
    const seen = new Set<string>();
    value.forEach((item, index) => {
      const key = mapKeys && isPlainObject(item) ? Object.fromEntries(mapKeys.map((k) => [k, item[k]])) : item;
      const identity = JSON.stringify(key);
      if (seen.has(identity)) {
        const at = indexPath(path, index);
        context.errors.push(fieldError.duplicate(at, key));
      }
      seen.add(identity);
    });
  }
}

export interface MapOptions {
  maxProperties?: number;
}

/** An object with arbitrary keys (`additionalProperties`), e.g. labels or log driver options. */
export class MapSchema<Value extends AnySchema> extends Schema<Record<string, Value['_out']>, Record<string, Value['_in']>> {
  protected readonly type = 'object';

  constructor(
    private readonly values: Value,
    private readonly options: MapOptions = {},
  ) {
    super();
  }

  override applyDefaults(value: unknown): void {
    if (!isPlainObject(value)) return;
    for (const [key, v] of Object.entries(value)) {
      // The API server prunes a null value of a non-nullable map entry, as it does an object's null field.
      if (v === null) delete value[key];
      else this.values.applyDefaults(v);
    }
  }

  protected constraints(): JSONSchemaProps {
    return { ...this.options, additionalProperties: this.values.toOpenAPI() };
  }

  protected validateValue(value: unknown, path: string, oldValue: unknown, context: ValidationContext): boolean {
    if (!isPlainObject(value)) {
      context.errors.push(fieldError.wrongType(path, 'object', value));
      return false;
    }
    const { maxProperties } = this.options;
    const size = Object.keys(value).length;
    if (maxProperties !== undefined && size > maxProperties) context.errors.push(fieldError.tooMany(path, size, maxProperties));
    const old = isPlainObject(oldValue) ? oldValue : {};
    for (const [key, v] of Object.entries(value)) this.values.validate(v, childPath(path, key), old[key], context);
    return true;
  }
}

/**
 * Any JSON object, kept as written (`x-kubernetes-preserve-unknown-fields`). Only the rejected ECS
 * fields use it: their content is never read, only refused.
 */
export class AnyObjectSchema extends Schema<Record<string, unknown>> {
  protected readonly type = 'object';

  protected constraints(): JSONSchemaProps {
    return { 'x-kubernetes-preserve-unknown-fields': true };
  }

  protected validateValue(value: unknown, path: string, _old: unknown, context: ValidationContext): boolean {
    if (isPlainObject(value)) return true;
    context.errors.push(fieldError.wrongType(path, 'object', value));
    return false;
  }
}
