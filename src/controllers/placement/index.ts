/** Task placement: the Scheduler port and the ECS engine behind it (resource accounting is in ecs/resources). */
export { EcsScheduler, type EcsSchedulerOptions } from './ecs-scheduler';
export { memberOfAccepts } from './member-of';
export { noContainerInstances } from './waiting-reason';
export {
  placementCandidates,
  tasksByInstance,
  type BatchRequest,
  type PlacementCandidate,
  type PlacementConstraint,
  type PlacementDecision,
  type PlacementFailure,
  type PlacementRequest,
  type PlacementStrategy,
  type Scheduler,
  type WaitCode,
} from './scheduler';
export { taskPlacement, type TaskPlacement } from './task-placement';
