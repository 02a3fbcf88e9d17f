/** The subset of apiextensions.k8s.io/v1 JSONSchemaProps that Berth's schemas produce. */

/** How the API server reports a failed CEL rule; the default is FieldValueInvalid. */
export type RuleReason = 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired';

/** One entry of `x-kubernetes-validations`. */
export interface ValidationRuleProps {
  rule: string;
  message: string;
  messageExpression?: string;
  optionalOldSelf?: boolean;
  fieldPath?: string;
  reason?: RuleReason;
}

export type SchemaType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';

export interface JSONSchemaProps {
  description?: string;
  type?: SchemaType;
  format?: string;
  enum?: readonly string[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  properties?: Record<string, JSONSchemaProps>;
  required?: string[];
  items?: JSONSchemaProps;
  additionalProperties?: JSONSchemaProps;
  'x-kubernetes-preserve-unknown-fields'?: true;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: ValidationRuleProps[];
}
