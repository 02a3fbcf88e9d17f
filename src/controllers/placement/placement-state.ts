import type { ContainerInstance } from '../../api';
import type { PlacementCandidate } from './scheduler';
import type { PlacementRequirements, TaskRequirements } from '../../ecs/resources/task-requirements';
import { hostPathsAttribute } from '../../ecs/attributes';

/** Why an instance is out before its resources are even looked at (ECS's codes; AGENT: the agent is disconnected). */
export type Unavailability = 'INACTIVE' | 'DRAINING' | 'AGENT';

/**
 * One container instance as a batch sees it: what it has left and which tasks it holds, charged
 * after every placement so the next request sees the instance as it will be.
 */
export interface Slot {
  readonly index: number;
  readonly name: string;
  readonly instance: ContainerInstance;
  readonly unavailable: Unavailability | undefined;
  /** The instance mirrors a Kubernetes Node: its tasks run as Pods. */
  readonly node: boolean;
  /** A Node whose group allows tasks to mount its paths (nodes.allowHostPaths). */
  readonly allowsHostPaths: boolean;
  cpu: number;
  memory: number;
  readonly tcpPorts: Set<number>;
  readonly udpPorts: Set<number>;
  /** Tasks holding resources on the instance: the query language's runningTasksCount. */
  taskCount: number;
  /** The same tasks by group (`service:web`), for distinctInstance, spread and `task:group`. */
  readonly groupCounts: Map<string, number>;
}

/**
 * Group tasks per value of one attribute, over every instance of the batch: what spread balances.
 * Values are numbered once per batch, so ranking an instance is two array reads, not a string lookup.
 */
export interface SpreadTally {
  readonly attribute: string;
  /** Slot index → the number of its attribute's value (instances without the attribute share one). */
  readonly valueOf: Int32Array;
  /** Value number → tasks of the group on instances with that value. */
  readonly counts: number[];
}

/**
 * The working copy of a cluster's instances for one batch. Slots are in name order, so "the first
 * of the tied instances" is the first by name and a placement can be replayed.
 */
export class PlacementState {
  readonly slots: readonly Slot[];
  private readonly byName: Map<string, Slot>;
  private readonly byCapacityProvider = new Map<string, Slot[]>();
  /**
   * group → the spread tallies computed for it so far, kept current as tasks of the group are placed.
   * Under `undefined`: tallies of every task, for a request that has no group.
   */
  private readonly spreadTallies = new Map<string | undefined, SpreadTally[]>();

  constructor(candidates: readonly PlacementCandidate[]) {
    const sorted = [...candidates].sort((a, b) => compareNames(a.instance.metadata.name, b.instance.metadata.name));
    this.slots = sorted.map((candidate, index) => slotOf(candidate, index));
    this.byName = new Map(this.slots.map((slot) => [slot.name, slot]));
    for (const slot of this.slots) {
      const group = slot.instance.spec.nodeGroup;
      if (group === undefined) continue;
      const members = this.byCapacityProvider.get(group);
      if (members) members.push(slot);
      else this.byCapacityProvider.set(group, [slot]);
    }
  }

  /** The slots a request may use: its pinned instance, else its capacity provider's, else all. */
  pool(pinnedTo: string | undefined, capacityProvider: string | undefined): readonly Slot[] {
    if (pinnedTo !== undefined) {
      const slot = this.byName.get(pinnedTo);
      return slot && (capacityProvider === undefined || slot.instance.spec.nodeGroup === capacityProvider) ? [slot] : [];
    }
    if (capacityProvider !== undefined) return this.byCapacityProvider.get(capacityProvider) ?? [];
    return this.slots;
  }

  /** Group tasks per value of `attribute`, over all instances; computed once per group and attribute, then kept current. */
  spreadTally(group: string | undefined, attribute: string): SpreadTally {
    const tallies = this.spreadTallies.get(group) ?? [];
    const known = tallies.find((tally) => tally.attribute === attribute);
    if (known) return known;
    const numbers = new Map<string | undefined, number>();
    const valueOf = new Int32Array(this.slots.length);
    const counts: number[] = [];
    for (const slot of this.slots) {
      const value = slot.instance.spec.attributes?.[attribute];
      let number = numbers.get(value);
      if (number === undefined) {
        number = counts.length;
        numbers.set(value, number);
        counts.push(0);
      }
      valueOf[slot.index] = number;
      counts[number] += group === undefined ? slot.taskCount : (slot.groupCounts.get(group) ?? 0);
    }
    const tally = { attribute, valueOf, counts };
    tallies.push(tally);
    this.spreadTallies.set(group, tallies);
    return tally;
  }

  /** Charges `slot` with a task: its CPU, memory and static host ports, and one more task of `group`. */
  charge(slot: Slot, requirements: TaskRequirements, group: string | undefined): void {
    slot.cpu -= requirements.cpu;
    slot.memory -= requirements.memory;
    for (const { port, protocol } of requirements.hostPorts) (protocol === 'udp' ? slot.udpPorts : slot.tcpPorts).add(port);
    slot.taskCount += 1;
    if (group !== undefined) slot.groupCounts.set(group, (slot.groupCounts.get(group) ?? 0) + 1);
    const tallies = group === undefined ? [undefined] : [group, undefined];
    for (const tally of tallies.flatMap((key) => this.spreadTallies.get(key) ?? [])) tally.counts[tally.valueOf[slot.index]] += 1;
  }
}

function slotOf({ instance, remaining, tasks }: PlacementCandidate, index: number): Slot {
  const groupCounts = new Map<string, number>();
  for (const task of tasks) {
    const group = task.spec.group;
    if (group !== undefined) groupCounts.set(group, (groupCounts.get(group) ?? 0) + 1);
  }
  return {
    index,
    name: instance.metadata.name,
    instance,
    unavailable: unavailability(instance),
    node: instance.spec.nodeName !== undefined,
    allowsHostPaths: instance.spec.attributes?.[hostPathsAttribute] === 'allowed',
    cpu: remaining.cpu,
    memory: remaining.memory,
    tcpPorts: new Set(remaining.ports),
    udpPorts: new Set(remaining.udpPorts),
    taskCount: tasks.length,
    groupCounts,
  };
}

/**
 * Why this data plane cannot run the task at all: a Node takes only what a Pod can express, and a host path
 * only where its group allows it. Docker instances run everything.
 */
export function dataPlaneRefusal(slot: Slot, requirements: PlacementRequirements): string | undefined {
  if (!slot.node) return undefined;
  const problem = requirements.podIncompatibility;
  if (problem) return `cannot run the task as a Pod (${problem.field}: ${problem.reason})`;
  if (requirements.usesHostPaths && !slot.allowsHostPaths)
    return 'is a Node of a group that does not allow host paths (nodes.allowHostPaths), and the task mounts one';
  return undefined;
}

function unavailability(instance: ContainerInstance): Unavailability | undefined {
  if (instance.metadata.deletionTimestamp || instance.status?.status === 'INACTIVE') return 'INACTIVE';
  if (instance.spec.status === 'DRAINING') return 'DRAINING';
  if (instance.status?.agentConnected === false) return 'AGENT';
  return undefined;
}

/** Code-point order, so the choice does not depend on the process locale. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
