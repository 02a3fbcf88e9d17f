import type { Cluster, ContainerInstance, Task } from '../../../api';
import { type PlacementConstraint, type Scheduler } from '../../placement';
import { holdsResources, isAdmitted, placementRequirements, remainingResources, type SpecOf } from '../../../ecs/resources';
import { hostPathsAttribute } from '../../../ecs/attributes';
import { newInstance, type ManagedNodeGroup, type TasksByInstance } from '../node-group-plan';
import { instancesNeeded, portKey, type InstanceRoom, type TaskShape } from './instances-needed';
import type { GroupDemand } from './decide-scaling';
import type { InstanceState } from './metrics';

/** A managed node group whose managedScaling is ENABLED, with its settings filled in by the schema's defaults. */
export type ScalingNodeGroup = ManagedNodeGroup & { managedScaling: NonNullable<ManagedNodeGroup['managedScaling']> & { status: 'ENABLED' } };

export function isScalingNodeGroup(group: ManagedNodeGroup): group is ScalingNodeGroup {
  return group.managedScaling?.status === 'ENABLED';
}

export interface DemandSources {
  specOf: SpecOf;
  /** The placement constraints a task is placed with (its service's). */
  constraintsOf: (task: Task) => readonly PlacementConstraint[];
  scheduler: Scheduler;
  /** A group of Nodes' current instances, whose attributes a Node its scale target adds will share. */
  instancesOf?: (group: string) => readonly ContainerInstance[];
}

/**
 * Which node group each waiting task asks capacity of. A task waits for capacity when it is neither
 * admitted nor bound (a task bound at creation, e.g. a DAEMON task, waits for its own instance: new
 * instances do not help it), is not STOPPED or being stopped, and its revision is known.
 *
 * It counts towards the group its spec.capacityProviderName names; without one, towards the first
 * scaling group in spec order that could run it. Either way only if the scheduler would place it on a
 * new, empty instance of that group (one per availability zone is tried, as new instances take the
 * zones in turn): a task too large for the instanceType, or whose memberOf constraint no instance of
 * the group satisfies, is left out, because no number of new instances would ever run it, and
 * counting it would grow the group to maxSize for nothing.
 */
export function waitingTasksByGroup(
  cluster: Cluster,
  groups: readonly ScalingNodeGroup[],
  tasks: readonly Task[],
  sources: DemandSources,
): Map<string, TaskShape[]> {
  const byGroup = new Map<string, TaskShape[]>(groups.map((group) => [group.name, []]));
  const prototypes = new Map(groups.map((group) => [group.name, emptyInstancesOf(cluster, group, sources.instancesOf?.(group.name) ?? [])]));
  for (const task of tasks) {
    if (isAdmitted(task) || task.spec.containerInstance !== undefined) continue;
    if (task.status?.lastStatus === 'STOPPED' || task.spec.desiredStatus === 'STOPPED') continue;
    const spec = sources.specOf(task);
    if (!spec) continue;
    const requirements = placementRequirements(spec);
    const placementConstraints = sources.constraintsOf(task);
    const eligible = task.spec.capacityProviderName !== undefined ? groups.filter((group) => group.name === task.spec.capacityProviderName) : groups;
    const group = eligible.find((candidate) => {
      const decision = sources.scheduler.place({
        requirements,
        group: task.spec.group,
        placementConstraints,
        placementStrategy: [],
        candidates: prototypes.get(candidate.name)!,
      });
      return 'instance' in decision;
    });
    if (!group) continue;
    const distinct = placementConstraints.some((constraint) => constraint.type === 'distinctInstance');
    byGroup.get(group.name)!.push({
      cpu: requirements.cpu,
      memory: requirements.memory,
      hostPorts: requirements.hostPorts,
      ...(distinct && task.spec.group !== undefined ? { distinctGroup: task.spec.group } : {}),
    });
  }
  return byGroup;
}

/**
 * The group's side of the reservation: M over its ACTIVE instances and the tasks waiting for it, N the
 * ACTIVE instances past their warm-up, and which of those run nothing. DRAINING instances are on their
 * way out and count for neither: their service tasks come back as waiting tasks.
 *
 * Tasks of DAEMON services take room but do not make an instance needed, as ECS ignores them for
 * managed termination protection: every instance runs one, so counting them would keep every
 * instance forever (the DAEMON service stops its task on an instance once it is drained).
 *
 * An instance launched less than instanceWarmupPeriod ago is not counted as running capacity (N) and
 * is never removed, but its room does take waiting tasks in the estimate of M, so the group does not
 * scale out again for the tasks a warming instance will run:
 *   e.g. 2 tasks per instance, 2 warmed instances full, 2 warming instances each running 1 task, no
 *   task waits: M = 4, N = 2, reservation 200 %, yet the size it calls for is 4, what the group has.
 */
