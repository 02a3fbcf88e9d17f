/** Task placement: the Scheduler port, its first-fit implementation, and the resource accounting the agents report with. */
export { placeBatch, type BatchRequest } from './batch';
export { FirstFitScheduler } from './first-fit';
export { describeRejections, noContainerInstances, rejectionOf, rejectionOrder, type Rejection } from './eligibility';
export { holdsResources, isAdmitted, remainingResources, reservesResources, type RemainingResources, type SpecOf } from './remaining-resources';
export {
  placementCandidates,
  tasksByInstance,
  type PlacementCandidate,
  type PlacementConstraint,
  type PlacementDecision,
  type PlacementRequest,
  type PlacementStrategy,
  type Scheduler,
} from './scheduler';
export { taskRequirements, type HostPort, type PortProtocol, type TaskRequirements } from './task-requirements';
