import { admittedAnnotation, type Task } from '../../api';
import type { PlacementCandidate, PlacementDecision, PlacementRequest, Scheduler } from './scheduler';

/**
 * One task of a batch: what to place, without the candidates (the batch holds them). `pinnedTo` is
 * for a task bound at creation: it may go to that instance only, if it fits.
 */
export type BatchRequest = Omit<PlacementRequest, 'candidates'> & { task: Task; pinnedTo?: string };

/**
 * Places many tasks in one pass, with exactly the result of placing them one by one in order: after
 * each placement the chosen candidate is charged the task's CPU, memory and static ports and holds
 * the task (for distinctInstance), so the next request sees what is really left. Pure: the
 * candidates passed in are copied, never changed.
 *
 *   e.g. 2 instances of 1024 MiB, 3 tasks of 512 MiB, first-fit: i-a, i-a (now 0 MiB left), i-b.
 */
export function placeBatch(scheduler: Scheduler, requests: readonly BatchRequest[], candidates: readonly PlacementCandidate[]): PlacementDecision[] {
  const working = candidates.map((c) => ({ ...c, remaining: { ...c.remaining }, tasks: [...c.tasks] }));
  const byName = new Map(working.map((c) => [c.instance.metadata.name, c]));
  return requests.map(({ task, pinnedTo, ...request }) => {
    const pool = working.filter((c) => (pinnedTo === undefined || c.instance.metadata.name === pinnedTo) && ofCapacityProvider(c, request.capacityProvider));
    if (pinnedTo !== undefined && pool.length === 0) return { reason: `container instance ${pinnedTo} not found` };
    if (request.capacityProvider !== undefined && pool.length === 0) {
      return { reason: `No Container Instances were found in capacity provider ${request.capacityProvider}` };
    }
    const decision = scheduler.place({ ...request, candidates: pool });
    if ('instance' in decision) {
      const chosen = byName.get(decision.instance)!;
      const { cpu, memory, hostPorts } = request.requirements;
      const tcp = hostPorts.filter((p) => p.protocol === 'tcp').map((p) => p.port);
      const udp = hostPorts.filter((p) => p.protocol === 'udp').map((p) => p.port);
      chosen.remaining = {
        cpu: chosen.remaining.cpu - cpu,
        memory: chosen.remaining.memory - memory,
        ports: tcp.length ? [...chosen.remaining.ports, ...tcp].sort((a, b) => a - b) : chosen.remaining.ports,
        udpPorts: udp.length ? [...chosen.remaining.udpPorts, ...udp].sort((a, b) => a - b) : chosen.remaining.udpPorts,
      };
      chosen.tasks.push(asBound(task, decision.instance));
    }
    return decision;
  });
}

function ofCapacityProvider(candidate: PlacementCandidate, capacityProvider: string | undefined): boolean {
  return capacityProvider === undefined || candidate.instance.spec.nodeGroup === capacityProvider;
}

/** The task as it will be once bound: on the instance, admitted, holding its share. */
function asBound(task: Task, instance: string): Task {
  return {
    ...task,
    metadata: { ...task.metadata, annotations: { ...task.metadata.annotations, [admittedAnnotation]: 'true' } },
    spec: { ...task.spec, containerInstance: instance },
  };
}
