import { transition } from 'xstate';
import { adjacencyMapToArray, getAdjacencyMap, getShortestPaths, serializeSnapshot } from 'xstate/graph';
import { scalingMachine, type RecordScaling, type ScalingObservation } from './scaling-machine';

const bounds = { minSize: 1, maxSize: 10, minimumScalingStepSize: 1, maximumScalingStepSize: 3 };
const minute = 60_000;
const cooldownMs = 15 * minute;

/** An observation at `minutes` past the epoch; the clock is the event's, so the model needs no timers. */
const observed = (minutes: number, fields: Partial<Omit<ScalingObservation, 'type' | 'now'>>): ScalingObservation => ({
  type: 'OBSERVED',
  now: minutes * minute,
  instancesNeeded: 2,
  instancesRunning: 2,
  removable: 0,
  targetCapacity: 100,
  bounds,
  cooldownMs,
  ...fields,
});

// The model visits these samples in every order, so along a path the clock may even go back: whatever
// the order, no edge may scale in before a whole cooldown has passed since the reservation went low.
const sampleEvents: ScalingObservation[] = [
  observed(0, { instancesNeeded: 2 }),
  observed(1, { instancesNeeded: 6, instancesRunning: 2 }),
  observed(2, { instancesNeeded: 1, instancesRunning: 4, removable: 3 }),
  observed(10, { instancesNeeded: 1, instancesRunning: 4, removable: 0 }),
  observed(20, { instancesNeeded: 1, instancesRunning: 4, removable: 3 }),
  observed(40, { instancesNeeded: 1, instancesRunning: 4, removable: 3 }),
  observed(41, { instancesNeeded: 0, bounds: { ...bounds, minSize: 3 } }),
  observed(42, { instancesNeeded: 12, bounds: { ...bounds, maxSize: 4 } }),
];

const input = { desiredSize: 2 };

describe('node group scaling machine model', () => {
  const options = { events: sampleEvents, input };
  const paths = getShortestPaths(scalingMachine, options);

  it('reaches STEADY and LOW, at several sizes', () => {
    const reached = new Set(paths.map((p) => `${String(p.state.value)}/${p.state.context.desiredSize}`));
    expect([...new Set(paths.map((p) => String(p.state.value)))].sort()).toEqual(['LOW', 'STEADY']);
    expect(reached.size).toBeGreaterThan(6);
  });

  it('keeps its invariants on every edge, each reached by its shortest path', () => {
    const adjacency = getAdjacencyMap(scalingMachine, { ...options, serializeState: serializeSnapshot, serializeEvent: (e) => JSON.stringify(e) });
    const edges = adjacencyMapToArray(adjacency);
    const pathTo = new Set(paths.map((p) => serializeSnapshot(p.state)));
    for (const { state, event, nextState } of edges) {
      expect(pathTo.has(serializeSnapshot(state))).toBe(true);
      const e = event;
      const before = state.context;
      const after = nextState.context;
      const [, actions] = transition(scalingMachine, state, e);
      const decisions = actions.filter((a) => a.type === 'recordScaling').map((a) => a.params as RecordScaling);
      const wanted = Math.min(Math.max(Math.ceil((e.instancesNeeded * 100) / e.targetCapacity), e.bounds.minSize), e.bounds.maxSize);

      // Always within the bounds of the observation.
      expect(after.desiredSize).toBeGreaterThanOrEqual(e.bounds.minSize);
      expect(after.desiredSize).toBeLessThanOrEqual(e.bounds.maxSize);
      // One decision per change of size, recorded with the sizes it went between.
      if (after.desiredSize === before.desiredSize) expect(decisions).toEqual([]);
      else expect(decisions).toEqual([expect.objectContaining({ from: before.desiredSize, to: after.desiredSize })]);

      const boundsMoved = before.desiredSize < e.bounds.minSize || before.desiredSize > e.bounds.maxSize;
      if (after.desiredSize > before.desiredSize && !boundsMoved) {
        // Out only when tasks wait for capacity, by at most the maximum step, never past what is wanted unless the minimum step says so.
        expect(wanted).toBeGreaterThan(before.desiredSize);
        expect(after.desiredSize - before.desiredSize).toBeLessThanOrEqual(e.bounds.maximumScalingStepSize);
        expect(after.desiredSize).toBeLessThanOrEqual(Math.max(wanted, before.desiredSize + e.bounds.minimumScalingStepSize));
        expect(decisions[0].reason).toMatch(/^reservation \d+% \(\d+ instances? needed, \d+ running\), target 100%$/);
      }
      if (after.desiredSize < before.desiredSize && !boundsMoved) {
        // In only from LOW, after the whole cooldown, by empty instances only, at most the maximum step, never below what is wanted.
        expect(state.value).toBe('LOW');
        expect(e.now - before.lowSince!).toBeGreaterThanOrEqual(cooldownMs);
        expect(before.desiredSize - after.desiredSize).toBeLessThanOrEqual(Math.min(e.removable, e.bounds.maximumScalingStepSize));
        expect(after.desiredSize).toBeGreaterThanOrEqual(wanted);
        expect(after.lowSince).toBe(e.now);
      }
      // LOW always knows since when; STEADY never does.
      if (nextState.value === 'LOW') expect(after.lowSince).toBeDefined();
      else expect(after.lowSince).toBeUndefined();
    }
    expect(edges.length).toBeGreaterThan(40);
  });

  it('scales out at once, waits out the cooldown, then scales in by the empty instances only', () => {
    let [snapshot] = [scalingMachine.resolveState({ value: 'STEADY', context: input })];
    const step = (event: ScalingObservation) => {
      const [next, actions] = transition(scalingMachine, snapshot, event);
      snapshot = next;
      return actions.filter((a) => a.type === 'recordScaling').map((a) => a.params as RecordScaling);
    };
    expect(step(observed(0, { instancesNeeded: 4 }))).toEqual([
      { direction: 'out', from: 2, to: 4, reason: 'reservation 200% (4 instances needed, 2 running), target 100%' },
    ]);
    expect(step(observed(1, { instancesNeeded: 1, instancesRunning: 4, removable: 3 }))).toEqual([]);
    expect(snapshot.value).toBe('LOW');
    expect(step(observed(15, { instancesNeeded: 1, instancesRunning: 4, removable: 3 }))).toEqual([]);
    expect(step(observed(16, { instancesNeeded: 1, instancesRunning: 4, removable: 1 }))).toEqual([
      { direction: 'in', from: 4, to: 3, reason: 'reservation 25% (1 instance needed, 4 running), target 100%' },
    ]);
    // The next step waits for another cooldown.
    expect(step(observed(17, { instancesNeeded: 1, instancesRunning: 3, removable: 2 }))).toEqual([]);
    expect(step(observed(31, { instancesNeeded: 1, instancesRunning: 3, removable: 2 }))).toEqual([
      { direction: 'in', from: 3, to: 1, reason: 'reservation 33% (1 instance needed, 3 running), target 100%' },
    ]);
  });
});
