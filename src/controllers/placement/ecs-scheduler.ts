import { MemberOfCache, type MemberOf, type MemberOfVerdicts } from './member-of';
import { dataPlaneRefusal, PlacementState, type Slot } from './placement-state';
import type { BatchRequest, PlacementCandidate, PlacementDecision, PlacementRequest, Scheduler } from './scheduler';
import type { HostPort } from '../../ecs/resources/task-requirements';
import { effectiveStrategy, rankSteps, type RankStep } from './strategies';
import { whyNoInstanceFits } from './waiting-reason';

export interface EcsSchedulerOptions {
  /** For the `random` strategy; a seeded source makes placements reproducible in tests. */
  random?: () => number;
}

/**
 * ECS task placement. For each task, in order:
 *  1. the instances of its pool (its pinned instance, else its capacity provider's, else the cluster's)
 *     that are ACTIVE, connected, and have the CPU, memory and static host ports it needs;
 *  2. of those, the ones its placement constraints accept (distinctInstance, memberOf);
 *  3. the strategies rank what is left, in order, each passing its ties to the next; the ECS default
 *     when none is given (see strategies.ts). Ties left at the end go to the first instance by name.
 *
 *   e.g. spread(attribute:ecs.availability-zone) then binpack(memory), service:web with 2 tasks in
 *   zone a and 1 in zone b; eligible i-1 (a, 900 MiB left), i-2 (b, 700), i-3 (b, 300):
 *   spread keeps zone b's i-2 and i-3 (1 task < 2), binpack takes i-3 (300 < 700).
 *
 * A batch places its requests one after the other against one working copy of the instances, charging
 * each placement before the next, so it gives exactly the decisions of placing them one by one. The
 * scan is linear in the instances with no allocation per instance: memberOf queries that read only
 * attributes are evaluated once per instance per batch, spread counts are kept per attribute value
 * and updated on each placement, and the diagnosis of a task that fits nowhere runs only then.
 */
export class EcsScheduler implements Scheduler {
  private readonly random: () => number;
  private readonly queries = new MemberOfCache();

  constructor(options: EcsSchedulerOptions = {}) {
    this.random = options.random ?? Math.random;
  }

  place(request: PlacementRequest): PlacementDecision {
    const { candidates, ...rest } = request;
    return this.placeBatch([rest], candidates)[0];
  }

  placeBatch(requests: readonly BatchRequest[], candidates: readonly PlacementCandidate[]): PlacementDecision[] {
    const state = new PlacementState(candidates);
    const verdicts = this.queries.forBatch(state);
    return requests.map((request) => {
      const pool = state.pool(request.pinnedTo, request.capacityProvider);
      const memberOf = request.placementConstraints.flatMap((c) =>
        c.type === 'memberOf' && c.expression !== undefined ? [this.queries.compile(c.expression)] : [],
      );
      const distinctGroup = request.placementConstraints.some((c) => c.type === 'distinctInstance') ? request.group : undefined;
      const chosen = this.choose(state, pool, request, memberOf, distinctGroup, verdicts);
      if (chosen === undefined) return whyNoInstanceFits(state, pool, request, memberOf, verdicts);
      state.charge(chosen, request.requirements, request.group);
      return { instance: chosen.name };
    });
  }

  private choose(
    state: PlacementState,
    pool: readonly Slot[],
    request: BatchRequest,
    memberOf: readonly MemberOf[],
    distinctGroup: string | undefined,
    verdicts: MemberOfVerdicts,
  ): Slot | undefined {
    const { cpu, memory, hostPorts } = request.requirements;
    const steps = rankSteps(effectiveStrategy(request.placementStrategy, request.group));
    const keyOf = steps.map((step) => keyFunction(state, step, request.group));
    const rankedSteps = keyOf.length - (steps.at(-1)?.by === 'random' ? 1 : 0);
    const best = new Array<number>(rankedSteps);
    let tied: Slot[] = [];
    for (const slot of pool) {
      if (slot.unavailable !== undefined || slot.cpu < cpu || slot.memory < memory || dataPlaneRefusal(slot, request.requirements) !== undefined) continue;
      if (hostPorts.length > 0 && portTaken(slot, hostPorts)) continue;
      if (distinctGroup !== undefined && (slot.groupCounts.get(distinctGroup) ?? 0) > 0) continue;
      if (memberOf.length > 0 && !acceptedByAll(memberOf, verdicts, slot)) continue;
      const order = compareKeys(slot, keyOf, rankedSteps, best, tied.length === 0);
      if (order < 0) tied = [slot];
      else if (order === 0) tied.push(slot);
    }
    if (tied.length === 0) return undefined;
    return rankedSteps < steps.length ? tied[Math.min(tied.length - 1, Math.floor(this.random() * tied.length))] : tied[0];
  }
}

function portTaken(slot: Slot, hostPorts: readonly HostPort[]): boolean {
  for (const { port, protocol } of hostPorts) if ((protocol === 'udp' ? slot.udpPorts : slot.tcpPorts).has(port)) return true;
  return false;
}

function acceptedByAll(memberOf: readonly MemberOf[], verdicts: MemberOfVerdicts, slot: Slot): boolean {
  for (const query of memberOf) if (!verdicts.matches(query, slot)) return false;
  return true;
}

type KeyFunction = (slot: Slot) => number;

/**
 * Lower is better. binpack: what the instance has left of the field (least first fills it before the
 * next). spread: tasks of the group already where this instance is (on it, or on its attribute value).
 */
function keyFunction(state: PlacementState, step: RankStep, group: string | undefined): KeyFunction {
  switch (step.by) {
    case 'cpu':
      return (slot) => slot.cpu;
    case 'memory':
      return (slot) => slot.memory;
    case 'random':
      return () => 0;
    case 'spread': {
      const field = step.field;
      if ('instanceId' in field) return group === undefined ? (slot) => slot.taskCount : (slot) => slot.groupCounts.get(group) ?? 0;
      const { valueOf, counts } = state.spreadTally(group, field.attribute);
      return (slot) => counts[valueOf[slot.index]];
    }
  }
}

/**
 * Compares `slot`'s keys with the best so far, step by step; a better slot's keys replace them.
 * `first`: no best yet, so the slot is the best.
 */
function compareKeys(slot: Slot, keyOf: readonly KeyFunction[], steps: number, best: number[], first: boolean): number {
  if (first) {
    for (let i = 0; i < steps; i++) best[i] = keyOf[i](slot);
    return -1;
  }
  for (let i = 0; i < steps; i++) {
    const key = keyOf[i](slot);
    if (key < best[i]) {
      best[i] = key;
      for (let j = i + 1; j < steps; j++) best[j] = keyOf[j](slot);
      return -1;
    }
    if (key > best[i]) return 1;
  }
  return 0;
}
