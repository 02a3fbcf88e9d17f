import { decideScaling, type ScalingInput } from './decide-scaling';

const settings = {
  targetCapacity: 100,
  bounds: { minSize: 1, maxSize: 10, minimumScalingStepSize: 1, maximumScalingStepSize: 10000 },
  scaleInCooldownSeconds: 300,
};
const at = (iso: string) => new Date(iso);

const input = (fields: Partial<ScalingInput>): ScalingInput => ({
  nodeGroup: 'general',
  settings,
  startingSize: 2,
  stored: undefined,
  demand: { instancesNeeded: 2, instancesRunning: 2, removable: 0 },
  now: at('2026-01-01T00:00:00Z'),
  ...fields,
});

describe('decideScaling', () => {
  test('starts at scaling.desiredSize, and records the reservation without deciding anything at target', () => {
    const decision = decideScaling(input({}));
    expect(decision).toEqual({ status: { desiredSize: 2, capacityProviderReservation: 100, instancesNeeded: 2 }, effects: [] });
  });

  test('tasks waiting for capacity: one Event saying why, the decision in status', () => {
    const decision = decideScaling(input({ demand: { instancesNeeded: 4, instancesRunning: 2, removable: 0 } }));
    expect(decision.status).toEqual({
      desiredSize: 4,
      capacityProviderReservation: 200,
      instancesNeeded: 4,
      lastScalingDecision: {
        direction: 'out',
        from: 2,
        to: 4,
        reason: 'reservation 200% (4 instances needed, 2 running), target 100%',
        time: '2026-01-01T00:00:00Z',
      },
    });
    expect(decision.effects).toEqual([
      {
        type: 'recordEvent',
        kind: 'Normal',
        reason: 'NodeGroupScaledOut',
        message: 'scaled node group general out from 2 to 4 instances: reservation 200% (4 instances needed, 2 running), target 100%',
      },
    ]);
  });

  test('a low reservation starts the cooldown, stored in status, and asks to look again when it ends', () => {
    const low = decideScaling(input({ stored: { name: 'general', desiredSize: 4 }, demand: { instancesNeeded: 1, instancesRunning: 4, removable: 3 } }));
    expect(low.status).toMatchObject({ desiredSize: 4, lowReservationSince: '2026-01-01T00:00:00Z', capacityProviderReservation: 25 });
    expect(low.effects).toEqual([]);
    expect(low.requeueAfterMs).toBe(300_000);
  });

  test('survives a restart: the cooldown resumes from status, and the scale-in comes when it has passed', () => {
    const stored = { name: 'general', desiredSize: 4, lowReservationSince: '2026-01-01T00:00:00Z' };
    const demand = { instancesNeeded: 1, instancesRunning: 4, removable: 3 };
    const early = decideScaling(input({ stored, demand, now: at('2026-01-01T00:04:00Z') }));
    expect(early.status.desiredSize).toBe(4);
    expect(early.requeueAfterMs).toBe(60_000);
    const due = decideScaling(input({ stored, demand, now: at('2026-01-01T00:05:00Z') }));
    expect(due.status).toMatchObject({ desiredSize: 1, lowReservationSince: '2026-01-01T00:05:00Z' });
    expect(due.effects.map((e) => e.message)).toEqual([
      'scaled node group general in from 4 to 1 instances: reservation 25% (1 instance needed, 4 running), target 100%',
    ]);
  });

  test('the reservation back at target ends the cooldown; the last decision stays in status', () => {
    const lastScalingDecision = { direction: 'out' as const, from: 2, to: 4, reason: 'x', time: '2025-12-31T00:00:00Z' };
    const stored = { name: 'general', desiredSize: 4, lowReservationSince: '2026-01-01T00:00:00Z', lastScalingDecision };
    const decision = decideScaling(input({ stored, demand: { instancesNeeded: 4, instancesRunning: 4, removable: 0 } }));
    expect(decision.status).toEqual({ desiredSize: 4, capacityProviderReservation: 100, instancesNeeded: 4, lastScalingDecision });
  });

  test('an instance warming up is a reason to look again once it counts', () => {
    const decision = decideScaling(
      input({ demand: { instancesNeeded: 2, instancesRunning: 1, removable: 0, nextWarmedAt: Date.parse('2026-01-01T00:00:30Z') } }),
    );
    expect(decision.status.capacityProviderReservation).toBe(200);
    expect(decision.status.desiredSize).toBe(2);
    expect(decision.requeueAfterMs).toBe(30_000);
  });
});
