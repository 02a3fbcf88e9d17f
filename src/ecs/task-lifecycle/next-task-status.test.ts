import type { ContainerObservation } from './observation';
import type { TaskStatus } from '../../api';
import { nextTaskStatus } from './next-task-status';
import type { TaskEvent } from './task-lifecycle-machine';

const t0 = new Date('2024-05-01T10:00:00.250Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

const container = (name: string, overrides: Partial<ContainerObservation> = {}): ContainerObservation => ({
  name,
  lastStatus: 'RUNNING',
  healthStatus: 'UNKNOWN',
  networkBindings: [],
  startedAt: '2024-05-01T10:00:05Z',
  ...overrides,
});

const observe = (containers: ContainerObservation[], healthChecked: string[] = [], essential = ['web']): TaskEvent => ({
  type: 'CONTAINERS_OBSERVED',
  containers,
  essential,
  healthChecked,
});

/** Applies events one second apart, from a task that does not exist yet. */
function run(events: TaskEvent[], from?: TaskStatus) {
  let status = from;
  let effects: ReturnType<typeof nextTaskStatus>['effects'] = [];
  events.forEach((event, index) => {
    const next = nextTaskStatus(status, event, at(index));
    status = next.status;
    effects = next.effects;
  });
  return { status: status!, effects };
}

describe('nextTaskStatus', () => {
  it('walks a health-checked task from PROVISIONING to RUNNING, with ECS timestamps', () => {
    const events: TaskEvent[] = [
      { type: 'PLACED', containerInstance: 'i-1' },
      { ...observe([container('web', { lastStatus: 'PULLED', startedAt: undefined })], ['web']), pullStartedAt: '2024-05-01T10:00:01Z' } as TaskEvent,
      { ...observe([container('web')], ['web']), pullStartedAt: '2024-05-01T10:00:01Z', pullStoppedAt: '2024-05-01T10:00:02Z' } as TaskEvent,
      observe([container('web', { healthStatus: 'HEALTHY' })], ['web']),
    ];
    const statuses = events.map((_, n) => run(events.slice(0, n + 1)).status);
    expect(statuses.map((s) => s.lastStatus)).toEqual(['PENDING', 'PENDING', 'ACTIVATING', 'RUNNING']);
    expect(statuses[3]).toMatchObject({
      desiredStatus: 'RUNNING',
      healthStatus: 'HEALTHY',
      createdAt: '2024-05-01T10:00:00Z',
      pullStartedAt: '2024-05-01T10:00:01Z',
      pullStoppedAt: '2024-05-01T10:00:02Z',
      startedAt: '2024-05-01T10:00:03Z',
    });
    expect(statuses[3].stoppingAt).toBeUndefined();
    expect(statuses[0].conditions).toEqual([
      { type: 'Placed', status: 'True', reason: 'Placed', message: 'the task is bound to container instance i-1', lastTransitionTime: '2024-05-01T10:00:00Z' },
    ]);
    expect(run(events).effects).toEqual([
      { type: 'recordEvent', kind: 'Normal', reason: 'TaskRunning', message: 'every essential container is running and healthy' },
    ]);
  });

  it('runs a task without health checks as soon as its essential containers run; its health stays UNKNOWN as in ECS', () => {
    const { status } = run([{ type: 'PLACED' }, observe([container('web'), container('sidecar', { lastStatus: 'CREATED', startedAt: undefined })])]);
    expect(status).toMatchObject({ lastStatus: 'RUNNING', healthStatus: 'UNKNOWN' });
  });

  it('waits in ACTIVATING while a health check is unknown or failing, reporting UNHEALTHY for the service to judge', () => {
    const unhealthy = run([{ type: 'PLACED' }, observe([container('web', { healthStatus: 'UNHEALTHY' })], ['web'])]).status;
    expect(unhealthy).toMatchObject({ lastStatus: 'ACTIVATING', healthStatus: 'UNHEALTHY' });
    expect(run([observe([container('web', { healthStatus: 'HEALTHY' })], ['web'])], unhealthy).status).toMatchObject({
      lastStatus: 'RUNNING',
      healthStatus: 'HEALTHY',
    });
  });

  it('ignores the health of non-essential containers', () => {
    const event = observe([container('web'), container('sidecar', { healthStatus: 'UNHEALTHY' })], ['sidecar'], ['web']);
    expect(run([{ type: 'PLACED' }, event]).status).toMatchObject({ lastStatus: 'RUNNING', healthStatus: 'UNKNOWN' });
  });

  it('stops the task when an essential container exits, naming it and its exit code', () => {
    const running = run([{ type: 'PLACED' }, observe([container('web'), container('sidecar')])]).status;
    const { status, effects } = run(
      [observe([container('web', { lastStatus: 'STOPPED', exitCode: 137, reason: 'OOMKilled' }), container('sidecar')])],
      running,
    );
    expect(status).toMatchObject({
      lastStatus: 'STOPPING',
      desiredStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited: web exited with code 137 (OOMKilled)',
      stoppingAt: '2024-05-01T10:00:00Z',
    });
    expect(effects).toEqual([
      {
        type: 'recordEvent',
        kind: 'Warning',
        reason: 'EssentialContainerExited',
        message: 'Essential container in task exited: web exited with code 137 (OOMKilled)',
      },
      { type: 'stopContainers' },
    ]);
  });

  it("uses the container's reason when there is no exit code", () => {
    const event = observe([container('web', { lastStatus: 'STOPPED', reason: 'container removed by the engine' })]);
    expect(run([{ type: 'PLACED' }, event]).status.stoppedReason).toBe('Essential container in task exited: web: container removed by the engine');
  });

  it('lets a non-essential container exit without stopping the task', () => {
    const event = observe([container('web'), container('init', { lastStatus: 'STOPPED', exitCode: 0 })]);
    expect(run([{ type: 'PLACED' }, event]).status).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING' });
  });

  it('fails the launch when any container stops before it ever started', () => {
    const event = observe([container('web', { lastStatus: 'STOPPED', startedAt: undefined, reason: 'CannotPullContainerError: pull access denied for web' })]);
    const { status, effects } = run([{ type: 'PLACED' }, event]);
    expect(status).toMatchObject({
      lastStatus: 'STOPPING',
      stopCode: 'TaskFailedToStart',
      stoppedReason: 'Task failed to start: web: CannotPullContainerError: pull access denied for web',
    });
    expect(effects[0]).toMatchObject({ kind: 'Warning', reason: 'TaskFailedToStart' });
  });

  it('fails the launch when the agent cannot launch the task at all', () => {
    const { status } = run([{ type: 'PLACED' }, { type: 'LAUNCH_FAILED', reason: 'secret db-password not found' }, { type: 'CONTAINERS_STOPPED' }]);
    expect(status).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'TaskFailedToStart',
      stoppedReason: 'secret db-password not found',
      stoppedAt: '2024-05-01T10:00:02Z',
    });
  });

  it('stops on request through STOPPING, then removes the containers once they stopped', () => {
    const running = run([{ type: 'PLACED' }, observe([container('web')])]).status;
    const stopping = run(
      [{ type: 'STOP_REQUESTED', stopCode: 'ServiceSchedulerInitiated', reason: 'Scaling activity initiated by (deployment ecs-svc/1)' }],
      running,
    );
    expect(stopping.status).toMatchObject({ lastStatus: 'STOPPING', desiredStatus: 'STOPPED', stopCode: 'ServiceSchedulerInitiated' });
    expect(stopping.effects).toEqual([
      { type: 'recordEvent', kind: 'Normal', reason: 'ServiceSchedulerInitiated', message: 'Scaling activity initiated by (deployment ecs-svc/1)' },
      { type: 'stopContainers' },
    ]);
    const stopped = run([{ type: 'CONTAINERS_STOPPED' }], stopping.status);
    expect(stopped.status.lastStatus).toBe('STOPPED');
    expect(stopped.effects).toEqual([{ type: 'removeContainers' }]);
  });

  it('keeps the first reason a task was given to stop', () => {
    const running = run([{ type: 'PLACED' }, observe([container('web')])]).status;
    const stopping = run([{ type: 'STOP_REQUESTED', stopCode: 'UserInitiated', reason: 'Task stopped by user' }], running).status;
    const lost = run([{ type: 'INSTANCE_LOST', reason: 'container instance i-1 is gone' }], stopping).status;
    expect(lost).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'UserInitiated', stoppedReason: 'Task stopped by user' });
  });

  it('stops a task that was never placed at once, with nothing to stop or remove', () => {
    const { status, effects } = run([{ type: 'STOP_REQUESTED', stopCode: 'UserInitiated', reason: 'Task stopped by user' }]);
    expect(status).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'UserInitiated',
      createdAt: '2024-05-01T10:00:00Z',
      stoppingAt: '2024-05-01T10:00:00Z',
      stoppedAt: '2024-05-01T10:00:00Z',
    });
    expect(effects.map((e) => e.type)).toEqual(['recordEvent']);
  });

  it('marks a task whose instance is lost STOPPED with a TerminationNotice', () => {
    const running = run([{ type: 'PLACED' }, observe([container('web')])]).status;
    const { status, effects } = run([{ type: 'INSTANCE_LOST', reason: 'container instance i-1 is gone' }], running);
    expect(status).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'TerminationNotice', stoppedReason: 'container instance i-1 is gone' });
    expect(effects).toEqual([{ type: 'recordEvent', kind: 'Warning', reason: 'TerminationNotice', message: 'container instance i-1 is gone' }]);
  });

  it('explains a placement failure in a condition and records it once per distinct reason', () => {
    const failed = run([{ type: 'PLACEMENT_FAILED', reason: 'no container instance has 512 MiB of memory free' }]);
    expect(failed.status.lastStatus).toBe('PROVISIONING');
    expect(failed.status.conditions).toEqual([
      {
        type: 'Placed',
        status: 'False',
        reason: 'PlacementFailed',
        message: 'no container instance has 512 MiB of memory free',
        lastTransitionTime: '2024-05-01T10:00:00Z',
      },
    ]);
    expect(failed.effects).toHaveLength(1);
    expect(run([{ type: 'PLACEMENT_FAILED', reason: 'no container instance has 512 MiB of memory free' }], failed.status).effects).toEqual([]);
    const placed = run([{ type: 'PLACED', containerInstance: 'i-2' }], failed.status).status;
    expect(placed.conditions).toEqual([
      { type: 'Placed', status: 'True', reason: 'Placed', message: 'the task is bound to container instance i-2', lastTransitionTime: '2024-05-01T10:00:00Z' },
    ]);
  });

  it('reports the containers as the agent saw them, and caps long reasons at the API limit', () => {
    const reason = `CannotPullContainerError: ${'x'.repeat(2000)}`;
    const { status } = run([{ type: 'PLACED' }, observe([container('web', { lastStatus: 'STOPPED', startedAt: undefined, reason, runtimeId: 'abc' })])]);
    expect(status.stoppedReason).toHaveLength(1024);
    expect(status.containers).toEqual([
      { name: 'web', runtimeId: 'abc', lastStatus: 'STOPPED', healthStatus: 'UNKNOWN', networkBindings: [], reason: expect.stringMatching(/^CannotPull/) },
    ]);
    expect(status.containers![0].reason).toHaveLength(1024);
  });

  it('is pure: the same inputs give the same output', () => {
    const running = run([{ type: 'PLACED' }, observe([container('web')])]).status;
    const event: TaskEvent = { type: 'STOP_REQUESTED', stopCode: 'UserInitiated', reason: 'Task stopped by user' };
    expect(nextTaskStatus(running, event, t0)).toEqual(nextTaskStatus(running, event, t0));
  });
});
