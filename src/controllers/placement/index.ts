/** Task placement: the Scheduler port, the ECS engine behind it, and the resource accounting the agents report with. */
export { EcsScheduler, type EcsSchedulerOptions } from './ecs-scheduler';
export { memberOfAccepts } from './member-of';
export { noContainerInstances } from './waiting-reason';
export { holdsResources, isAdmitted, remainingResources, reservesResources, type RemainingResources, type SpecOf } from './remaining-resources';
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
export { taskRequirements, type HostPort, type PortProtocol, type TaskRequirements } from './task-requirements';
