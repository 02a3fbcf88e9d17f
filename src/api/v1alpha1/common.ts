/** Schema pieces shared by several kinds. */
import { clusterQueryProblem } from '../cluster-query';
import { rule, s, type Infer, type Rule } from '../schema';

const dnsLabelPattern = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const dnsSubdomainPattern = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/** The name of another Kubernetes object in the same namespace. */
export const objectName = () => s.string({ minLength: 1, maxLength: 253, pattern: dnsSubdomainPattern });

/** Node group, Fargate profile and similar names: they become parts of object names. */
export const dnsLabel = () => s.string({ minLength: 1, maxLength: 63, pattern: dnsLabelPattern });

/** ECS: up to 255 letters, numbers, underscores and hyphens. */
export const familyName = () => s.string({ minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9_-]+$' });

export const taskDefinitionReference = {
  /** `family` (follow the latest ACTIVE revision) or `family:N`. */
  familyOrRevision: () => s.string({ maxLength: 266, pattern: '^[a-zA-Z0-9_-]{1,255}(:[1-9][0-9]{0,9})?$' }),
  /** `family:N`: a task always runs one fixed revision. */
  revision: () => s.string({ maxLength: 266, pattern: '^[a-zA-Z0-9_-]{1,255}:[1-9][0-9]{0,9}$' }),
};

/** The capacity provider of a node group is named after it; FARGATE is the serverless one. */
export const fargateCapacityProvider = 'FARGATE';
export const capacityProviderName = () => s.string({ minLength: 1, maxLength: 63, pattern: '^(FARGATE|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$' });

export const launchType = () => s.enum<LaunchType>(['EC2', 'FARGATE', 'EXTERNAL']);

export const timestamp = () => s.string({ format: 'date-time' });

/** metav1.Condition. */
export const condition = s.object({
  type: s
    .string({
      maxLength: 316,
      pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    })
    .describe('Type of condition in CamelCase, e.g. Ready.'),
  status: s.enum(['True', 'False', 'Unknown']).describe('Status of the condition.'),
  observedGeneration: s.integer({ minimum: 0 }).describe('The metadata.generation the condition was set for.').optional(),
  lastTransitionTime: timestamp().describe('When the condition last changed from one status to another.'),
  reason: s
    .string({ minLength: 1, maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' })
    .describe("A programmatic identifier of the condition's last transition, in CamelCase."),
  message: s.string({ maxLength: 32768 }).describe('A human readable message about the transition.'),
});
export type Condition = Infer<typeof condition>;

export const conditions = () => s.array(condition, { maxItems: 32, mapKeys: ['type'] }).describe('The latest observations of the object’s state.');

export const observedGeneration = () => s.integer({ minimum: 0 }).describe('The metadata.generation this status was computed for.');

const capacityProviderStrategyItem = s.object({
  capacityProvider: capacityProviderName().describe('A node group name of the cluster, or FARGATE.'),
  base: s
    .integer({ minimum: 0, maximum: 100000 })
    .describe('How many tasks, at least, run on this capacity provider. Only one provider of a strategy can have a base.')
    .default(0),
  weight: s.integer({ minimum: 0, maximum: 1000 }).describe('The relative share of tasks this capacity provider gets once every base is met.').default(0),
});

export const capacityProviderStrategy = () =>
  s
    .array(capacityProviderStrategyItem, { maxItems: 6, mapKeys: ['capacityProvider'] })
    .describe('How tasks are spread over capacity providers (node groups and FARGATE).')
    .withRules(
      rule({
        cel: 'self.filter(p, p.base > 0).size() <= 1',
        message: 'only one capacity provider of a strategy can have a base greater than 0',
        check: (self) => self.filter((p) => p.base > 0).length <= 1,
      }),
      rule({
        cel: 'self.size() <= 1 || self.exists(p, p.weight > 0)',
        message: 'with more than one capacity provider, at least one needs a weight greater than 0',
        check: (self) => self.length <= 1 || self.some((p) => p.weight > 0),
      }),
    );

/** ECS refuses a launch type together with a capacity provider strategy: each says where tasks go. */
export const launchTypeOrStrategy = <Self extends { launchType?: LaunchType; capacityProviderStrategy?: unknown[] }>(): Rule<Self> =>
  rule<Self>({
    cel: '!has(self.launchType) || !has(self.capacityProviderStrategy) || size(self.capacityProviderStrategy) == 0',
    message: 'launchType and capacityProviderStrategy are exclusive',
    fieldPath: '.launchType',
    reason: 'FieldValueForbidden',
    check: (self) => self.launchType === undefined || (self.capacityProviderStrategy ?? []).length === 0,
  });

export const placementExpression = () =>
  s
    .string({ minLength: 1, maxLength: 2000 })
    .describe('A cluster query language expression, e.g. `attribute:ecs.availability-zone in [zone-a, zone-b]`.')
    .withAdmissionCheck(clusterQueryProblem);

/** A scheduling decision about where tasks may go; shared by Service and TaskDefinition. */
export const placementConstraint = (types: readonly ('distinctInstance' | 'memberOf')[]) =>
  s
    .object({
      type: s.enum(types).describe('distinctInstance: every task on a different instance; memberOf: instances matching expression.'),
      expression: placementExpression().optional(),
    })
    .withRules(
      rule({
        cel: "self.type != 'memberOf' || has(self.expression)",
        message: 'memberOf needs an expression',
        fieldPath: '.expression',
        reason: 'FieldValueRequired',
        check: (self) => self.type !== 'memberOf' || self.expression !== undefined,
      }),
      rule({
        cel: "self.type != 'distinctInstance' || !has(self.expression)",
        message: 'distinctInstance takes no expression',
        fieldPath: '.expression',
        reason: 'FieldValueForbidden',
        check: (self) => self.type !== 'distinctInstance' || self.expression === undefined,
      }),
    );

/** A placement strategy step of a Service or a RunTask (Task). */
const placementStrategy = s
  .object({
    type: s.enum(['binpack', 'spread', 'random']).describe('binpack: fill the instance with the least of field left; spread: balance over field; random.'),
    field: s
      .string({ minLength: 1, maxLength: 255 })
      .describe('binpack: cpu or memory; spread: instanceId (or host) or an attribute such as attribute:ecs.availability-zone.')
      .optional(),
  })
  .withRules(
    rule({
      cel: "self.type != 'binpack' || (has(self.field) && self.field in ['cpu', 'memory'])",
      message: 'binpack needs field cpu or memory',
      fieldPath: '.field',
      check: (self) => self.type !== 'binpack' || self.field === 'cpu' || self.field === 'memory',
    }),
    rule({
      cel: "self.type != 'spread' || has(self.field)",
      message: 'spread needs a field, e.g. instanceId or attribute:ecs.availability-zone',
      fieldPath: '.field',
      reason: 'FieldValueRequired',
      check: (self) => self.type !== 'spread' || self.field !== undefined,
    }),
    rule({
      cel: "self.type != 'random' || !has(self.field)",
      message: 'random takes no field',
      fieldPath: '.field',
      reason: 'FieldValueForbidden',
      check: (self) => self.type !== 'random' || self.field === undefined,
    }),
    rule({
      cel: "self.type != 'spread' || !has(self.field) || self.field in ['instanceId', 'host'] || self.field.startsWith('attribute:')",
      message: 'spread takes instanceId, host, or an attribute as attribute:NAME (e.g. attribute:ecs.availability-zone)',
      fieldPath: '.field',
      check: (self) =>
        self.type !== 'spread' || self.field === undefined || self.field === 'instanceId' || self.field === 'host' || self.field.startsWith('attribute:'),
    }),
  );

export const placementStrategies = () =>
  s
    .array(placementStrategy, { maxItems: 5 })
    .describe(
      'How instances are chosen, applied in order (e.g. spread over zones, then binpack on memory); ties pass to the next. Default: spread over ecs.availability-zone then instanceId for a service, random for a standalone task.',
    );

export const placementConstraints = () =>
  s.array(placementConstraint(['distinctInstance', 'memberOf']), { maxItems: 10 }).describe('Rules every placement must satisfy.');

/** How a manifest uses a feature, in CEL and in TypeScript alike. */
export interface FeatureUse<Self> {
  cel: string;
  uses: (self: Self) => boolean;
}

/** The list has items: an empty list asks for nothing, as with the rejected ECS fields. */
export const nonEmpty = <Self>(field: keyof Self & string): FeatureUse<Self> => ({
  cel: `has(self.${field}) && size(self.${field}) > 0`,
  uses: (self) => ((self[field] as unknown[] | undefined) ?? []).length > 0,
});

/**
 * Refuses a field that Berth declares with its ECS shape, so that the schema still checks it, but
 * does not implement yet: accepted, it would be silently ignored. The message says so and what
 * happens instead; the issue that implements the feature deletes the refusal.
 */
export function notSupportedYet<Self>(field: keyof Self & string, use: FeatureUse<Self>, message: string): Rule<Self> {
  return rule<Self>({
    cel: `!(${use.cel})`,
    message,
    fieldPath: `.${field}`,
    reason: 'FieldValueForbidden',
    check: (self) => !use.uses(self),
  });
}

type LaunchType = 'EC2' | 'FARGATE' | 'EXTERNAL';

/** EXTERNAL (ECS Anywhere) has no meaning of its own in Berth yet: self-managed hosts are a node group, chosen by capacity provider. */
export const launchTypesNotSupportedYet = <Self extends { launchType?: LaunchType }>(): Rule<Self>[] => [
  notSupportedYet<Self>(
    'launchType',
    { cel: "has(self.launchType) && self.launchType == 'EXTERNAL'", uses: (self) => self.launchType === 'EXTERNAL' },
    'launchType EXTERNAL is not supported yet: hosts of your own run berth agent in a selfManaged node group; name that group in a capacityProviderStrategy to place tasks there',
  ),
];

/** A metav1.LabelSelector (store/label-selector.ts matches and prints it): every requirement must hold; empty selects all. */
export const labelSelector = (description: string) =>
  s
    .object({
      matchLabels: s
        .map(s.string({ maxLength: 63 }), { maxProperties: 32 })
        .describe('Labels that must be present, with these values.')
        .optional(),
      matchExpressions: s
        .array(
          s.object({
            key: s.string({ minLength: 1, maxLength: 317 }).describe('The label key.'),
            operator: s.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']).describe('How the label is compared with values.'),
            values: s
              .array(s.string({ maxLength: 63 }), { maxItems: 64 })
              .describe('For In and NotIn.')
              .optional(),
          }),
          { maxItems: 16 },
        )
        .describe('Requirements on labels, all of which must hold.')
        .optional(),
    })
    .describe(description);
