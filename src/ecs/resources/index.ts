/** Resource arithmetic both data planes and the controllers share: what a task needs, what an instance has left. */
export { holdsResources, isAdmitted, remainingResources, reservesResources, type RemainingResources, type SpecOf } from './remaining-resources';
export { taskRequirements, type HostPort, type PortProtocol, type TaskRequirements } from './task-requirements';
