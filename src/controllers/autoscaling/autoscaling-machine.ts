import { assign, setup } from 'xstate';
import { adjustedCapacity, type AdjustmentType } from './step-scaling';

/**
 * Policy-driven scaling of one service (Application Auto Scaling's rules), evaluated with `transition()`
 * like the deployment and node-group machines, never run as an actor. Its state is which cooldown runs:
 *
 *   STEADY ──scale-out──▶ SCALED_OUT ──a larger scale-out──▶ SCALED_OUT (cooldown starts again)
 *     │                     │  ▲
 *     │                     │  └──────────── scale-out (ends the scale-in cooldown at once) ──┐
 *     └──scale-in──▶ SCALED_IN ◀──scale-in──┘                                                  │
 *                     │  (no scale-in until its cooldown ends) ───────────────────────────────┘
 *   and back to STEADY when the cooldown ends (decide-autoscaling.ts restores STEADY once it has).
 *
 * Several policies at once: scale out if any asks to, to the largest capacity asked for; scale in only to
 * the largest capacity the scale-in proposals ask for, so the policy that removes least wins (target tracking
 * proposes a scale-in only when every target-tracking policy that may scale in agrees; decide-autoscaling.ts).
 * During a scale-out cooldown a step counts from the capacity before the cooldown's first scale-out: +2 from
 * 10 (to 12), then a +3 step within the cooldown asks for 13, so only 1 is added, not 3. Target tracking asks
 * for an absolute capacity, which is compared with desiredCount as it is. Everything is clamped to
 * minCapacity..maxCapacity first: a policy never goes past them.
 */

export type Proposal =
  | { kind: 'capacity'; capacity: number; cause: string; cooldownMs: number }
  | { kind: 'step'; type: AdjustmentType; adjustment: number; minAdjustmentMagnitude?: number; cause: string; cooldownMs: number };

export interface AutoScalingContext {
  desiredCount: number;
  /** The running scale-out cooldown: when it ends, and the capacity before its first scale-out. */
  scaleOut?: { endsAt: number; base: number };
  /** When the running scale-in cooldown ends. */
  scaleInEndsAt?: number;
}

export interface PolicyObservation {
  type: 'OBSERVED';
  /** Milliseconds since the epoch (the injected clock). */
  now: number;
  bounds: { minCapacity: number; maxCapacity: number };
  scaleOut: Proposal[];
  scaleIn: Proposal[];
  /** Why no scale-in may happen now (a deployment in progress), if so. */
  scaleInBlocked?: string;
}

export interface RecordScaling {
  direction: 'out' | 'in';
  from: number;
  to: number;
  cause: string;
}

type Args = { context: AutoScalingContext; event: PolicyObservation };

const clamp = (capacity: number, { bounds }: PolicyObservation) => Math.min(bounds.maxCapacity, Math.max(bounds.minCapacity, capacity));

function asked(proposal: Proposal, from: number): number {
  return proposal.kind === 'capacity' ? proposal.capacity : adjustedCapacity(from, proposal.type, proposal.adjustment, proposal.minAdjustmentMagnitude);
}

/** The proposal asking for the most, and what it asks for, within the bounds. */
function largest(proposals: Proposal[], from: number, event: PolicyObservation): { proposal: Proposal; capacity: number } | undefined {
  let best: { proposal: Proposal; capacity: number } | undefined;
  for (const proposal of proposals) {
    const capacity = clamp(asked(proposal, from), event);
    if (!best || capacity > best.capacity) best = { proposal, capacity };
  }
  return best;
}

/** Steps count from the cooldown's base while a scale-out cooldown runs, else from desiredCount. */
const outFrom = ({ context }: Args) => context.scaleOut?.base ?? context.desiredCount;
const outChoice = (args: Args) => largest(args.event.scaleOut, outFrom(args), args.event);
const inChoice = (args: Args) => largest(args.event.scaleIn, args.context.desiredCount, args.event);

const scaleOut = {
  guard: 'wantsScaleOut',
  target: 'SCALED_OUT',
  reenter: true,
  actions: [
    {
      type: 'recordScaling' as const,
      params: (args: Args): RecordScaling => {
        const choice = outChoice(args)!;
        return { direction: 'out', from: args.context.desiredCount, to: choice.capacity, cause: choice.proposal.cause };
      },
    },
    'scaledOut' as const,
  ],
} as const;

const scaleIn = {
  guard: 'wantsScaleIn',
  target: 'SCALED_IN',
  actions: [
    {
      type: 'recordScaling' as const,
      params: (args: Args): RecordScaling => {
        const choice = inChoice(args)!;
        return { direction: 'in', from: args.context.desiredCount, to: choice.capacity, cause: choice.proposal.cause };
      },
    },
    'scaledIn' as const,
  ],
} as const;

export const autoScalingMachine = setup({
  types: { context: {} as AutoScalingContext, events: {} as PolicyObservation, input: {} as AutoScalingContext },
  actions: {
    recordScaling: (_args, _decision: RecordScaling) => undefined,
    scaledOut: assign((args: Args) => {
      const choice = outChoice(args)!;
      return {
        desiredCount: choice.capacity,
        scaleOut: { endsAt: args.event.now + choice.proposal.cooldownMs, base: outFrom(args) },
        scaleInEndsAt: undefined,
      };
    }),
    scaledIn: assign((args: Args) => {
      const choice = inChoice(args)!;
      return { desiredCount: choice.capacity, scaleOut: undefined, scaleInEndsAt: args.event.now + choice.proposal.cooldownMs };
    }),
  },
  guards: {
    wantsScaleOut: (args: Args) => (outChoice(args)?.capacity ?? -1) > args.context.desiredCount,
    wantsScaleIn: (args: Args) => args.event.scaleInBlocked === undefined && (inChoice(args)?.capacity ?? Infinity) < args.context.desiredCount,
  },
}).createMachine({
  id: 'serviceAutoScaling',
  context: ({ input }) => input,
  initial: 'STEADY',
  states: {
    STEADY: { on: { OBSERVED: [scaleOut, scaleIn] } },
    SCALED_OUT: { on: { OBSERVED: [scaleOut, scaleIn] } },
    SCALED_IN: { on: { OBSERVED: [scaleOut] } },
  },
});
