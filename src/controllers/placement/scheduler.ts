import type { ContainerInstance, ServiceSpec, Task } from '../../api';
import { remainingResources, reservesResources, type RemainingResources, type SpecOf } from '../../ecs/resources/remaining-resources';
import type { PlacementRequirements } from '../../ecs/resources/task-requirements';

/**
 * The scheduler port: where tasks go, given the instances of their cluster. Implementations are pure,
 * so a placement can be replayed from the same state and tested without a store.
 */
export interface Scheduler {
  /** One task: the same decision as a batch of one. */
  place(request: PlacementRequest): PlacementDecision;
  /**
   * Many tasks in order against one view of the instances, with exactly the decisions of placing them
   * one by one: each placement is charged (CPU, memory, static ports, one more task of its group)
   * before the next request is looked at. The candidates passed in are never changed.
   *
   *   e.g. 2 instances of 1024 MiB, 3 tasks of 512 MiB, binpack(memory): i-a, i-a (now 0 MiB left), i-b.
   */
  placeBatch(requests: readonly BatchRequest[], candidates: readonly PlacementCandidate[]): PlacementDecision[];
}

/**
 * One task of a batch: what to place, without the candidates (the batch holds them). `pinnedTo` is
 * for a task bound at creation (a DAEMON task, ECS StartTask): it may go to that instance only, if
 * it fits and its constraints accept it.
 */
export type BatchRequest = Omit<PlacementRequest, 'candidates'> & { pinnedTo?: string };

export type PlacementConstraint = NonNullable<ServiceSpec['placementConstraints']>[number];
export type PlacementStrategy = NonNullable<ServiceSpec['placementStrategy']>[number];

export interface PlacementCandidate {
  instance: ContainerInstance;
  remaining: RemainingResources;
  /** Tasks bound to the instance that still hold resources. */
  tasks: readonly Task[];
}

export interface PlacementRequest {
  requirements: PlacementRequirements;
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

/** The chosen instance, or why none fits. */
export type PlacementDecision = { instance: string } | PlacementFailure;

/** Why a task fits nowhere: ECS's wording for users (see waiting-reason.ts), and the code of what blocks it for metrics. */
export interface PlacementFailure {
  reason: string;
  code: WaitCode;
}

/** What keeps a task waiting: on its closest instance, or no instance at all (ECS's RunTask failure codes where it has them). */
export type WaitCode =
  | 'NoContainerInstances'
  | 'TaskDefinitionNotFound'
  | 'INACTIVE'
  | 'DRAINING'
  | 'AGENT'
  | 'DATAPLANE'
  | 'RESOURCE:CPU'
  | 'RESOURCE:MEMORY'
  | 'RESOURCE:PORTS'
  | 'CONSTRAINT:distinctInstance'
  | 'CONSTRAINT:memberOf';

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
