import { fieldError } from './field-errors';
import type { JSONSchemaProps, RuleReason, SchemaType, ValidationRuleProps } from './openapi';

interface RuleBase<Self> {
  cel: string;
  message: string;
  /**
   * CEL's messageExpression, with the TypeScript rendering of the same text: a message that quotes the
   * refused values. When `render` throws, `message` is used, as the API server falls back to it.
   */
  messageExpression?: { cel: string; render: (self: Self) => string };
  /** Relative path of the field to blame, e.g. `.maximumPercent`; the API server reports it instead of the rule's node. */
  fieldPath?: string;
  reason?: RuleReason;
}

/**
 * A CEL rule for `x-kubernetes-validations`, declared together with a TypeScript predicate that
 * means the same, so the embedded store refuses what the kube-apiserver refuses.
 */
export interface PlainRule<Self> extends RuleBase<Self> {
  optionalOldSelf?: false;
  /** `oldSelf` is present only for transition rules (whose CEL mentions oldSelf), and only on update. */
  check: (self: Self, oldSelf: Self) => boolean;
}

/**
 * A transition rule with CEL's `optionalOldSelf`: it runs on create too, where CEL's `oldSelf` is an
 * empty optional (`oldSelf.hasValue()` is false) and the predicate's `oldSelf` is undefined.
 */
export interface OptionalOldSelfRule<Self> extends RuleBase<Self> {
  optionalOldSelf: true;
  check: (self: Self, oldSelf: Self | undefined) => boolean;
}

export type Rule<Self> = PlainRule<Self> | OptionalOldSelfRule<Self>;

/** A check of a value CEL cannot state; see `Schema.withAdmissionCheck`. */
export type AdmissionCheck<Self> = (self: Self) => string | undefined;

export function rule<Self>(definition: Rule<Self>): Rule<Self> {
  return definition;
}

/** Transition rules run only on update, when the old object has the same node, unless their oldSelf is optional. */
function runsOn<T>(r: Rule<T>, oldValue: unknown): boolean {
  return r.optionalOldSelf === true || oldValue !== undefined || !/\boldSelf\b/.test(r.cel);
}

export interface ValidationContext {
  errors: string[];
  /**
   * For the webhook: the API server has run the schema and its CEL rules, so rules are skipped and the
   * admission checks' refusals go here instead of `errors`.
   */
  admissionErrors?: string[];
}

/**
 * One node of the API schema: renders its OpenAPI fragment, validates and defaults values.
 * `Out` is the stored shape (defaults applied), `In` what a user may write.
 */
export abstract class Schema<Out, In = Out> {
  declare readonly _out: Out;
  declare readonly _in: In;
  protected description?: string;
  protected rules: Rule<Out>[] = [];
  protected admissionChecks: AdmissionCheck<Out>[] = [];

  protected abstract readonly type: SchemaType;

  /** Shown by `kubectl explain`. */
  describe(description: string): this {
    const copy = this.copy();
    copy.description = description;
    return copy;
  }

  withRules(...rules: Rule<Out>[]): this {
    const copy = this.copy();
    copy.rules = [...this.rules, ...rules];
    return copy;
  }

  /**
   * A check CEL cannot express (parsing the cluster query language): not in the CRD, so the API
   * server runs it through Berth's validating admission webhook, which calls the same validator as
   * the embedded store. Returns the problem, or undefined when the value is fine.
   */
  withAdmissionCheck(check: AdmissionCheck<Out>): this {
    const copy = this.copy();
    copy.admissionChecks = [...this.admissionChecks, check];
    return copy;
  }

  optional(): Field<this, 'optional'> {
    return new Field(this, 'optional');
  }

  default(value: In): Field<this, 'defaulted'> {
    return new Field(this, 'defaulted', value);
  }

  toOpenAPI(): JSONSchemaProps {
    const props: JSONSchemaProps = {};
    if (this.description !== undefined) props.description = this.description;
    props.type = this.type;
    Object.assign(props, this.constraints());
    if (this.rules.length > 0) props['x-kubernetes-validations'] = this.rules.map(toRuleProps);
    return props;
  }

