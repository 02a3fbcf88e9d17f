import { initialTransition, transition } from 'xstate';
import type { ClusterStatus } from '../../../api';
import { reservationPercent, type ScalingBounds } from './scaling-arithmetic';
import { scalingMachine, type RecordScaling, type ScalingObservation } from './scaling-machine';
import { metaTime } from '../../../runtime/clock';

export type NodeGroupStatus = NonNullable<ClusterStatus['nodeGroups']>[number];

/** The managed-scaling fields of a node group's status entry. */
export type ScalingStatus = Pick<
  NodeGroupStatus,
  'desiredSize' | 'capacityProviderReservation' | 'instancesNeeded' | 'lowReservationSince' | 'lastScalingDecision'
>;

export interface ManagedScalingSettings {
  targetCapacity: number;
  bounds: ScalingBounds;
  scaleInCooldownSeconds: number;
}

/** What the group's instances and tasks say now (see demand.ts). */
export interface GroupDemand {
  instancesNeeded: number;
  instancesRunning: number;
  removable: number;
  /** When the first instance still warming up starts to count (milliseconds since the epoch), if any warms up. */
  nextWarmedAt?: number;
}

export interface ScalingInput {
  nodeGroup: string;
  settings: ManagedScalingSettings;
  /** scaling.desiredSize (else minSize): where a group without a stored size starts. */
  startingSize: number;
  /** The group's entry in the Cluster's status, as stored. */
  stored: NodeGroupStatus | undefined;
  demand: GroupDemand;
  now: Date;
}

export interface ScalingEffect {
  type: 'recordEvent';
  kind: 'Normal';
  reason: 'NodeGroupScaledOut' | 'NodeGroupScaledIn';
  message: string;
}

export interface ScalingDecision {
  status: ScalingStatus;
  effects: ScalingEffect[];
  /** Look again then even if nothing changes: the cooldown ends, or an instance has warmed up. */
  requeueAfterMs?: number;
}

/**
 * One managed-scaling decision for one node group: the machine is restored from the group's status
 * entry (desiredSize, and lowReservationSince for a cooldown under way), takes one observation, and
 * the result is the entry to store plus the Event to record. Pure; the controller writes the status
 * before it launches or drains anything, so a decision whose write fails is made again, never acted on twice.
 */
export function decideScaling(input: ScalingInput): ScalingDecision {
  const { settings, demand, stored } = input;
  const now = input.now.getTime();
  const lowSince = stored?.lowReservationSince ? Date.parse(stored.lowReservationSince) : undefined;
  const context = { desiredSize: stored?.desiredSize ?? input.startingSize, ...(lowSince !== undefined ? { lowSince } : {}) };
  const [initial] = initialTransition(scalingMachine, context);
  const restored = lowSince !== undefined ? scalingMachine.resolveState({ value: 'LOW', context }) : initial;
  const event: ScalingObservation = {
    type: 'OBSERVED',
    now,
    instancesNeeded: demand.instancesNeeded,
    instancesRunning: demand.instancesRunning,
    removable: demand.removable,
    targetCapacity: settings.targetCapacity,
    bounds: settings.bounds,
    cooldownMs: settings.scaleInCooldownSeconds * 1000,
  };
  const [next, actions] = transition(scalingMachine, restored, event);
  const decisions = actions.filter((action) => action.type === 'recordScaling').map((action) => action.params as RecordScaling);
  const last = decisions.at(-1);
  const nextLowSince = next.context.lowSince;
  const status: ScalingStatus = {
    desiredSize: next.context.desiredSize,
    capacityProviderReservation: reservationPercent(demand.instancesNeeded, demand.instancesRunning),
    instancesNeeded: demand.instancesNeeded,
    ...(nextLowSince !== undefined ? { lowReservationSince: metaTime(nextLowSince) } : {}),
    ...(last
      ? { lastScalingDecision: { ...last, time: metaTime(now) } }
      : stored?.lastScalingDecision
        ? { lastScalingDecision: stored.lastScalingDecision }
        : {}),
  };
  const effects = decisions.map((decision): ScalingEffect => ({
    type: 'recordEvent',
    kind: 'Normal',
    reason: decision.direction === 'out' ? 'NodeGroupScaledOut' : 'NodeGroupScaledIn',
    message: `scaled node group ${input.nodeGroup} ${decision.direction} from ${decision.from} to ${decision.to} instances: ${decision.reason}`,
  }));
  const wakeUps = [nextLowSince !== undefined ? nextLowSince + event.cooldownMs : undefined, demand.nextWarmedAt]
    .filter((at): at is number => at !== undefined && at > now)
    .map((at) => at - now);
  return { status, effects, ...(wakeUps.length > 0 ? { requeueAfterMs: Math.min(...wakeUps) } : {}) };
}
