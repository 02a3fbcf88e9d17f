import type { ContainerInstance } from '../../api';
import { nodeCordonedAnnotation } from '../../ecs/pods';
import { rankForRetirement, retire, drainReasonAnnotation, type ManagedNodeGroup, type NodeGroupPlan, type TasksByInstance } from './node-group-plan';

/**
 * Pure planning for a managed group of Nodes, whose Nodes come and go through a scale target (a Cluster
 * API MachineDeployment): the replicas to set, and on scale-in which Node goes. Berth never deletes a
 * mirrored instance itself; it names the Node's Machine for deletion (the cluster.x-k8s.io/delete-machine
 * annotation, which a MachineSet removes first) and only then lowers replicas, so the infrastructure
 * removes that Node and no other.
 *
 * The replicas are derived from the state alone, so a reconcile that stopped half-way plans the rest:
 *
 *   replicas = desired + victims not yet removable
 *
 * where the victims are the Nodes beyond `desired` among those staying (not yet marked), ranked as for
 * launched instances (already DRAINING, then empty). A victim is drained, which cordons its Node; once
 * it holds no task (or protection is DISABLED) its Machine is marked and the instance annotated as
 * leaving, after which it counts in neither term (its Node must show cordoned first, which the node-group
 * controller does as it sees the instance DRAINING):
 *   e.g. desired 2, five Nodes staying, one of them empty and DRAINING, two busy: three victims, the
 *   empty one is marked now and the busy two drain: replicas = 2 + 2 = 4, so the MachineSet (at 5)
 *   deletes exactly the marked Machine. When the busy two are empty and marked, replicas = 2.
 * Machines without a Node yet count nowhere: while the group is growing, replicas = desired; when it
 * shrinks before they joined, the MachineSet deletes them before any Node (it prefers Machines with no
 * Node after the marked ones).
 */

/** On a mirrored instance whose Machine has been marked for deletion: it is leaving, and no longer counts. */
export const machineDeletionAnnotation = 'berth.dev/machine-deletion';

export function isLeaving(instance: ContainerInstance): boolean {
  return instance.metadata.annotations?.[machineDeletionAnnotation] !== undefined;
}

export function planScaleTarget(
  group: ManagedNodeGroup,
  description: string,
  mirrors: readonly ContainerInstance[],
  tasksByInstance: TasksByInstance,
  desiredSize: number,
): NodeGroupPlan {
  // By name, so that among equally good victims the choice is the same from one reconcile to the next.
  const staying = mirrors
    .filter((instance) => !instance.metadata.deletionTimestamp && !isLeaving(instance))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const surplus = staying.length - desiredSize;
  const victims = surplus > 0 ? rankForRetirement(staying, '', tasksByInstance).slice(0, surplus) : [];
  const plan = retire(victims, 'scale-in', group.managedTerminationProtection ?? 'ENABLED', tasksByInstance);
  // The Node is cordoned (by the node-group controller, once its instance is DRAINING) before it is named
  // for removal: until then it waits, with no task to wait for.
  const uncordoned = plan.delete.filter((instance) => instance.metadata.annotations?.[nodeCordonedAnnotation] !== 'true');
  plan.delete = plan.delete.filter((instance) => !uncordoned.includes(instance));
  plan.waiting.push(...uncordoned.map((instance) => ({ instance, activeTasks: 0 })));
  plan.reactivate = staying.filter((instance) => !victims.includes(instance) && instance.metadata.annotations?.[drainReasonAnnotation] !== undefined);
  const replicas = desiredSize + victims.length - plan.delete.length;
  plan.scaleTarget = { description, replicas, joining: Math.max(0, replicas - (staying.length - plan.delete.length)) };
  return plan;
}