  /**
   * Appends the refusals of `value` at `path` to `context.errors`. Rules run only when the node
   * and everything under it passed the schema, as their predicates assume a well-typed value.
   */
  validate(value: unknown, path: string, oldValue: unknown, context: ValidationContext): void {
    const errorsBefore = context.errors.length;
    if (!this.validateValue(value, path, oldValue, context)) return;
    if (context.errors.length > errorsBefore) return;
    for (const r of context.admissionErrors ? [] : this.rules) {
      if (runsOn(r, oldValue) && !evaluate(r, value as Out, oldValue as Out | undefined)) context.errors.push(ruleError(r, path, this.type, value as Out));
    }
    for (const check of this.admissionChecks) {
      const problem = check(value as Out);
      if (problem !== undefined) (context.admissionErrors ?? context.errors).push(fieldError.invalid(path, value, problem));
    }
  }

  /** Fills absent defaulted fields in place, as the API server does before validation. */
  applyDefaults(_value: unknown): void {}

  /** Bounds, enums, children: everything of the fragment but description, type and rules. */
  protected abstract constraints(): JSONSchemaProps;

  /** Checks type and bounds, recurses into children; false when the value has the wrong type. */
  protected abstract validateValue(value: unknown, path: string, oldValue: unknown, context: ValidationContext): boolean;

  private copy(): this {
    return Object.assign(Object.create(Object.getPrototypeOf(this) as object) as this, this);
  }
}

export type Presence = 'optional' | 'defaulted';

/** A schema in an object's shape that may be absent (optional) or is filled by the API server (defaulted). */
export class Field<S extends AnySchema, P extends Presence> {
  constructor(
    readonly schema: S,
    readonly presence: P,
    readonly defaultValue?: unknown,
  ) {}
}

// `any` here lets a schema of any shape fit, whatever its Out and In.
/* eslint-disable @typescript-eslint/no-explicit-any */
export type AnySchema = Schema<any, any>;
export type ShapeEntry = AnySchema | Field<AnySchema, any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

/** The stored TypeScript type of a schema: defaulted fields are present. */
export type Infer<S extends AnySchema> = S['_out'];
/** What a user may write: defaulted fields may be left out. */
export type InferInput<S extends AnySchema> = S['_in'];

function toRuleProps<T>(r: Rule<T>): ValidationRuleProps {
  const props: ValidationRuleProps = { rule: r.cel, message: r.message };
  if (r.messageExpression !== undefined) props.messageExpression = r.messageExpression.cel;
  if (r.optionalOldSelf === true) props.optionalOldSelf = true;
  if (r.fieldPath !== undefined) props.fieldPath = r.fieldPath;
  if (r.reason !== undefined) props.reason = r.reason;
  return props;
}

/** `oldValue` is undefined only where `runsOn` lets a rule run without one: for optionalOldSelf rules. */
function evaluate<T>(r: Rule<T>, value: T, oldValue: T | undefined): boolean {
  try {
    return r.optionalOldSelf === true ? r.check(value, oldValue) : r.check(value, oldValue as T);
  } catch {
    // CEL reports a failed evaluation (e.g. a missing key) as a refusal too.
    return false;
  }
}

/**
 * CEL failures name the rule's node (or its fieldPath) and print the node's type as the value. A rule
 * on the whole object (path '') blames `.metadata.name` as `metadata.name`.
 */
function ruleError<T>(r: Rule<T>, path: string, type: SchemaType, value: T): string {
  const blamed = r.fieldPath === undefined ? path : `${path}${r.fieldPath}`.replace(/^\./, '');
  const message = messageOf(r, value);
  switch (r.reason) {
    case 'FieldValueForbidden':
      return fieldError.forbidden(blamed, message);
    case 'FieldValueRequired':
      return fieldError.required(blamed, message);
    default:
      return fieldError.invalid(blamed, type, message);
  }
}

function messageOf<T>(r: Rule<T>, value: T): string {
  if (r.messageExpression === undefined) return r.message;
  try {
    return r.messageExpression.render(value);
  } catch {
    return r.message;
  }
}
