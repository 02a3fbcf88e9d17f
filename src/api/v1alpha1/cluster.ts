/** Cluster: a logical space for tasks and services, with the node groups and Fargate profiles that give it capacity. */
import type { KubeObject } from '../../store/object-store';
import { age, defineKind } from '../kind';
import { rule, s, type Infer, type InferInput } from '../schema';
import { capacityProviderStrategy, conditions, dnsLabel, fargateCapacityProvider, labelSelector, observedGeneration, timestamp } from './common';

const scaling = s
  .object({
    minSize: s.integer({ minimum: 0, maximum: 1000 }).describe('Fewest instances.').default(0),
    maxSize: s.integer({ minimum: 0, maximum: 1000 }).describe('Most instances.'),
    desiredSize: s
      .integer({ minimum: 0, maximum: 1000 })
      .describe(
        'Instances to start with (default minSize). With managedScaling ENABLED Berth moves the group between minSize and maxSize from there, and records the size it drives the group to in status.nodeGroups[].desiredSize, never here.',
      )
      .optional(),
  })
  .describe('Size bounds of a managed node group (its Auto Scaling group).')
  .withRules(
    rule({
      cel: 'self.minSize <= self.maxSize',
      message: 'maxSize must not be below minSize',
      fieldPath: '.maxSize',
      check: (self) => self.minSize <= self.maxSize,
    }),
    rule({
      cel: '!has(self.desiredSize) || (self.minSize <= self.desiredSize && self.desiredSize <= self.maxSize)',
      message: 'desiredSize must be between minSize and maxSize',
      fieldPath: '.desiredSize',
      check: (self) => self.desiredSize === undefined || (self.minSize <= self.desiredSize && self.desiredSize <= self.maxSize),
    }),
  );

const managedScaling = s
  .object({
    status: s.enum(['ENABLED', 'DISABLED']).describe('ENABLED: Berth sizes the group to meet targetCapacity.').default('ENABLED'),
    targetCapacity: s
      .integer({ minimum: 1, maximum: 100 })
      .describe('Target of the capacity provider reservation (instances needed / instances running, in percent); 100 keeps no spare instance.')
      .default(100),
    minimumScalingStepSize: s.integer({ minimum: 1, maximum: 10000 }).describe('Fewest instances added or removed at once.').default(1),
    maximumScalingStepSize: s.integer({ minimum: 1, maximum: 10000 }).describe('Most instances added or removed at once.').default(10000),
    instanceWarmupPeriod: s.integer({ minimum: 0, maximum: 10000 }).describe('Seconds a new instance takes before it counts.').default(300),
    scaleInCooldownSeconds: s
      .integer({ minimum: 0, maximum: 86400 })
      .describe("Berth's own field, not ECS's: seconds the reservation must stay below targetCapacity before the group scales in (ECS waits 15 minutes).")
      .default(900),
  })
  .describe('Capacity-provider managed scaling. Absent, or DISABLED: the group keeps scaling.desiredSize instances (minSize when unset).')
  .withRules(
    rule({
      cel: 'self.minimumScalingStepSize <= self.maximumScalingStepSize',
      message: 'minimumScalingStepSize must not exceed maximumScalingStepSize',
      fieldPath: '.minimumScalingStepSize',
      check: (self) => self.minimumScalingStepSize <= self.maximumScalingStepSize,
    }),
  );

const toleration = s.object({
  key: s.string({ maxLength: 317 }).describe('The taint key; empty with operator Exists tolerates every taint.').optional(),
  operator: s.enum(['Exists', 'Equal']).describe('Exists: any value; Equal: the value below.').default('Equal'),
  value: s.string({ maxLength: 63 }).describe('The taint value, for Equal.').optional(),
  effect: s.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).describe('The taint effect; empty tolerates all.').optional(),
  tolerationSeconds: s.integer({ minimum: 0 }).describe('For NoExecute: how long the task stays on a Node after the taint appears.').optional(),
});

