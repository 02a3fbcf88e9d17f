import type { HostPort } from '../../../ecs/resources';

/** What a task takes from an instance, for the estimate. */
export interface TaskShape {
  cpu: number;
  memory: number;
  hostPorts: readonly HostPort[];
  /** The task's group when it asks for distinctInstance: no two tasks of it share an instance. */
  distinctGroup?: string;
}

/** An instance of the group as it stands: what it has left, and what holds it. */
export interface InstanceRoom {
  cpu: number;
  memory: number;
  /** Static host ports taken, as `tcp/80`. */
  takenPorts: readonly string[];
  /** Groups of the tasks on it (for distinctInstance). */
  groups: readonly string[];
  /** Runs a task that keeps it (any but a DAEMON service's): it is needed whatever waits. */
  occupied: boolean;
}

interface Bin {
  cpu: number;
  memory: number;
  ports: Set<string>;
  groups: Set<string>;
  occupied: boolean;
}

/**
 * M of the reservation metric: how many instances of the group the tasks placed on it and the tasks
 * waiting for it need, estimated by first-fit-decreasing bin packing. Tasks already on an instance keep
 * it, so every occupied instance counts once; the waiting tasks, largest first (by the larger of their
 * cpu and memory shares of an instance), go to the first instance with room for them — the group's own
 * instances first, in the order given, then new instances of `instanceType`. An empty instance that
 * receives a waiting task counts, one that receives none does not; but once the waiting tasks need a
 * new instance, every instance of the group counts, as ECS counts all N while tasks wait: each one that
 * has room took what fitted, and one whose room only DAEMON tasks hold cannot run them either.
 *
 *   e.g. instanceType 1024 cpu / 2048 MiB; one instance runs a 512 / 1024 task (512 / 1024 left), one
 *   instance is empty; waiting: three tasks of 512 / 1024 and one of 1024 / 2048.
 *   Largest first: 1024 / 2048 does not fit the first instance's room, so it fills the empty one;
 *   512 / 1024 fills the first instance; the other two share one new instance.
 *   M = 1 (occupied) + 1 (the empty one, now used) + 1 (new) = 3.
 *   With a DAEMON task of 768 MiB alone on an instance of 1024 MiB and a waiting task of 512: the room of
 *   256 cannot take it, a new instance can, and M = 2 (both), N = 1: scale out.
 *
 * Waiting tasks that would not fit even an empty instance of the type must be left out by the caller:
 * no number of instances of this group runs them.
 */
export function instancesNeeded(instances: readonly InstanceRoom[], waiting: readonly TaskShape[], instanceType: { cpu: number; memory: number }): number {
  const existing: Bin[] = instances.map((room) => ({
    cpu: room.cpu,
    memory: room.memory,
    ports: new Set(room.takenPorts),
    groups: new Set(room.groups),
    occupied: room.occupied,
  }));
  const bins = [...existing];
  const share = (task: TaskShape) => Math.max(task.cpu / instanceType.cpu, task.memory / instanceType.memory);
  const largestFirst = [...waiting].sort((a, b) => share(b) - share(a));
  for (const task of largestFirst) {
    let bin = bins.find((candidate) => fits(candidate, task));
    if (!bin) {
      bin = { cpu: instanceType.cpu, memory: instanceType.memory, ports: new Set(), groups: new Set(), occupied: false };
      bins.push(bin);
    }
    bin.cpu -= task.cpu;
    bin.memory -= task.memory;
    for (const port of task.hostPorts) bin.ports.add(portKey(port));
    if (task.distinctGroup !== undefined) bin.groups.add(task.distinctGroup);
    bin.occupied = true;
  }
  const added = bins.length - existing.length;
  return added > 0 ? existing.length + added : existing.filter((bin) => bin.occupied).length;
}

export function portKey({ protocol, port }: HostPort): string {
  return `${protocol}/${port}`;
}

function fits(bin: Bin, task: TaskShape): boolean {
  return (
    bin.cpu >= task.cpu &&
    bin.memory >= task.memory &&
    task.hostPorts.every((port) => !bin.ports.has(portKey(port))) &&
    (task.distinctGroup === undefined || !bin.groups.has(task.distinctGroup))
  );
}
