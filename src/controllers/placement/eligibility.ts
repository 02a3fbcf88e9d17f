import { reservesResources } from './remaining-resources';
import type { PlacementCandidate, PlacementRequest } from './scheduler';

/**
 * Why an instance cannot take a task, in the order the checks run (availability, then the cluster's
 * own constraints CPU, memory and ports, then the service's placement constraints). The codes are
 * ECS's: AGENT is a disconnected agent, RESOURCE:* a resource that is short.
 */
export const rejectionOrder = ['INACTIVE', 'DRAINING', 'AGENT', 'RESOURCE:CPU', 'RESOURCE:MEMORY', 'RESOURCE:PORTS', 'CONSTRAINT:distinctInstance'] as const;

export type Rejection = (typeof rejectionOrder)[number];

export const noContainerInstances = 'No Container Instances were found in your cluster';

/**
 * The hard requirements every scheduler applies before its strategy ranks what is left; undefined
 * when `candidate` can take the task.
 */
export function rejectionOf(request: PlacementRequest, candidate: PlacementCandidate): Rejection | undefined {
  const { instance, remaining } = candidate;
  const { requirements } = request;
  if (instance.metadata.deletionTimestamp || instance.status?.status === 'INACTIVE') return 'INACTIVE';
  if (instance.spec.status === 'DRAINING') return 'DRAINING';
  if (instance.status?.agentConnected === false) return 'AGENT';
  if (remaining.cpu < requirements.cpu) return 'RESOURCE:CPU';
  if (remaining.memory < requirements.memory) return 'RESOURCE:MEMORY';
  if (requirements.hostPorts.some(({ port, protocol }) => (protocol === 'udp' ? remaining.udpPorts : remaining.ports).includes(port))) {
    return 'RESOURCE:PORTS';
  }
  if (violatesDistinctInstance(request, candidate)) return 'CONSTRAINT:distinctInstance';
  return undefined;
}

function violatesDistinctInstance(request: PlacementRequest, candidate: PlacementCandidate): boolean {
  if (request.group === undefined || !request.placementConstraints.some((constraint) => constraint.type === 'distinctInstance')) return false;
  return candidate.tasks.some((task) => task.spec.group === request.group && reservesResources(task));
}

/** One reason for a task no instance took: every distinct rejection, in check order, e.g. `DRAINING, RESOURCE:MEMORY`. */
export function describeRejections(rejections: Iterable<Rejection>): string {
  const seen = new Set(rejections);
  return rejectionOrder.filter((rejection) => seen.has(rejection)).join(', ');
}
