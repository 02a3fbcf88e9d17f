import { initialTransition, transition } from 'xstate';
import { adjacencyMapToArray, getAdjacencyMap, getShortestPaths, serializeSnapshot } from 'xstate/graph';
import { deploymentMachine, type DeploymentEvent } from './deployment-machine';

const input = { id: 'ecs-svc/1', serviceName: 'web', taskDefinition: 'web:2' };

const observed = (counts: Omit<Extract<DeploymentEvent, { type: 'OBSERVED' }>, 'type'>): DeploymentEvent => ({ type: 'OBSERVED', ...counts });

const sampleEvents: DeploymentEvent[] = [
  { type: 'SUPERSEDED' },
  observed({ desiredCount: 4, healthy: 2, live: 4, othersLive: 2, failedTasks: 1, failureThreshold: 3 }),
  observed({ desiredCount: 4, healthy: 4, live: 4, othersLive: 0, failedTasks: 0, failureThreshold: 3 }),
  observed({ desiredCount: 4, healthy: 4, live: 4, othersLive: 1, failedTasks: 0, failureThreshold: 3 }),
  observed({ desiredCount: 4, healthy: 0, live: 2, othersLive: 4, failedTasks: 3, failureThreshold: 3 }),
  observed({ desiredCount: 4, healthy: 0, live: 2, othersLive: 4, failedTasks: 9 }),
  observed({ desiredCount: 4, healthy: 0, live: 0, othersLive: 4, failedTasks: 0, failureThreshold: 3 }),
];

type Value = { status: string; rollout: string };
const valueOf = (snapshot: { value: unknown }) => snapshot.value as Value;
const statusRank = ['PRIMARY', 'ACTIVE', 'INACTIVE'];

describe('deployment machine model', () => {
  const options = { events: sampleEvents, input };
  const paths = getShortestPaths(deploymentMachine, options);

  it('reaches every combination of status and rolloutState', () => {
    const reached = new Set(paths.map((p) => `${valueOf(p.state).status}/${valueOf(p.state).rollout}`));
    expect([...reached].sort()).toEqual(
      ['ACTIVE', 'INACTIVE', 'PRIMARY'].flatMap((status) => ['COMPLETED', 'FAILED', 'IN_PROGRESS'].map((rollout) => `${status}/${rollout}`)).sort(),
    );
  });

  it('starts PRIMARY and IN_PROGRESS with an ECS-style reason', () => {
    const [initial] = initialTransition(deploymentMachine, input);
    expect(initial.value).toEqual({ status: 'PRIMARY', rollout: 'IN_PROGRESS' });
    expect(initial.context.rolloutStateReason).toBe('ECS deployment ecs-svc/1 in progress.');
  });

  it('keeps its invariants on every edge, each reached by its shortest path', () => {
    const adjacency = getAdjacencyMap(deploymentMachine, { ...options, serializeState: serializeSnapshot, serializeEvent: (e) => JSON.stringify(e) });
    const edges = adjacencyMapToArray(adjacency);
    const pathTo = new Map<string, (typeof paths)[number]>(paths.map((p) => [serializeSnapshot(p.state), p]));
    for (const { state, event, nextState } of edges) {
      expect(pathTo.has(serializeSnapshot(state))).toBe(true);
      const before = valueOf(state);
      const after = valueOf(nextState);
      const [, actions] = transition(deploymentMachine, state, event);
      const recorded = actions.filter((a) => a.type === 'recordEvent').map((a) => (a.params as { reason: string }).reason);

      // status only moves forward, one step at a time.
      expect(statusRank.indexOf(after.status) - statusRank.indexOf(before.status)).toBeGreaterThanOrEqual(0);
      expect(statusRank.indexOf(after.status) - statusRank.indexOf(before.status)).toBeLessThanOrEqual(1);
      if (after.status === 'INACTIVE' && before.status !== 'INACTIVE') expect(event).toMatchObject({ type: 'OBSERVED', live: 0 });
      // A rollout ends once, and only while the deployment is PRIMARY.
      if (before.rollout !== 'IN_PROGRESS') expect(after.rollout).toBe(before.rollout);
      if (after.rollout !== before.rollout) expect(before.status).toBe('PRIMARY');
      if (after.rollout === 'FAILED' && before.rollout !== 'FAILED') {
        expect(event.type === 'OBSERVED' && event.failureThreshold !== undefined && event.failedTasks >= event.failureThreshold).toBe(true);
        expect(nextState.context.rolloutStateReason).toMatch(/^ECS deployment circuit breaker: /);
        expect(recorded).toEqual(['DeploymentFailed']);
      } else if (after.rollout === 'COMPLETED' && before.rollout !== 'COMPLETED') {
        expect(event).toMatchObject({ healthy: 4, live: 4, othersLive: 0 });
        expect(nextState.context.rolloutStateReason).toBe('ECS deployment ecs-svc/1 completed.');
        expect(recorded).toEqual(['DeploymentCompleted', 'SteadyState']);
      } else {
        expect(recorded).toEqual([]);
      }
    }
    expect(edges.length).toBeGreaterThan(30);
  });
});