export function groupDemand(
  group: ScalingNodeGroup,
  instances: readonly ContainerInstance[],
  onInstances: TasksByInstance,
  waiting: readonly TaskShape[],
  { specOf, isDaemonTask }: { specOf: SpecOf; isDaemonTask: (task: Task) => boolean },
  now: Date,
): GroupDemand {
  const active = instances
    .filter((instance) => !instance.metadata.deletionTimestamp && instance.spec.status !== 'DRAINING' && instance.status?.status !== 'INACTIVE')
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  const warm = active.filter((instance) => warmedAt(group, instance) <= now.getTime());
  const holding = (instance: ContainerInstance) => (onInstances.get(instance.metadata.name) ?? []).filter(holdsResources);
  const needs = (instance: ContainerInstance) => holding(instance).some((task) => !isDaemonTask(task));
  const rooms: InstanceRoom[] = active.map((instance) => {
    const remaining = remainingResources(instance, holding(instance), specOf);
    return {
      cpu: remaining.cpu,
      memory: remaining.memory,
      takenPorts: [
        ...remaining.ports.map((port) => portKey({ port, protocol: 'tcp' })),
        ...remaining.udpPorts.map((port) => portKey({ port, protocol: 'udp' })),
      ],
      groups: holding(instance).flatMap((task) => (task.spec.group !== undefined ? [task.spec.group] : [])),
      occupied: needs(instance),
    };
  });
  const warming = active.filter((instance) => !warm.includes(instance)).map((instance) => warmedAt(group, instance));
  return {
    instancesNeeded: instancesNeeded(rooms, waiting, group.instanceType),
    instancesRunning: warm.length,
    removable: warm.filter((instance) => !needs(instance)).length,
    ...(warming.length > 0 ? { nextWarmedAt: Math.min(...warming) } : {}),
  };
}

/**
 * Candidates standing for a new, empty, connected instance of the group, one per availability zone. A
 * group of Nodes has no zones of its own: a new Node is its instanceType in size, with the labels of one
 * of the group's Nodes (one candidate per distinct set, at most 16), else those its selector requires.
 */
function emptyInstancesOf(cluster: Cluster, group: ManagedNodeGroup, current: readonly ContainerInstance[]) {
  const empty = (instance: ContainerInstance) => ({
    instance: { ...instance, status: { status: 'ACTIVE' as const, agentConnected: true } },
    remaining: { cpu: group.instanceType.cpu, memory: group.instanceType.memory, ports: [], udpPorts: [] },
    tasks: [],
  });
  if (group.nodes) {
    const prototype = newInstance(cluster, group, 0);
    const labelled = new Map(current.map((instance) => [JSON.stringify(instance.spec.attributes ?? {}), instance.spec.attributes ?? {}]));
    const attributeSets =
      labelled.size > 0
        ? [...labelled.values()].slice(0, 16)
        : [{ ...group.nodes.selector.matchLabels, ...(group.nodes.allowHostPaths && { [hostPathsAttribute]: 'allowed' }) }];
    return attributeSets.map((attributes) => empty({ ...prototype, spec: { ...prototype.spec, nodeName: '', attributes } }));
  }
  const zones = Math.max(group.availabilityZones?.length ?? 0, 1);
  return Array.from({ length: zones }, (_, index) => empty(newInstance(cluster, group, index)));
}

/** The group's instances by state, for the metrics: DRAINING, or ACTIVE and still WARMING up, or ACTIVE past it. */
export function instancesByState(group: ScalingNodeGroup, instances: readonly ContainerInstance[], now: Date): Record<InstanceState, number> {
  const counts: Record<InstanceState, number> = { WARMING: 0, ACTIVE: 0, DRAINING: 0 };
  for (const instance of instances) {
    if (instance.metadata.deletionTimestamp || instance.status?.status === 'INACTIVE') continue;
    if (instance.spec.status === 'DRAINING') counts.DRAINING++;
    else if (warmedAt(group, instance) > now.getTime()) counts.WARMING++;
    else counts.ACTIVE++;
  }
  return counts;
}

/** When an instance starts to count as running capacity: instanceWarmupPeriod after it was created (milliseconds since the epoch). */
function warmedAt(group: ScalingNodeGroup, instance: ContainerInstance): number {
  return Date.parse(instance.metadata.creationTimestamp ?? new Date(0).toISOString()) + group.managedScaling.instanceWarmupPeriod * 1000;
}
