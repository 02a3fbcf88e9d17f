import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { autoScalingMachine, type AutoScalingContext, type PolicyObservation, type Proposal, type RecordScaling } from './autoscaling-machine';

type Snapshot = SnapshotFrom<typeof autoScalingMachine>;
const minute = 60_000;
const bounds = { minCapacity: 1, maxCapacity: 20 };

function start(context: AutoScalingContext): Snapshot {
  return initialTransition(autoScalingMachine, context)[0];
}

function observe(snapshot: Snapshot, now: number, scaleOut: Proposal[], scaleIn: Proposal[] = [], extra: Partial<PolicyObservation> = {}) {
  const [next, actions] = transition(autoScalingMachine, snapshot, { type: 'OBSERVED', now, bounds, scaleOut, scaleIn, ...extra });
  const decisions = actions.filter((a) => a.type === 'recordScaling').map((a) => a.params as RecordScaling);
  return { next, decisions };
}

const step = (adjustment: number, cooldownMs = 5 * minute): Proposal => ({
  kind: 'step',
  type: 'ChangeInCapacity',
  adjustment,
  cause: `step ${adjustment}`,
  cooldownMs,
});
const capacity = (value: number, cooldownMs = 5 * minute): Proposal => ({ kind: 'capacity', capacity: value, cause: `to ${value}`, cooldownMs });

test('a scale-out starts its cooldown; within it a step counts from the capacity before it: +2, then +3 adds only 1', () => {
  const first = observe(start({ desiredCount: 10 }), 0, [step(2)]);
  expect(first.decisions).toEqual([{ direction: 'out', from: 10, to: 12, cause: 'step 2' }]);
  expect(first.next.value).toBe('SCALED_OUT');
  const second = observe(first.next, minute, [step(3)]);
  expect(second.decisions).toEqual([{ direction: 'out', from: 12, to: 13, cause: 'step 3' }]);
  // The same +3 again asks for 13 again: nothing.
  expect(observe(second.next, 2 * minute, [step(3)]).decisions).toEqual([]);
});

test('target tracking asks for an absolute capacity: within a scale-out cooldown only a larger one acts', () => {
  const first = observe(start({ desiredCount: 4 }), 0, [capacity(7)]);
  expect(first.next.context.desiredCount).toBe(7);
  expect(observe(first.next, minute, [capacity(7)]).decisions).toEqual([]);
  expect(observe(first.next, minute, [capacity(9)]).decisions).toEqual([{ direction: 'out', from: 7, to: 9, cause: 'to 9' }]);
});

test('several policies: scale out to the largest capacity asked for; scale in to the largest too (the smallest removal)', () => {
  expect(
    observe(start({ desiredCount: 10 }), 0, [step(3), { kind: 'step', type: 'PercentChangeInCapacity', adjustment: 200, cause: '+200%', cooldownMs: 0 }])
      .decisions,
  ).toEqual([
    { direction: 'out', from: 10, to: 20, cause: '+200%' }, // 30 asked, maxCapacity 20
  ]);
  expect(observe(start({ desiredCount: 10 }), 0, [], [capacity(4), capacity(6)]).decisions).toEqual([{ direction: 'in', from: 10, to: 6, cause: 'to 6' }]);
});

test('no scale-in during its cooldown, but a scale-out at once, which ends that cooldown', () => {
  const scaledIn = observe(start({ desiredCount: 10 }), 0, [], [capacity(8)]);
  expect(scaledIn.next.value).toBe('SCALED_IN');
  expect(observe(scaledIn.next, minute, [], [capacity(6)]).decisions).toEqual([]);
  const out = observe(scaledIn.next, minute, [capacity(9)]);
  expect(out.decisions).toEqual([{ direction: 'out', from: 8, to: 9, cause: 'to 9' }]);
  expect(out.next.context.scaleInEndsAt).toBeUndefined();
});

test('a scale-in is held back while a deployment is in progress', () => {
  expect(observe(start({ desiredCount: 10 }), 0, [], [capacity(4)], { scaleInBlocked: 'a deployment is in progress' }).decisions).toEqual([]);
});

test('never past minCapacity..maxCapacity, and never a scale "out" that would lower desiredCount', () => {
  expect(observe(start({ desiredCount: 19 }), 0, [step(5)]).decisions).toEqual([{ direction: 'out', from: 19, to: 20, cause: 'step 5' }]);
  expect(observe(start({ desiredCount: 20 }), 0, [step(5)]).decisions).toEqual([]);
  expect(observe(start({ desiredCount: 2 }), 0, [], [step(-5)]).decisions).toEqual([{ direction: 'in', from: 2, to: 1, cause: 'step -5' }]);
  expect(observe(start({ desiredCount: 25 }), 0, [capacity(22)]).decisions).toEqual([]);
});
