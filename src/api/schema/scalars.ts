import { fieldError } from './field-errors';
import { Schema, type ValidationContext } from './node';
import type { JSONSchemaProps } from './openapi';

export interface StringOptions {
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: 'date-time';
}

// RFC 3339, the only string format Berth's schemas use (timestamps).
const dateTime = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export class StringSchema extends Schema<string> {
  protected readonly type = 'string';

  constructor(private readonly options: StringOptions = {}) {
    super();
  }

  protected constraints(): JSONSchemaProps {
    return { ...this.options };
  }

  protected validateValue(value: unknown, path: string, _old: unknown, context: ValidationContext): boolean {
    if (typeof value !== 'string') {
      context.errors.push(fieldError.wrongType(path, 'string', value));
      return false;
    }
    const { minLength, maxLength, pattern, format } = this.options;
    // The API server counts characters (runes), not UTF-16 units.
    const length = [...value].length;
    if (maxLength !== undefined && length > maxLength) context.errors.push(fieldError.tooLong(path, maxLength));
    if (minLength !== undefined && length < minLength) {
      context.errors.push(fieldError.invalid(path, value, `${path} in body should be at least ${minLength} chars long`));
    }
    if (pattern !== undefined && !new RegExp(pattern).test(value)) {
      context.errors.push(fieldError.invalid(path, value, `${path} in body should match '${pattern}'`));
    }
    if (format === 'date-time' && !dateTime.test(value)) {
      // Unlike the other bounds, the API server names only the field itself here.
      const field = path.slice(path.lastIndexOf('.') + 1);
      context.errors.push(fieldError.invalid(path, value, `${field} in body must be of type date-time: ${JSON.stringify(value)}`));
    }
    return true;
  }
}

export class EnumSchema<V extends string> extends Schema<V> {
  protected readonly type = 'string';

  constructor(private readonly values: readonly V[]) {
    super();
  }

  protected constraints(): JSONSchemaProps {
    return { enum: this.values };
  }

  protected validateValue(value: unknown, path: string, _old: unknown, context: ValidationContext): boolean {
    if (typeof value !== 'string') {
      context.errors.push(fieldError.wrongType(path, 'string', value));
      return false;
    }
    if (!(this.values as readonly string[]).includes(value)) context.errors.push(fieldError.unsupported(path, value, this.values));
    return true;
  }
}

export interface NumberOptions {
  minimum?: number;
  maximum?: number;
}

export class NumberSchema extends Schema<number> {
  constructor(
    protected readonly type: 'integer' | 'number',
    private readonly options: NumberOptions = {},
  ) {
    super();
  }

  protected constraints(): JSONSchemaProps {
    return { ...this.options };
  }

  protected validateValue(value: unknown, path: string, _old: unknown, context: ValidationContext): boolean {
    if (typeof value !== 'number' || (this.type === 'integer' && !Number.isInteger(value))) {
      context.errors.push(fieldError.wrongType(path, this.type, value));
      return false;
    }
    const { minimum, maximum } = this.options;
    if (minimum !== undefined && value < minimum) {
      context.errors.push(fieldError.invalid(path, value, `${path} in body should be greater than or equal to ${minimum}`));
    }
    if (maximum !== undefined && value > maximum) {
      context.errors.push(fieldError.invalid(path, value, `${path} in body should be less than or equal to ${maximum}`));
    }
    return true;
  }
}

export class BooleanSchema extends Schema<boolean> {
  protected readonly type = 'boolean';

  protected constraints(): JSONSchemaProps {
    return {};
  }

  protected validateValue(value: unknown, path: string, _old: unknown, context: ValidationContext): boolean {
    if (typeof value === 'boolean') return true;
    context.errors.push(fieldError.wrongType(path, 'boolean', value));
    return false;
  }
}