const scaleTarget = s
  .object({
    apiVersion: s
      .string({ minLength: 1, maxLength: 253, pattern: '^([a-z0-9.-]+/)?v[0-9]+[a-z0-9]*$' })
      .describe('API version of the target, e.g. cluster.x-k8s.io/v1beta1.'),
    kind: s.string({ minLength: 1, maxLength: 63, pattern: '^[A-Z][A-Za-z0-9]*$' }).describe('Its kind, e.g. MachineDeployment or MachinePool.'),
    name: dnsLabel().describe("Its name, in the Cluster's namespace."),
  })
  .describe(
    "What adds and removes this group's Nodes: any object with a /scale subresource in the Cluster's namespace, whose replicas Berth sets within scaling.minSize..maxSize. On scale-in Berth drains and cordons an empty Node, marks its Machine (the Node's cluster.x-k8s.io/machine annotation) with cluster.x-k8s.io/delete-machine, and only then lowers replicas.",
  );

const nodes = s
  .object({
    selector: labelSelector('A Kubernetes label selector over Nodes; empty selects every Node.'),
    tolerations: s
      .array(toleration, { maxItems: 32 })
      .describe("Tolerations every task's Pod carries, for Nodes tainted for this group (e.g. dedicated=ecs:NoSchedule).")
      .optional(),
    allowHostPaths: s
      .boolean()
      .describe("Whether tasks may mount a path of the Node (a volume's host.sourcePath); off, such a task waits for a group that allows it.")
      .default(false),
    scaleTarget: scaleTarget.optional(),
  })
  .describe(
    'A group of Kubernetes Nodes: each Node the selector matches is mirrored as a ContainerInstance (allocatable CPU and memory, labels as attributes), and its tasks run as Pods bound to it.',
  );

/** What a group's Nodes bring themselves (their labels, what launches them), so a group of Nodes takes none. */
const nodeLabelFields = ['availabilityZones', 'attributes', 'provider'] as const;

const managedOnly = ['instanceType', 'scaling', 'managedScaling', 'managedTerminationProtection', 'provider'] as const;

const nodeGroup = s
  .object({
    name: dnsLabel().describe('The node group name, which is also its capacity provider name.'),
    type: s
      .enum(['managed', 'selfManaged'])
      .describe(
        'managed: Berth launches and terminates the instances; selfManaged: hosts register themselves by running `berth agent`, or, with nodes, the Nodes the selector matches are the instances.',
      )
      .withRules(rule({ cel: 'self == oldSelf', message: 'type is immutable', check: (self, oldSelf) => self === oldSelf })),
    instanceType: s
      .object({
        cpu: s.integer({ minimum: 128 }).describe('CPU units per instance (1024 = one vCPU).'),
        memory: s.integer({ minimum: 128 }).describe('Memory per instance in MiB.'),
      })
      .describe(
        "Capacity of each instance of a managed node group; for a group of Nodes, the allocatable of a Node its scale target adds (managed scaling estimates the Nodes that waiting tasks need from it, as cluster-autoscaler's capacity annotations do when a group is at zero).",
      )
      .optional(),
    scaling: scaling.optional(),
    availabilityZones: s
      .array(s.string({ minLength: 1, maxLength: 64 }), { maxItems: 16, set: true })
      .describe('Zones the instances are spread over; each instance gets the attribute ecs.availability-zone.')
      .optional(),
    attributes: s
      .map(s.string({ maxLength: 128 }), { maxProperties: 64 })
      .describe('Custom attributes of every instance, for memberOf constraints and spread strategies.')
      .optional(),
    managedScaling: managedScaling.optional(),
    managedTerminationProtection: s
      .enum(['ENABLED', 'DISABLED'])
      .describe('ENABLED (the default): scale-in only removes instances without tasks, after draining.')
      .optional(),
    provider: s.enum(['local', 'simulated']).describe('What launches the instances: local Docker (default) or simulated.').optional(),
    nodes: nodes.optional(),
  })
  .withRules(
    rule({
      cel: `self.name != '${fargateCapacityProvider.toLowerCase()}'`,
      message: `${fargateCapacityProvider.toLowerCase()} is reserved for the ${fargateCapacityProvider} capacity provider of fargateProfiles`,
      fieldPath: '.name',
      check: (self) => self.name !== fargateCapacityProvider.toLowerCase(),
    }),
    rule({
      cel: "self.type != 'managed' || has(self.instanceType)",
      message: 'a managed node group needs instanceType',
      fieldPath: '.instanceType',
      reason: 'FieldValueRequired',
      check: (self) => self.type !== 'managed' || self.instanceType !== undefined,
    }),
    rule({
      cel: "self.type != 'managed' || has(self.scaling)",
      message: 'a managed node group needs scaling',
      fieldPath: '.scaling',
      reason: 'FieldValueRequired',
      check: (self) => self.type !== 'managed' || self.scaling !== undefined,
    }),
    rule({
      cel: "self.type != 'managed' || !has(self.nodes) || has(self.nodes.scaleTarget)",
      message: 'a managed group of Nodes needs a scaleTarget (e.g. a Cluster API MachineDeployment): Berth adds and removes its Nodes through it',
      fieldPath: '.nodes.scaleTarget',
      reason: 'FieldValueRequired',
      check: (self) => self.type !== 'managed' || self.nodes === undefined || self.nodes.scaleTarget !== undefined,
    }),
    rule({
      cel: "self.type != 'selfManaged' || !has(self.nodes) || !has(self.nodes.scaleTarget)",
      message: 'a selfManaged group of Nodes takes no scaleTarget: Berth never scales it (use type managed)',
      fieldPath: '.nodes.scaleTarget',
      reason: 'FieldValueForbidden',
      check: (self) => self.type !== 'selfManaged' || self.nodes?.scaleTarget === undefined,
    }),
    ...nodeLabelFields.map((field) =>
      rule<{ nodes?: unknown } & Partial<Record<(typeof nodeLabelFields)[number], unknown>>>({
        cel: `!has(self.nodes) || !has(self.${field})`,
        message: `a group of Nodes takes no ${field}: its instances are the Nodes, with their labels as attributes`,
        fieldPath: `.${field}`,
        reason: 'FieldValueForbidden',
        check: (self) => self.nodes === undefined || self[field] === undefined,
      }),
    ),
    ...managedOnly.map((field) =>
      rule<{ type: string } & Partial<Record<(typeof managedOnly)[number], unknown>>>({
        cel: `self.type != 'selfManaged' || !has(self.${field})`,
        message: `a selfManaged node group takes no ${field}: Berth never launches or terminates its instances`,
        fieldPath: `.${field}`,
        reason: 'FieldValueForbidden',
        check: (self) => self.type !== 'selfManaged' || self[field] === undefined,
      }),
    ),
  );

