import type { MemberOf, MemberOfVerdicts } from './member-of';
import { dataPlaneRefusal, type PlacementState, type Slot } from './placement-state';
import type { BatchRequest, PlacementFailure, WaitCode } from './scheduler';

export const noContainerInstances = 'No Container Instances were found in your cluster';

/**
 * How far an instance got through the checks, in ECS's order: availability, resources, then the
 * constraints (one stage: an instance refused by one constraint is as close as one refused by another).
 */
type Verdict =
  | { stage: 0; code: 'INACTIVE' | 'DRAINING' | 'AGENT' }
  | { stage: 0; code: 'DATAPLANE'; detail: string }
  | { stage: 1; short: ResourceCode[] }
  | { stage: 2; code: 'CONSTRAINT:distinctInstance' }
  | { stage: 2; code: 'CONSTRAINT:memberOf'; expression: string };

type ResourceCode = 'RESOURCE:CPU' | 'RESOURCE:MEMORY' | 'RESOURCE:PORTS';

/**
 * Why a task fits nowhere, worded as ECS words a service that cannot place a task, so a user can act
 * on it: the closest matching instance (the one that got furthest through the checks; among those
 * short of resources, the one short of the fewest) and what it lacks, then how many instances each
 * check excluded.
 *
 *   e.g. 4 instances, one DRAINING, two short of memory, one running the group's task under
 *   distinctInstance: "no container instance met all of its requirements. The closest matching
 *   container-instance i-4 encountered error "DistinctInstance placement constraint unsatisfied".
 *   Of 4 instances: 1 DRAINING, 2 insufficient memory, 1 excluded by distinctInstance."
 *
 * Deterministic for one state, so a task retried against an unchanged cluster keeps the same reason
 * (and is not given a new Event every time).
 */
export function whyNoInstanceFits(
  state: PlacementState,
  pool: readonly Slot[],
  request: BatchRequest,
  memberOf: readonly MemberOf[],
  verdicts: MemberOfVerdicts,
): PlacementFailure {
  if (state.slots.length === 0) return { reason: noContainerInstances, code: 'NoContainerInstances' };
  if (pool.length === 0) {
    if (request.pinnedTo !== undefined) return { reason: `container instance ${request.pinnedTo} not found`, code: 'NoContainerInstances' };
    return { reason: `No Container Instances were found in capacity provider ${request.capacityProvider ?? ''}`, code: 'NoContainerInstances' };
  }
  const tally = new Map<string, number>();
  let closest: { slot: Slot; verdict: Verdict } | undefined;
  for (const slot of pool) {
    const verdict = verdictOf(slot, request, memberOf, verdicts);
    // Only a caller asking about a task that does fit gets here: the scan found no instance for it.
    if (verdict === undefined) return { reason: 'an instance fits the task', code: 'NoContainerInstances' };
    const label = labelOf(verdict);
    tally.set(label, (tally.get(label) ?? 0) + 1);
    if (closest === undefined || closer(verdict, closest.verdict)) closest = { slot, verdict };
  }
  const { slot, verdict } = closest!;
  const summary = [...tally].map(([label, count]) => `${count} ${label}`).join(', ');
  return {
    reason: `no container instance met all of its requirements. The closest matching container-instance ${slot.name} ${problemOf(verdict)}. Of ${pool.length} instance${pool.length === 1 ? '' : 's'}: ${summary}.`,
    code: codeOf(verdict),
  };
}

function verdictOf(slot: Slot, request: BatchRequest, memberOf: readonly MemberOf[], verdicts: MemberOfVerdicts): Verdict | undefined {
  if (slot.unavailable !== undefined) return { stage: 0, code: slot.unavailable };
  const refusal = dataPlaneRefusal(slot, request.requirements);
  if (refusal) return { stage: 0, code: 'DATAPLANE', detail: refusal };
  const { cpu, memory, hostPorts } = request.requirements;
  const short: ResourceCode[] = [];
  if (slot.cpu < cpu) short.push('RESOURCE:CPU');
  if (slot.memory < memory) short.push('RESOURCE:MEMORY');
  if (hostPorts.some(({ port, protocol }) => (protocol === 'udp' ? slot.udpPorts : slot.tcpPorts).has(port))) short.push('RESOURCE:PORTS');
  if (short.length > 0) return { stage: 1, short };
  const group = request.group;
  if (group !== undefined && request.placementConstraints.some((c) => c.type === 'distinctInstance') && (slot.groupCounts.get(group) ?? 0) > 0) {
    return { stage: 2, code: 'CONSTRAINT:distinctInstance' };
  }
  const refusing = memberOf.find((query) => !verdicts.matches(query, slot));
  if (refusing) return { stage: 2, code: 'CONSTRAINT:memberOf', expression: refusing.expression };
  return undefined;
}

function closer(verdict: Verdict, than: Verdict): boolean {
  if (verdict.stage !== than.stage) return verdict.stage > than.stage;
  return verdict.stage === 1 && than.stage === 1 && verdict.short.length < than.short.length;
}

const resourceWords: Record<ResourceCode, string> = {
  'RESOURCE:CPU': 'insufficient CPU units',
  'RESOURCE:MEMORY': 'insufficient memory',
  'RESOURCE:PORTS': 'with a host port in use',
};

function labelOf(verdict: Verdict): string {
  switch (verdict.stage) {
    case 0:
      return verdict.code === 'AGENT' ? 'disconnected' : verdict.code === 'DATAPLANE' ? 'Nodes that cannot run it' : verdict.code;
    case 1:
      return resourceWords[verdict.short[0]];
    case 2:
      return verdict.code === 'CONSTRAINT:memberOf' ? `excluded by memberOf(${verdict.expression})` : 'excluded by distinctInstance';
  }
}

function problemOf(verdict: Verdict): string {
  switch (verdict.stage) {
    case 0:
      return verdict.code === 'AGENT' ? 'has a disconnected agent' : verdict.code === 'DATAPLANE' ? verdict.detail : `is ${verdict.code}`;
    case 1: {
      const lacks = verdict.short.filter((code) => code !== 'RESOURCE:PORTS').map((code) => (code === 'RESOURCE:CPU' ? 'CPU units' : 'memory'));
      const parts = lacks.length > 0 ? [`has insufficient ${lacks.join(' and ')} available`] : [];
      if (verdict.short.includes('RESOURCE:PORTS')) parts.push('is already using a port required by your task');
      return parts.join(' and ');
    }
    case 2:
      return `encountered error "${verdict.code === 'CONSTRAINT:memberOf' ? 'MemberOf' : 'DistinctInstance'} placement constraint unsatisfied"`;
  }
}

function codeOf(verdict: Verdict): WaitCode {
  return verdict.stage === 1 ? verdict.short[0] : verdict.code;
}
