/** Resource arithmetic both data planes and the controllers share: what a task needs, what an instance has left. */
export { holdsResources, isAdmitted, remainingResources, reservesResources, type RemainingResources, type SpecOf } from './remaining-resources';
export {
  placementRequirements,
  taskRequirements,
  type HostPort,
  type PlacementRequirements,
  type PortProtocol,
  type TaskRequirements,
} from './task-requirements';