const fargateProfile = s.object({
  name: dnsLabel().describe('The profile name.'),
  selectors: s
    .array(
      s.object({
        namespace: dnsLabel().describe('Tasks in this namespace are selected.'),
        labels: s
          .map(s.string({ maxLength: 63 }), { maxProperties: 5 })
          .describe('...and that carry all these labels.')
          .optional(),
      }),
      { minItems: 1, maxItems: 5 },
    )
    .describe('A task runs on Fargate when any selector matches it.'),
  pod: s
    .object({
      schedulerName: s.string({ minLength: 1, maxLength: 253 }).describe('The scheduler that places the Pods, e.g. fargate-scheduler on EKS.').optional(),
      nodeSelector: s
        .map(s.string({ maxLength: 63 }), { maxProperties: 32 })
        .describe('Labels of the Nodes the Pods may run on, e.g. those of virtual-kubelet Nodes.')
        .optional(),
      tolerations: s.array(toleration, { maxItems: 32 }).describe('Tolerations of the Pods, for Nodes tainted for serverless Pods.').optional(),
      runtimeClassName: s
        .string({ minLength: 1, maxLength: 253 })
        .describe('The RuntimeClass that isolates each Pod, e.g. a sandboxed runtime such as gVisor or Kata.')
        .optional(),
    })
    .describe(
      "How the cluster isolates the tasks this profile selects, as Pods that Berth does not bind (as EKS runs Fargate Pods): the scheduler, Nodes and runtime that take them. Present, the profile's tasks run as Pods whose address is the Pod IP; absent, they run on Berth's own Fargate pool (a network namespace per task on the Docker engine).",
    )
    .optional(),
});

