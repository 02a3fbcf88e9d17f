import type { Cluster, ContainerInstance, NodeGroup, Task } from '../../api';
import { boundedName, maxObjectNameLength } from '../../store/object-names';
import { holdsResources } from '../../ecs/resources';
import type { ProviderName } from '../../ecs/instance-provider';
import { availabilityZoneAttribute, cpuArchitectureAttribute, instanceTypeAttribute, osTypeAttribute } from '../../ecs/attributes';

/**
 * Pure planning for the instances of managed node groups: which to launch, drain, reactivate and
 * delete to reach the desired size, honouring managed termination protection. The controller carries
 * the plan out; running it again on the resulting state plans nothing more.
 */

export const providerAttribute = 'berth.dev/provider';

/**
 * What a launched instance runs on: Linux containers on the engine of the host Berth runs on, whose
 * architecture is this process's, in ECS's two names (Node's x64 is ECS's x86_64).
 */
const hostArchitecture = process.arch === 'arm64' ? 'arm64' : 'x86_64';
/** Marks the instances this controller drained, the only DRAINING ones it may turn ACTIVE again. */
export const drainReasonAnnotation = 'berth.dev/drain-reason';

export type RetirementCause = 'scale-in' | 'node-group-removed' | 'cluster-deleted';

/** The tasks bound to each instance, by instance name. */
export type TasksByInstance = ReadonlyMap<string, readonly Task[]>;

export type ManagedNodeGroup = NodeGroup & {
  type: 'managed';
  instanceType: NonNullable<NodeGroup['instanceType']>;
  scaling: NonNullable<NodeGroup['scaling']>;
};

export interface NodeGroupPlan {
  /** Why the instances of drain, delete and waiting are retired. */
  cause: RetirementCause;
  /** New instances, complete objects. */
  create: ContainerInstance[];
  /** Instances to set DRAINING (see drainedInstance). */
  drain: ContainerInstance[];
  /** Instances this controller drained that are wanted again (see reactivatedInstance). */
  reactivate: ContainerInstance[];
  /** Drained instances to delete. */
  delete: ContainerInstance[];
  /** Drained instances kept by termination protection until their tasks stop. */
  waiting: { instance: ContainerInstance; activeTasks: number }[];
  /** A group of Nodes: the replicas its scale target is set to, and the Nodes still to join to reach them. */
  scaleTarget?: { description: string; replicas: number; joining: number; problem?: string };
}

/** The schema makes instanceType and scaling required on managed groups; this lets the types know. */
export function isManagedNodeGroup(group: NodeGroup): group is ManagedNodeGroup {
  return group.type === 'managed' && group.instanceType !== undefined && group.scaling !== undefined;
}

/** desiredSize when set, else minSize (the schema's documented default, as an Auto Scaling group starts at its minimum). */
export function desiredSizeOf(group: ManagedNodeGroup): number {
  return group.scaling.desiredSize ?? group.scaling.minSize;
}

function providerOf(group: ManagedNodeGroup): ProviderName {
  return group.provider ?? 'local';
}

/** Deterministic, so a controller restarted between two creates finds its own instances instead of adding more. */
export function instanceName(cluster: string, nodeGroup: string, index: number): string {
  return `${instanceNamePrefix(cluster, nodeGroup)}${index}`;
}

/** Indexes stay below maxSize (1000) plus the instances still being deleted: 10 digits is room to spare. */
const maxIndexDigits = 10;

/** `<cluster>-<group>-`, hash-shortened when a long cluster name would leave no room for the index. */
function instanceNamePrefix(cluster: string, nodeGroup: string): string {
  return `${boundedName(`${cluster}-${nodeGroup}`, maxObjectNameLength - maxIndexDigits - 1)}-`;
}

/** The value of `ecs.instance-type`: the instance's shape, e.g. `2048cpu-4096mb`, for memberOf expressions. */
function instanceTypeName(instanceType: ManagedNodeGroup['instanceType']): string {
  return `${instanceType.cpu}cpu-${instanceType.memory}mb`;
}

/** Instances this cluster launched: those it controls. Self-managed hosts register themselves and are never the cluster's to delete. */
export function isLaunchedBy(instance: ContainerInstance, cluster: Cluster): boolean {
  return instance.metadata.ownerReferences?.some((ref) => ref.controller === true && ref.uid === cluster.metadata.uid) ?? false;
}

function activeTaskCount(instance: ContainerInstance, tasksByInstance: TasksByInstance): number {
  return (tasksByInstance.get(instance.metadata.name) ?? []).filter(holdsResources).length;
}

/**
 * Plans one managed node group towards `desiredSize` (scaling.desiredSize, or the size managed scaling
 * decided). `existing` are the instances the cluster launched for this group, including any still
 * being deleted (they keep their name taken).
 *
 * Scale-out takes the lowest free indexes. Scale-in retires the instances the group can best spare:
 * those already DRAINING, then those without tasks, then the highest index. Each is drained first, so
 * nothing new lands on it; with managedTerminationProtection ENABLED (the default) it is deleted only
 * once no task holds it any more, so an instance with tasks drains while its services move them;
 * with DISABLED it is deleted as soon as it is DRAINING, tasks or not.
 */
