import type { ResourceType } from '../store/object-store';
import { Field, s, Schema, type JSONSchemaProps, type ObjectSchema, type Rule, type ValidationContext } from './schema';
import { fieldError } from './schema/field-errors';

export const group = 'berth.dev';
export const version = 'v1alpha1';
export const category = 'berth';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  /** 0 shows in `kubectl get`; higher only with `-o wide`. */
  priority?: number;
}

export interface ScaleSubresource {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

/** An apiextensions.k8s.io/v1 CustomResourceDefinition, as far as Berth writes one. */
export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    scope: 'Namespaced';
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JSONSchemaProps };
      subresources: { status: Record<string, never>; scale?: ScaleSubresource };
      additionalPrinterColumns: PrinterColumn[];
    }[];
  };
}

/** What the embedded store needs to refuse and default objects as the kube-apiserver does. */
export interface ObjectValidator {
  /** A copy of `object` with the schema's defaults filled in and nulls pruned. */
  applyDefaults<T>(object: T): T;
  /** Field errors worded like the API server's; empty when valid. Transition rules run only with `oldObject`. */
  validate(object: unknown, oldObject?: unknown): string[];
  /**
   * Only the checks the CRD cannot state (`withAdmissionCheck`): what the admission webhook adds to the
   * API server's own validation, which has already run the schema and its CEL rules.
   */
  admissionErrors(object: unknown): string[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any object schema fits, whatever its shape
type AnyObjectSchema = ObjectSchema<any>;

export interface KindOptions {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: AnyObjectSchema | Field<AnyObjectSchema, 'defaulted'>;
  status: AnyObjectSchema;
  printerColumns: PrinterColumn[];
  scale?: ScaleSubresource;
  /** CEL rules on the whole object: the only place a rule can read `self.metadata.name`. */
  rules?: Rule<KindRoot>[];
}

/** What a rule on the whole object can read, besides spec and status. */
export interface KindRoot {
  metadata?: ObjectMetaFields;
}

/** CEL sees only name and generateName of metadata. */
interface ObjectMetaFields {
  name?: string;
  [field: string]: unknown;
}

/** One custom resource kind: its ResourceType, CRD and validator, all from one schema. */
export interface KindDefinition {
  readonly resourceType: ResourceType;
  readonly validator: ObjectValidator;
  crd(): CustomResourceDefinition;
}

export const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export function defineKind(options: KindOptions): KindDefinition {
  const root = s
    .object({
      apiVersion: s.string().describe('APIVersion defines the versioned schema of this representation of an object.').optional(),
      kind: s.string().describe('Kind is a string value representing the REST resource this object represents.').optional(),
      metadata: new MetadataSchema().optional(),
      spec: options.spec,
      status: options.status.optional(),
    })
    .withRules(...(options.rules ?? []));
  const resourceType: ResourceType = {
    group,
    version,
    kind: options.kind,
    plural: options.plural,
    namespaced: true,
    statusSubresource: true,
  };
  return {
    resourceType,
    validator: {
      applyDefaults<T>(object: T): T {
        const copy = structuredClone(object);
        root.applyDefaults(copy);
        return copy;
      },
      validate(object: unknown, oldObject?: unknown): string[] {
        const context: ValidationContext = { errors: [] };
        root.validate(object, '', oldObject, context);
        return context.errors;
      },
      admissionErrors(object: unknown): string[] {
        const admissionErrors: string[] = [];
        root.validate(object, '', undefined, { errors: [], admissionErrors });
        return admissionErrors;
      },
    },
    crd: () => ({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${options.plural}.${group}` },
      spec: {
        group,
        names: {
          kind: options.kind,
          listKind: `${options.kind}List`,
          plural: options.plural,
          singular: options.singular,
          shortNames: options.shortNames,
          categories: [category],
        },
        scope: 'Namespaced',
        versions: [
          {
            name: version,
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { description: options.description, ...root.toOpenAPI() } },
            subresources: options.scale ? { status: {}, scale: options.scale } : { status: {} },
            additionalPrinterColumns: options.printerColumns,
          },
        ],
      },
    }),
  };
}

/**
 * metadata is the API server's own business. The CRD declares only its name, the one field a rule
 * on the whole object can blame (`fieldPath: .metadata.name` must name a declared field).
 */
class MetadataSchema extends Schema<ObjectMetaFields> {
  protected readonly type = 'object';

  protected constraints(): JSONSchemaProps {
    return { properties: { name: { type: 'string' } } };
  }

  protected validateValue(value: unknown, path: string, _old: unknown, context: ValidationContext): boolean {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return true;
    context.errors.push(fieldError.wrongType(path, 'object', value));
    return false;
  }
}