export const clusterSpec = s
  .object({
    nodeGroups: s
      .array(nodeGroup, { maxItems: 20, mapKeys: ['name'] })
      .describe('Groups of container instances; each is a capacity provider named after it.')
      .optional(),
    fargateProfiles: s
      .array(fargateProfile, { maxItems: 10, mapKeys: ['name'] })
      .describe('Which tasks run serverless, on the FARGATE capacity provider.')
      .optional(),
    defaultCapacityProviderStrategy: capacityProviderStrategy()
      .describe('The strategy of services that set neither launchType nor capacityProviderStrategy.')
      .optional(),
  })
  .withRules(
    rule({
      cel: `!has(self.defaultCapacityProviderStrategy) || self.defaultCapacityProviderStrategy.all(p, p.capacityProvider == '${fargateCapacityProvider}' || (has(self.nodeGroups) && self.nodeGroups.exists(g, g.name == p.capacityProvider)))`,
      message: `every capacity provider must be ${fargateCapacityProvider} or a node group of this cluster`,
      fieldPath: '.defaultCapacityProviderStrategy',
      check: (self) =>
        (self.defaultCapacityProviderStrategy ?? []).every(
          (p) => p.capacityProvider === fargateCapacityProvider || (self.nodeGroups ?? []).some((g) => g.name === p.capacityProvider),
        ),
    }),
  );

const scalingDecision = s.object({
  direction: s.enum(['out', 'in']).describe('out: instances were added; in: instances were removed.'),
  from: s.integer({ minimum: 0 }).describe('The desired size before the decision.'),
  to: s.integer({ minimum: 0 }).describe('The desired size after it.'),
  reason: s.string({ maxLength: 1024 }).describe('Why, with the reservation that called for it.'),
  time: timestamp().describe('When it was decided.'),
});

const nodeGroupStatus = s.object({
  name: dnsLabel().describe('The node group.'),
  desiredSize: s
    .integer({ minimum: 0 })
    .describe('Instances the group aims for: scaling.desiredSize, or with managedScaling ENABLED the size managed scaling drives it to.')
    .optional(),
  currentSize: s.integer({ minimum: 0 }).describe('Instances registered.').optional(),
  capacityProviderReservation: s
    .integer({ minimum: 0 })
    .describe('Instances needed by placed and waiting tasks over instances running, in percent.')
    .optional(),
  instancesNeeded: s.integer({ minimum: 0 }).describe('M of the reservation: instances needed by placed and waiting tasks (a bin-packed estimate).').optional(),
  lowReservationSince: timestamp()
    .describe('Since when the reservation has been below targetCapacity: the group scales in once scaleInCooldownSeconds have passed.')
    .optional(),
  lastScalingDecision: scalingDecision.describe('The last time managed scaling changed desiredSize.').optional(),
});

export const clusterStatus = s.object({
  registeredContainerInstancesCount: s.integer({ minimum: 0 }).describe('Container instances registered to the cluster.').optional(),
  activeServicesCount: s.integer({ minimum: 0 }).describe('Services of the cluster.').optional(),
  runningTasksCount: s.integer({ minimum: 0 }).describe('Tasks in RUNNING.').optional(),
  pendingTasksCount: s.integer({ minimum: 0 }).describe('Tasks in PENDING.').optional(),
  nodeGroups: s
    .array(nodeGroupStatus, { maxItems: 20, mapKeys: ['name'] })
    .describe('Sizes per node group.')
    .optional(),
  observedGeneration: observedGeneration().optional(),
  conditions: conditions().optional(),
});

export type ClusterSpec = Infer<typeof clusterSpec>;
export type ClusterSpecInput = InferInput<typeof clusterSpec>;
export type ClusterStatus = Infer<typeof clusterStatus>;
export type NodeGroup = NonNullable<ClusterSpec['nodeGroups']>[number];
export type FargateProfile = NonNullable<ClusterSpec['fargateProfiles']>[number];

export interface Cluster extends KubeObject {
  spec: ClusterSpec;
  status?: ClusterStatus;
}

export const clusterKind = defineKind({
  kind: 'Cluster',
  plural: 'clusters',
  singular: 'cluster',
  shortNames: ['bcl'],
  description: 'An ECS-style cluster: where services and tasks run, with node groups and Fargate profiles as capacity. An empty cluster is valid.',
  spec: clusterSpec.describe('The capacity of the cluster.').default({}),
  status: clusterStatus.describe('Counts of instances, services and tasks.'),
  printerColumns: [
    { name: 'Instances', type: 'integer', jsonPath: '.status.registeredContainerInstancesCount' },
    { name: 'Services', type: 'integer', jsonPath: '.status.activeServicesCount' },
    { name: 'Running', type: 'integer', jsonPath: '.status.runningTasksCount' },
    { name: 'Pending', type: 'integer', jsonPath: '.status.pendingTasksCount' },
    age,
  ],
});
