import { admittedAnnotation, type ContainerInstance, type InstanceResources, type Task, type TaskDefinitionSpec } from '../../api';
import { taskRequirements } from './task-requirements';

/** The spec a task runs (its revision, with the task's overrides applied); undefined when it cannot be found. */
export type SpecOf = (task: Task) => TaskDefinitionSpec | undefined;

/** Every field present: `ports` and `udpPorts` list the host ports that are taken (reserved or in use), as ECS reports them. */
export type RemainingResources = Required<InstanceResources>;

/** A task occupies its instance from the moment it is bound until it has STOPPED (what termination protection keeps). */
export function holdsResources(task: Task): boolean {
  return task.status?.lastStatus !== 'STOPPED';
}

/**
 * Admitted: bound by the scheduler, or checked to fit after being bound at creation. A task that got
 * past PROVISIONING was admitted when it started, whatever its annotations say.
 */
export function isAdmitted(task: Task): boolean {
  if (task.metadata.annotations?.[admittedAnnotation] === 'true') return true;
  const lastStatus = task.status?.lastStatus;
  return lastStatus !== undefined && lastStatus !== 'PROVISIONING';
}

/** A task reserves CPU, memory and ports once admitted, until STOPPED; one waiting for admission reserves nothing yet. */
export function reservesResources(task: Task): boolean {
  return holdsResources(task) && isAdmitted(task);
}

/**
 * What `instance` has left once the tasks bound to it are accounted for, and on a Node, what its other Pods
 * request. A task whose spec cannot be found reserves nothing, since its needs are unknown. CPU and memory
 * never go below 0, so an overcommitted instance (its registration shrank under running tasks) simply offers nothing.
 *   e.g. a Node of 2,048 CPU units, a DaemonSet Pod requesting 100m (102 units) and two tasks of 512: 922 left.
 */
export function remainingResources(instance: ContainerInstance, tasksOnIt: readonly Task[], specOf: SpecOf): RemainingResources {
  const registered = instance.spec.registeredResources;
  const others = instance.status?.reservedByOthers;
  let cpu = registered.cpu - (others?.cpu ?? 0);
  let memory = registered.memory - (others?.memory ?? 0);
  const tcp = new Set([...(registered.ports ?? []), ...(others?.ports ?? [])]);
  const udp = new Set([...(registered.udpPorts ?? []), ...(others?.udpPorts ?? [])]);
  for (const task of tasksOnIt) {
    if (!reservesResources(task)) continue;
    const spec = specOf(task);
    if (!spec) continue;
    const needs = taskRequirements(spec);
    cpu -= needs.cpu;
    memory -= needs.memory;
    for (const { port, protocol } of needs.hostPorts) (protocol === 'udp' ? udp : tcp).add(port);
  }
  return { cpu: Math.max(cpu, 0), memory: Math.max(memory, 0), ports: ascending(tcp), udpPorts: ascending(udp) };
}

function ascending(ports: Set<number>): number[] {
  return [...ports].sort((a, b) => a - b);
}
