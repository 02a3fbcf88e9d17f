import { assign, setup } from 'xstate';
import { reservationPercent, scaleInSize, scaleOutSize, sizeForTarget, withinBounds, type ScalingBounds } from './scaling-arithmetic';

/**
 * Managed scaling of one managed node group (its capacity provider), evaluated with `transition()`
 * like the deployment and instance machines (never run as an actor):
 *
 *   STEADY ──reservation below target──▶ LOW ──still below after the cooldown──▶ scale in (stays LOW, the
 *     ▲                                   │                                       cooldown starts again)
 *     └──────at or above target again─────┘
 *   either state, checked first:
 *     desiredSize outside minSize..maxSize (the bounds changed) ──▶ moved inside them, STEADY
 *     tasks wait for capacity (the size the reservation calls for is above desiredSize) ──▶ scale out, STEADY
 *
 * The context is the group's desired size and, in LOW, since when the reservation has been low; both
 * live in the Cluster's status, so a restarted operator resumes the cooldown where it was.
 */

export interface ScalingContext {
  /** The size the group is driven to. */
  desiredSize: number;
  /** Milliseconds since the epoch when the reservation went below target; set only in LOW. */
  lowSince?: number;
}

export interface ScalingObservation {
  type: 'OBSERVED';
  /** Milliseconds since the epoch (the injected clock). */
  now: number;
  /** M: instances needed by the tasks placed on the group and waiting for it. */
  instancesNeeded: number;
  /** N: the group's ACTIVE instances past their warm-up. */
  instancesRunning: number;
  /** ACTIVE instances past their warm-up that run no task: the only ones scale-in may remove. */
  removable: number;
  targetCapacity: number;
  bounds: ScalingBounds;
  cooldownMs: number;
}

export interface RecordScaling {
  direction: 'out' | 'in';
  from: number;
  to: number;
  reason: string;
}

type Args = { context: ScalingContext; event: ScalingObservation };

/** The size the reservation calls for, within the group's bounds. */
const wanted = ({ event }: Args) => withinBounds(sizeForTarget(event.instancesNeeded, event.targetCapacity), event.bounds);

const metric = (event: ScalingObservation) =>
  `reservation ${reservationPercent(event.instancesNeeded, event.instancesRunning)}% (${event.instancesNeeded} instance${event.instancesNeeded === 1 ? '' : 's'} needed, ${event.instancesRunning} running), target ${event.targetCapacity}%`;

const boundsSize = ({ context, event }: Args) => withinBounds(context.desiredSize, event.bounds);
const scaleOutTo = (args: Args) => scaleOutSize(args.context.desiredSize, wanted(args), args.event.bounds);
const scaleInTo = (args: Args) => scaleInSize(args.context.desiredSize, wanted(args), args.event.removable, args.event.bounds);

const record = (direction: (args: Args) => RecordScaling['direction'], size: (args: Args) => number, why: (args: Args) => string) => ({
  type: 'recordScaling' as const,
  params: (args: Args): RecordScaling => ({ direction: direction(args), from: args.context.desiredSize, to: size(args), reason: why(args) }),
});

/** Transitions every state takes first: the bounds, then tasks waiting for capacity. */
const boundsChanged = {
  guard: 'outOfBounds',
  target: 'STEADY',
  actions: [
    record(
      (args) => (boundsSize(args) > args.context.desiredSize ? 'out' : 'in'),
      boundsSize,
      ({ event }) => `the group's bounds are now ${event.bounds.minSize}..${event.bounds.maxSize}`,
    ),
    { type: 'resize' as const, params: (args: Args) => ({ desiredSize: boundsSize(args) }) },
  ],
} as const;

const scaleOut = {
  guard: 'tasksWaitForCapacity',
  target: 'STEADY',
  actions: [
    record(
      () => 'out',
      scaleOutTo,
      ({ event }) => metric(event),
    ),
    { type: 'resize' as const, params: (args: Args) => ({ desiredSize: scaleOutTo(args) }) },
  ],
} as const;

export const scalingMachine = setup({
  types: { context: {} as ScalingContext, events: {} as ScalingObservation, input: {} as ScalingContext },
  actions: {
    recordScaling: (_args, _decision: RecordScaling) => undefined,
    /** A new size; the cooldown starts again after a scale-in (ECS waits out another low period per step), and ends otherwise. */
    resize: assign((_args, params: Pick<ScalingContext, 'desiredSize' | 'lowSince'>) => ({ desiredSize: params.desiredSize, lowSince: params.lowSince })),
    markLow: assign({ lowSince: ({ event }) => event.now }),
    clearLow: assign({ lowSince: undefined }),
  },
  guards: {
    outOfBounds: (args) => boundsSize(args) !== args.context.desiredSize,
    tasksWaitForCapacity: (args) => wanted(args) > args.context.desiredSize,
    belowTarget: (args) => wanted(args) < args.context.desiredSize,
    atOrAboveTarget: (args) => wanted(args) >= args.context.desiredSize,
    /** Low for the whole cooldown, and some instance may go. */
    cooledDown: (args) =>
      args.context.lowSince !== undefined && args.event.now - args.context.lowSince >= args.event.cooldownMs && scaleInTo(args) < args.context.desiredSize,
  },
}).createMachine({
  id: 'nodeGroupScaling',
  context: ({ input }) => input,
  initial: 'STEADY',
  states: {
    STEADY: {
      on: {
        OBSERVED: [boundsChanged, scaleOut, { guard: 'belowTarget', target: 'LOW', actions: 'markLow' }],
      },
    },
    LOW: {
      on: {
        OBSERVED: [
          boundsChanged,
          scaleOut,
          { guard: 'atOrAboveTarget', target: 'STEADY', actions: 'clearLow' },
          {
            guard: 'cooledDown',
            target: 'LOW',
            reenter: true,
            actions: [
              record(
                () => 'in',
                scaleInTo,
                ({ event }) => metric(event),
              ),
              { type: 'resize', params: (args: Args) => ({ desiredSize: scaleInTo(args), lowSince: args.event.now }) },
            ],
          },
        ],
      },
    },
  },
});
