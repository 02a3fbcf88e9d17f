import type { Cluster, ClusterStatus, ContainerInstance, Service, Task } from '../../api';
import type { DesiredCondition } from '../../ecs/conditions';
import { desiredSizeOf, isManagedNodeGroup, type NodeGroupPlan } from './node-group-plan';
import type { ScalingStatus } from './scaling';

/** What the cluster holds: its instances, services and tasks (those whose spec.cluster names it). */
export interface ClusterContents {
  instances: readonly ContainerInstance[];
  services: readonly Service[];
  tasks: readonly Task[];
}

type ClusterCounts = Required<
  Pick<ClusterStatus, 'registeredContainerInstancesCount' | 'activeServicesCount' | 'runningTasksCount' | 'pendingTasksCount' | 'nodeGroups'>
>;

/** Not yet RUNNING and not on the way down; a task no agent has reported on yet counts too. */
const pendingStatuses: readonly (string | undefined)[] = [undefined, 'PROVISIONING', 'PENDING', 'ACTIVATING'];

/** Registered as ECS counts it: ACTIVE or DRAINING, not INACTIVE (deregistered) and not being deleted. */
export function isRegistered(instance: ContainerInstance): boolean {
  return !instance.metadata.deletionTimestamp && instance.status?.status !== 'INACTIVE';
}

/**
 * The counts of a cluster's status. Per node group, currentSize is the registered instances of the
 * group and desiredSize (managed groups only) the size it is driven to: scaling.desiredSize, or for a
 * group with managed scaling the size in its `scaling` entry, which brings the reservation and the
 * last decision along.
 */
export function clusterCounts(cluster: Cluster, contents: ClusterContents, scaling: ReadonlyMap<string, ScalingStatus> = new Map()): ClusterCounts {
  const registered = contents.instances.filter(isRegistered);
  return {
    registeredContainerInstancesCount: registered.length,
    activeServicesCount: contents.services.filter((service) => !service.metadata.deletionTimestamp).length,
    runningTasksCount: contents.tasks.filter((task) => task.status?.lastStatus === 'RUNNING').length,
    pendingTasksCount: contents.tasks.filter((task) => pendingStatuses.includes(task.status?.lastStatus)).length,
    nodeGroups: (cluster.spec.nodeGroups ?? []).map((group) => ({
      name: group.name,
      ...(isManagedNodeGroup(group) ? { desiredSize: desiredSizeOf(group) } : {}),
      currentSize: registered.filter((instance) => instance.spec.nodeGroup === group.name).length,
      ...scaling.get(group.name),
    })),
  };
}

/** A plan, with the node group it was made for (or what the instances were retired for). */
export interface PlannedChange {
  subject: string;
  plan: NodeGroupPlan;
}

/**
 * Ready once no managed node group has anything left to do; otherwise what is under way, per group.
 * `unserved`: groups of Nodes where no Kubernetes cluster serves them (berth local), which never get an instance.
 */
export function readyCondition(generation: number | undefined, changes: readonly PlannedChange[], unserved: readonly string[] = []): DesiredCondition {
  if (unserved.length > 0) {
    return {
      type: 'Ready',
      status: 'False',
      reason: 'NoKubernetesNodes',
      message: `node group${unserved.length === 1 ? '' : 's'} ${unserved.join(', ')} select${unserved.length === 1 ? 's' : ''} Kubernetes Nodes, and this control plane has no cluster to read them from (berth local): run berth operator against a cluster, or use a managed group`,
      observedGeneration: generation,
    };
  }
  const underWay = changes.flatMap(describe);
  return underWay.length === 0
    ? {
        type: 'Ready',
        status: 'True',
        reason: 'NodeGroupsAtDesiredSize',
        message: 'every managed node group has its desired instances',
        observedGeneration: generation,
      }
    : { type: 'Ready', status: 'False', reason: 'Scaling', message: underWay.join('; '), observedGeneration: generation };
}

/** While the cluster is deleted: which instances it still waits for, and why. */
export function deletingCondition(
  generation: number | undefined,
  changes: readonly PlannedChange[],
  selfManaged: readonly ContainerInstance[],
): DesiredCondition {
  const waits = [
    ...changes.flatMap(describe),
    ...selfManaged.map((instance) => `${instance.metadata.name}: self-managed, waiting for its agent to deregister it`),
  ];
  return {
    type: 'Ready',
    status: 'False',
    reason: 'Deleting',
    message: `deleting: ${waits.length > 0 ? waits.join('; ') : 'waiting for the last instances to go'}`,
    observedGeneration: generation,
  };
}

function describe({ subject, plan }: PlannedChange): string[] {
  const names = (instances: readonly ContainerInstance[]) => instances.map((instance) => instance.metadata.name).join(', ');
  const parts = [
    plan.create.length > 0 ? `launching ${names(plan.create)}` : undefined,
    plan.reactivate.length > 0 ? `reactivating ${names(plan.reactivate)}` : undefined,
    plan.drain.length > 0 ? `draining ${names(plan.drain)}` : undefined,
    plan.delete.length > 0 ? `terminating ${names(plan.delete)}` : undefined,
    ...plan.waiting.map(({ instance, activeTasks }) =>
      activeTasks === 0
        ? `${instance.metadata.name} waits for its Node to be cordoned`
        : `${instance.metadata.name} drains, ${activeTasks} task${activeTasks === 1 ? '' : 's'} still on it`,
    ),
    plan.scaleTarget?.problem,
    plan.scaleTarget && plan.scaleTarget.joining > 0
      ? `${plan.scaleTarget.description} at ${plan.scaleTarget.replicas} replicas, ${plan.scaleTarget.joining} Node${plan.scaleTarget.joining === 1 ? '' : 's'} still to join`
      : undefined,
  ].filter((part): part is string => part !== undefined);
  return parts.length > 0 ? [`${subject}: ${parts.join(', ')}`] : [];
}
