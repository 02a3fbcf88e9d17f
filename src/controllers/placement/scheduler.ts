import type { ContainerInstance, ServiceSpec, Task } from '../../api';
import { remainingResources, reservesResources, type RemainingResources, type SpecOf } from './remaining-resources';
import type { TaskRequirements } from './task-requirements';

/**
 * The scheduler port: where one task goes, given the instances of its cluster. Implementations are
 * pure, so a placement can be replayed from the same state and tested without a store.
 */
export interface Scheduler {
  place(request: PlacementRequest): PlacementDecision;
}

export type PlacementConstraint = NonNullable<ServiceSpec['placementConstraints']>[number];
export type PlacementStrategy = NonNullable<ServiceSpec['placementStrategy']>[number];

export interface PlacementCandidate {
  instance: ContainerInstance;
  remaining: RemainingResources;
  /** Tasks bound to the instance that still hold resources. */
  tasks: readonly Task[];
}

export interface PlacementRequest {
  requirements: TaskRequirements;
  /**
   * The node group (capacity provider) the task was given, when its capacity provider strategy chose
   * one: only that group's instances are candidates. Undefined: any instance of the cluster.
   */
  capacityProvider?: string;
  /** The task's group, e.g. `service:web`: what distinctInstance keeps apart. */
  group: string | undefined;
  placementConstraints: readonly PlacementConstraint[];
  placementStrategy: readonly PlacementStrategy[];
  /** The container instances of the task's cluster. */
  candidates: readonly PlacementCandidate[];
}

/** The chosen instance, or why none fits (ECS's wording, see `describeRejections`). */
export type PlacementDecision = { instance: string } | { reason: string };

/** The tasks bound to each instance (by instance name), of those `include` accepts. */
export function tasksByInstance(tasks: readonly Task[], include: (task: Task) => boolean = () => true): Map<string, Task[]> {
  const byInstance = new Map<string, Task[]>();
  for (const task of tasks) {
    const bound = task.spec.containerInstance;
    if (bound === undefined || !include(task)) continue;
    const onIt = byInstance.get(bound);
    if (onIt) onIt.push(task);
    else byInstance.set(bound, [task]);
  }
  return byInstance;
}

/** Candidates for `instances` with what each has left after the `tasks` bound to it. */
export function placementCandidates(instances: readonly ContainerInstance[], tasks: readonly Task[], specOf: SpecOf): PlacementCandidate[] {
  const byInstance = tasksByInstance(tasks, reservesResources);
  return instances.map((instance) => {
    const onIt = byInstance.get(instance.metadata.name) ?? [];
    return { instance, remaining: remainingResources(instance, onIt, specOf), tasks: onIt };
  });
}