export function planNodeGroupInstances(
  cluster: Cluster,
  group: ManagedNodeGroup,
  existing: readonly ContainerInstance[],
  tasksByInstance: TasksByInstance,
  desiredSize: number = desiredSizeOf(group),
): NodeGroupPlan {
  const members = existing.filter((instance) => !instance.metadata.deletionTimestamp);
  const surplus = members.length - desiredSize;
  const prefix = instanceNamePrefix(cluster.metadata.name, group.name);
  const victims = surplus > 0 ? rankForRetirement(members, prefix, tasksByInstance).slice(0, surplus) : [];
  const plan = retire(victims, 'scale-in', group.managedTerminationProtection ?? 'ENABLED', tasksByInstance);
  plan.reactivate = members.filter((instance) => !victims.includes(instance) && instance.metadata.annotations?.[drainReasonAnnotation] !== undefined);
  plan.create = freeIndexes(existing, prefix, -surplus).map((index) => newInstance(cluster, group, index));
  return plan;
}

/**
 * Plans the retirement of launched instances that no node group of the spec wants any more (their
 * group was removed, or the cluster is being deleted): all of them are drained and deleted once no
 * task holds them, whatever protection their group had.
 */
export function planRetiredInstances(
  instances: readonly ContainerInstance[],
  cause: Exclude<RetirementCause, 'scale-in'>,
  tasksByInstance: TasksByInstance,
): NodeGroupPlan {
  return retire(
    instances.filter((instance) => !instance.metadata.deletionTimestamp),
    cause,
    'ENABLED',
    tasksByInstance,
  );
}

export function drainedInstance(instance: ContainerInstance, cause: RetirementCause): ContainerInstance {
  return {
    ...instance,
    metadata: { ...instance.metadata, annotations: { ...instance.metadata.annotations, [drainReasonAnnotation]: cause } },
    spec: { ...instance.spec, status: 'DRAINING' },
  };
}

export function reactivatedInstance(instance: ContainerInstance): ContainerInstance {
  const { [drainReasonAnnotation]: _drainReason, ...annotations } = instance.metadata.annotations ?? {};
  return { ...instance, metadata: { ...instance.metadata, annotations }, spec: { ...instance.spec, status: 'ACTIVE' } };
}

export function retire(
  victims: readonly ContainerInstance[],
  cause: RetirementCause,
  protection: 'ENABLED' | 'DISABLED',
  tasksByInstance: TasksByInstance,
): NodeGroupPlan {
  const plan: NodeGroupPlan = { cause, create: [], drain: [], reactivate: [], delete: [], waiting: [] };
  for (const instance of victims) {
    const activeTasks = activeTaskCount(instance, tasksByInstance);
    if (instance.spec.status !== 'DRAINING') plan.drain.push(instance);
    else if (activeTasks === 0 || protection === 'DISABLED') plan.delete.push(instance);
    else plan.waiting.push({ instance, activeTasks });
  }
  return plan;
}

/** Already draining first (so the choice holds from one reconcile to the next), then empty, then the highest index. */
export function rankForRetirement(members: readonly ContainerInstance[], prefix: string, tasksByInstance: TasksByInstance): ContainerInstance[] {
  const draining = (instance: ContainerInstance) => (instance.spec.status === 'DRAINING' ? 0 : 1);
  const busy = (instance: ContainerInstance) => (activeTaskCount(instance, tasksByInstance) === 0 ? 0 : 1);
  const index = (instance: ContainerInstance) => indexOf(instance, prefix) ?? -1;
  return [...members].sort((a, b) => draining(a) - draining(b) || busy(a) - busy(b) || index(b) - index(a));
}

function freeIndexes(existing: readonly ContainerInstance[], prefix: string, count: number): number[] {
  const taken = new Set(existing.map((instance) => indexOf(instance, prefix)));
  const free: number[] = [];
  for (let index = 0; free.length < count; index++) if (!taken.has(index)) free.push(index);
  return free;
}

function indexOf(instance: ContainerInstance, prefix: string): number | undefined {
  const name = instance.metadata.name;
  if (!name.startsWith(prefix)) return undefined;
  const suffix = name.slice(prefix.length);
  return /^(0|[1-9][0-9]*)$/.test(suffix) ? Number(suffix) : undefined;
}

/** The ContainerInstance of a new instance of `group` at `index`, as it is created. */
export function newInstance(cluster: Cluster, group: ManagedNodeGroup, index: number): ContainerInstance {
  const zones = group.availabilityZones ?? [];
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'ContainerInstance',
    metadata: {
      name: instanceName(cluster.metadata.name, group.name, index),
      namespace: cluster.metadata.namespace,
      ownerReferences: [
        {
          apiVersion: cluster.apiVersion,
          kind: cluster.kind,
          name: cluster.metadata.name,
          uid: cluster.metadata.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      cluster: cluster.metadata.name,
      nodeGroup: group.name,
      // The ecs.* and berth.dev/* attributes describe the instance itself, so they win over custom ones of the same name.
      attributes: {
        ...group.attributes,
        ...(zones.length > 0 ? { [availabilityZoneAttribute]: zones[index % zones.length] } : {}),
        [instanceTypeAttribute]: instanceTypeName(group.instanceType),
        [osTypeAttribute]: 'linux',
        [cpuArchitectureAttribute]: hostArchitecture,
        [providerAttribute]: providerOf(group),
      },
      registeredResources: { cpu: group.instanceType.cpu, memory: group.instanceType.memory },
      status: 'ACTIVE',
    },
  };
}
