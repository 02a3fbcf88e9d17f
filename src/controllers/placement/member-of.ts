import { compileClusterQuery, type CompiledClusterQuery, type InstanceFacts } from '../../api/cluster-query';
import { PlacementState, type Slot } from './placement-state';
import type { ContainerInstance, Task } from '../../api';
import type { PlacementConstraint } from './scheduler';

/** A memberOf constraint, compiled once for every batch that uses it. */
export interface MemberOf {
  /** Numbers the queries of one scheduler, to index the per-batch verdicts. */
  readonly id: number;
  readonly expression: string;
  /** Undefined when the expression does not parse: it then accepts no instance (the API refuses it, so only an object stored before can hold one). */
  readonly query: CompiledClusterQuery | undefined;
}

/**
 * The compiled memberOf queries of a scheduler, by expression text. A service's tasks all carry the
 * same few expressions, so each is parsed once for the life of the process.
 */
export class MemberOfCache {
  private readonly compiled = new Map<string, MemberOf>();

  compile(expression: string): MemberOf {
    const known = this.compiled.get(expression);
    if (known) return known;
    const compiled = compileClusterQuery(expression);
    const memberOf = { id: this.compiled.size, expression, query: compiled.ok ? compiled.query : undefined };
    this.compiled.set(expression, memberOf);
    return memberOf;
  }

  forBatch(state: PlacementState): MemberOfVerdicts {
    return new MemberOfVerdicts(state.slots.length);
  }
}

/**
 * Which instances each query accepts, during one batch. A query that reads only what placements do
 * not change (attributes, the instance's name, its agent) is evaluated once per instance and
 * remembered; one that reads `runningTasksCount` or `task:group` is evaluated every time, against
 * the instance as the batch has charged it so far.
 */
export class MemberOfVerdicts {
  /** Query id → per slot: 0 not evaluated yet, 1 accepts, 2 refuses. */
  private readonly remembered: Uint8Array[] = [];
  private readonly facts: (InstanceFacts | undefined)[];

  constructor(slots: number) {
    this.facts = new Array<InstanceFacts | undefined>(slots);
  }

  matches(memberOf: MemberOf, slot: Slot): boolean {
    const query = memberOf.query;
    if (query === undefined) return false;
    if (query.readsTasks) return query.matches(this.factsOf(slot));
    const verdicts = (this.remembered[memberOf.id] ??= new Uint8Array(this.facts.length));
    const known = verdicts[slot.index];
    if (known !== 0) return known === 1;
    const accepts = query.matches(this.factsOf(slot));
    verdicts[slot.index] = accepts ? 1 : 2;
    return accepts;
  }

  private factsOf(slot: Slot): InstanceFacts {
    return (this.facts[slot.index] ??= instanceFacts(slot));
  }
}

/** The instance as the cluster query language sees it; the task counts read the slot live. */
function instanceFacts(slot: Slot): InstanceFacts {
  const { instance } = slot;
  const registeredAt = instance.metadata.creationTimestamp;
  return {
    name: slot.name,
    attributes: instance.spec.attributes ?? {},
    get runningTasksCount() {
      return slot.taskCount;
    },
    agentConnected: instance.status?.agentConnected !== false,
    ...(instance.status?.versionInfo?.agentVersion !== undefined ? { agentVersion: instance.status.versionInfo.agentVersion } : {}),
    ...(registeredAt !== undefined ? { registeredAt: new Date(registeredAt) } : {}),
    hasTaskOfGroup: (group: string) => (slot.groupCounts.get(group) ?? 0) > 0,
    // Counts only grow during a batch, so every key is a group with a task on the instance.
    taskGroups: () => slot.groupCounts.keys(),
  };
}

/** Expressions compiled for checks outside a scheduler (which DAEMON instances a service runs on). */
const sharedQueries = new MemberOfCache();

/**
 * Whether every memberOf constraint accepts `instance`, with `tasks` on it: where a DAEMON service belongs. The service passes the instance's tasks other than its own,
 * so that its own task does not change the answer (`runningTasksCount < 5` would otherwise flap).
 */
export function memberOfAccepts(constraints: readonly PlacementConstraint[], instance: ContainerInstance, tasks: readonly Task[]): boolean {
  // Resources play no part in memberOf: the candidate is only a carrier of the instance and its tasks.
  const slot = new PlacementState([{ instance, remaining: { cpu: 0, memory: 0, ports: [], udpPorts: [] }, tasks }]).slots[0];
  const verdicts = new MemberOfVerdicts(1);
  return constraints.every((c) => c.type !== 'memberOf' || c.expression === undefined || verdicts.matches(sharedQueries.compile(c.expression), slot));
}
