import { adjacencyMapToArray, getAdjacencyMap, getShortestPaths, serializeSnapshot } from 'xstate/graph';
import type { ContainerObservation } from './observation';
import type { TaskStatus } from '../../api';
import { nextTaskStatus, type TaskTransition } from './next-task-status';
import { taskLifecycleMachine, taskStatusOrder, type TaskEvent, type TaskLastStatus } from './task-lifecycle-machine';

/**
 * Model-based tests: xstate/graph walks the machine with a representative set of events, and every
 * path it finds is replayed through `nextTaskStatus` (the system under test), which stores and
 * restores the status at every step exactly as the agent and the task controller do.
 */

const container = (name: string, overrides: Partial<ContainerObservation> = {}): ContainerObservation => ({
  name,
  lastStatus: 'RUNNING',
  healthStatus: 'UNKNOWN',
  networkBindings: [],
  startedAt: '2024-05-01T10:00:05Z',
  ...overrides,
});

// A web container with a health check and a log-router sidecar (not essential, no check).
const observed = (web: Partial<ContainerObservation>, sidecar: Partial<ContainerObservation> = {}): TaskEvent => ({
  type: 'CONTAINERS_OBSERVED',
  containers: [container('web', web), container('log-router', sidecar)],
  essential: ['web'],
  healthChecked: ['web'],
});

const sampleEvents: TaskEvent[] = [
  { type: 'PLACED', containerInstance: 'i-1' },
  { type: 'PLACEMENT_FAILED', reason: 'no container instance has 512 MiB of memory free' },
  observed({ lastStatus: 'PULLED', startedAt: undefined }),
  observed({ healthStatus: 'UNKNOWN' }),
  observed({ healthStatus: 'HEALTHY' }),
  observed({ healthStatus: 'UNHEALTHY' }),
  observed({ lastStatus: 'STOPPED', exitCode: 1 }),
  observed({ lastStatus: 'STOPPED', startedAt: undefined, reason: 'CannotPullContainerError: pull access denied' }),
  observed({ healthStatus: 'HEALTHY' }, { lastStatus: 'STOPPED', exitCode: 0 }),
  observed({ lastStatus: 'STOPPED', exitCode: 0 }, { lastStatus: 'STOPPED', exitCode: 0 }),
  { type: 'LAUNCH_FAILED', reason: 'secret db-password not found' },
  { type: 'STOP_REQUESTED', stopCode: 'UserInitiated', reason: 'Task stopped by user' },
  { type: 'STOP_REQUESTED', stopCode: 'ServiceSchedulerInitiated', reason: 'Scaling activity initiated by (deployment ecs-svc/1)' },
  { type: 'CONTAINERS_STOPPED' },
  { type: 'INSTANCE_LOST', reason: 'container instance i-1 is gone' },
];

const now = new Date('2024-05-01T10:00:00Z');
const rank = (status: TaskStatus['lastStatus']) => taskStatusOrder.indexOf(status as TaskLastStatus);

/** Replays events through nextTaskStatus from a task that does not exist yet. */
function replay(events: TaskEvent[]): TaskTransition[] {
  let status: TaskStatus | undefined;
  return events.map((event, index) => {
    const next = nextTaskStatus(status, event, new Date(now.getTime() + index * 1000));
    status = next.status;
    return next;
  });
}

function assertInvariants(events: TaskEvent[], transitions: TaskTransition[]): void {
  let previous: TaskStatus | undefined;
  for (const [index, { status, effects }] of transitions.entries()) {
    if (previous) {
      expect(rank(status.lastStatus)).toBeGreaterThanOrEqual(rank(previous.lastStatus));
      if (previous.desiredStatus === 'STOPPED') expect(status.desiredStatus).toBe('STOPPED');
      if (previous.lastStatus === 'STOPPED') {
        expect(status).toEqual(previous);
        expect(effects).toEqual([]);
      }
      if (previous.stopCode) expect([status.stopCode, status.stoppedReason]).toEqual([previous.stopCode, previous.stoppedReason]);
    }
    if (status.lastStatus === 'STOPPED') {
      expect(status.stopCode).toBeDefined();
      expect(status.stoppedReason).toEqual(expect.any(String));
      expect(status.stoppedAt).toBeDefined();
      expect(status.desiredStatus).toBe('STOPPED');
    }
    if (status.desiredStatus === 'STOPPED') expect(status.stoppingAt).toBeDefined();
    if (rank(status.lastStatus) >= rank('RUNNING')) expect(status.createdAt).toBeDefined();
    // Containers are stopped exactly when the task enters STOPPING, and removed when it has stopped
    // them, unless their instance is gone with them.
    const entered = (s: TaskLastStatus) => status.lastStatus === s && previous?.lastStatus !== s;
    const removes = entered('STOPPED') && previous?.lastStatus === 'STOPPING' && events[index].type !== 'INSTANCE_LOST';
    expect(effects.some((e) => e.type === 'stopContainers')).toBe(entered('STOPPING'));
    expect(effects.some((e) => e.type === 'removeContainers')).toBe(removes);
    previous = status;
  }
}

describe('task lifecycle model', () => {
  const options = { events: sampleEvents };
  const shortestPaths = getShortestPaths(taskLifecycleMachine, options);

  it('reaches every resting status, and never rests in a pass-through one', () => {
    const reached = new Set(shortestPaths.map((path) => path.state.value));
    expect([...reached].sort()).toEqual(['ACTIVATING', 'PENDING', 'PROVISIONING', 'RUNNING', 'STOPPED', 'STOPPING']);
  });

  it.each(shortestPaths.map((path) => [path.steps.map((s) => s.event.type).join(' → ') || '(initial)', path] as const))(
    'shortest path %s plays out through nextTaskStatus',
    (_name, path) => {
      const events = path.steps.map((step) => step.event);
      const transitions = replay(events);
      transitions.forEach(({ status }, index) => expect(status.lastStatus).toBe(path.steps[index].state.value));
      assertInvariants(events, transitions);
    },
  );

  // Simple paths number in the thousands here; every edge, each reached by its shortest path, covers
  // the same transitions at a fraction of the cost.
  it('takes every edge of the model exactly as the machine does, from a stored status, keeping the invariants', () => {
    const adjacency = getAdjacencyMap(taskLifecycleMachine, { ...options, serializeState: serializeSnapshot, serializeEvent: (e) => JSON.stringify(e) });
    const pathTo = new Map<string, (typeof shortestPaths)[number]>(shortestPaths.map((path) => [serializeSnapshot(path.state), path]));
    let edges = 0;
    for (const { state, event, nextState: target } of adjacencyMapToArray(adjacency)) {
      const events = [...pathTo.get(serializeSnapshot(state))!.steps.map((step) => step.event), event];
      const transitions = replay(events);
      assertInvariants(events, transitions);
      const last = transitions.at(-1)!;
      expect(last.status.lastStatus).toBe(target.value);
      expect(last.status.desiredStatus).toBe(target.context.desiredStatus);
      expect(last.status.healthStatus).toBe(target.context.healthStatus);
      expect(last.status.stoppedReason).toBe(target.context.stoppedReason);
      edges++;
    }
    expect(edges).toBeGreaterThan(100);
  });

  it('STOPPED is terminal: no event changes a stopped task or asks for anything', () => {
    for (const path of shortestPaths.filter((p) => p.state.value === 'STOPPED')) {
      const events = path.steps.map((step) => step.event);
      const stopped = replay(events).at(-1)!.status;
      for (const event of sampleEvents) expect(nextTaskStatus(stopped, event, now)).toEqual({ status: stopped, effects: [] });
    }
  });
});
