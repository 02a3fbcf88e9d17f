import type Dockerode from 'dockerode';
import { taskLayout, type TaskLayout } from '../task-layout';
import { taskSpec } from '../testing';
import { secretVariablesLabel } from './labels';
import { taskObservation, type TaskFacts } from './observation';

const zero = '0001-01-01T00:00:00Z';
const started = '2025-01-01T10:00:00.123Z';
const finished = '2025-01-01T10:05:00.456Z';

type State = Dockerode.ContainerInspectInfo['State'];
type Ports = Record<string, Array<{ HostIp: string; HostPort: string }> | null>;

function inspection(id: string, state: Partial<State>, ports: Ports = {}): Dockerode.ContainerInspectInfo {
  const fullState: State = {
    Status: 'running',
    Running: true,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: 1,
    ExitCode: 0,
    Error: '',
    StartedAt: started,
    FinishedAt: zero,
    ...state,
  };
  return { Id: id, State: fullState, NetworkSettings: { Ports: ports } } as unknown as Dockerode.ContainerInspectInfo;
}

const exited = (exitCode: number, extra: Partial<State> = {}): Partial<State> => ({
  Status: 'exited',
  Running: false,
  ExitCode: exitCode,
  FinishedAt: finished,
  ...extra,
});

function observe(layout: TaskLayout, inspections: Record<string, Dockerode.ContainerInspectInfo>, extra: Partial<TaskFacts> = {}) {
  return taskObservation({
    taskUid: 'uid-1',
    namespace: 'team',
    taskName: 'web-1',
    layout,
    inspections: new Map(Object.entries(inspections)),
    launchFailures: new Map(),
    stopRequested: false,
    ...extra,
  });
}

describe('taskObservation', () => {
  it('reports running containers with their published ports and times, and containers not created yet as PENDING', () => {
    const layout = taskLayout(taskSpec([{ name: 'web', portMappings: [{ containerPort: 8080, protocol: 'tcp' }] }, { name: 'later' }]));
    const observation = observe(layout, {
      web: inspection('c-web', {}, { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '32771' }], '53/udp': null }),
    });
    expect(observation).toEqual({
      taskUid: 'uid-1',
      namespace: 'team',
      taskName: 'web-1',
      containers: [
        {
          name: 'web',
          runtimeId: 'c-web',
          lastStatus: 'RUNNING',
          healthStatus: 'UNKNOWN',
          networkBindings: [{ bindIP: '127.0.0.1', containerPort: 8080, hostPort: 32771, protocol: 'tcp' }],
          startedAt: started,
        },
        { name: 'later', lastStatus: 'PENDING', healthStatus: 'UNKNOWN', networkBindings: [] },
      ],
    });
  });

  it('reports exits with code and finish time, OOM kills and health', () => {
    const layout = taskLayout(taskSpec([{ name: 'done' }, { name: 'oom' }, { name: 'healthy' }, { name: 'sick' }, { name: 'checking' }]));
    const observation = observe(layout, {
      done: inspection('c1', exited(3)),
      oom: inspection('c2', exited(137, { OOMKilled: true })),
      healthy: inspection('c3', { Health: { Status: 'healthy', FailingStreak: 0, Log: [] } }),
      sick: inspection('c4', { Health: { Status: 'unhealthy', FailingStreak: 3, Log: [] } }),
      checking: inspection('c5', { Health: { Status: 'starting', FailingStreak: 0, Log: [] } }),
    });
    const [done, oom, healthy, sick, checking] = observation.containers;
    expect(done).toMatchObject({ lastStatus: 'STOPPED', exitCode: 3, startedAt: started, finishedAt: finished });
    expect(done).not.toHaveProperty('reason');
    expect(oom).toMatchObject({ lastStatus: 'STOPPED', exitCode: 137, reason: 'OOMKilled' });
    expect([healthy, sick, checking].map((c) => c.healthStatus)).toEqual(['HEALTHY', 'UNHEALTHY', 'UNKNOWN']);
  });

  it('reports a container the engine failed to start as STOPPED with the engine’s error, never as CREATED', () => {
    const layout = taskLayout(taskSpec([{ name: 'broken' }, { name: 'waiting' }]));
    const observation = observe(layout, {
      broken: inspection('c1', { Status: 'created', Running: false, ExitCode: 127, Error: 'exec: "/app": no such file', StartedAt: zero }),
      waiting: inspection('c2', { Status: 'created', Running: false, StartedAt: zero }),
    });
    expect(observation.containers[0]).toEqual({
      name: 'broken',
      runtimeId: 'c1',
      lastStatus: 'STOPPED',
      exitCode: 127,
      reason: 'CannotStartContainerError: exec: "/app": no such file',
      healthStatus: 'UNKNOWN',
      networkBindings: [],
    });
    expect(observation.containers[1]).toMatchObject({ lastStatus: 'CREATED', runtimeId: 'c2' });
    expect(observation.containers[1]).not.toHaveProperty('startedAt');
  });

  it('masks the secret values the engine echoes in a failed start, from the container alone (its label and environment)', () => {
    const layout = taskLayout(taskSpec([{ name: 'app' }]));
    const failed = inspection('c1', {
      Status: 'created',
      Running: false,
      ExitCode: 128,
      // runc's refusal of a NUL byte quotes the whole variable, as the engine really reports it.
      Error: `error during container init: environment variable value can't contain null(\\x00): "TOKEN=q7Rk2\\x00vW9pLm4sX": unknown`,
      StartedAt: zero,
    });
    const withConfig = {
      ...failed,
      Config: { Env: ['TOKEN=q7Rk2\u0000vW9pLm4sX'], Labels: { [secretVariablesLabel]: '["TOKEN"]' } },
    } as unknown as Dockerode.ContainerInspectInfo;
    expect(observe(layout, { app: withConfig }).containers[0].reason).toBe(
      `CannotStartContainerError: error during container init: environment variable value can't contain null(\\x00): "TOKEN=*****": unknown`,
    );
  });

  it('reports launch failures, and every container that can never start because of one, down the chain', () => {
    const layout = taskLayout(
      taskSpec([
        { name: 'init' },
        { name: 'app', dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }] },
        { name: 'proxy', dependsOn: [{ containerName: 'app', condition: 'START' }] },
      ]),
    );
    const observation = observe(
      layout,
      {},
      {
        launchFailures: new Map([['init', 'CannotPullContainerError: pull access denied']]),
        pullStartedAt: started,
        pullStoppedAt: finished,
      },
    );
    expect(observation.containers.map((c) => [c.name, c.lastStatus, c.reason])).toEqual([
      ['init', 'STOPPED', 'CannotPullContainerError: pull access denied'],
      ['app', 'STOPPED', 'dependsOn init SUCCESS can never be met: it never started (CannotPullContainerError: pull access denied)'],
      ['proxy', 'STOPPED', expect.stringContaining('dependsOn app START can never be met: it never started')],
    ]);
    expect(observation).toMatchObject({ pullStartedAt: started, pullStoppedAt: finished });
  });

  it('after a stop, containers that never started are STOPPED too', () => {
    const layout = taskLayout(taskSpec([{ name: 'app' }, { name: 'created' }, { name: 'pending' }]));
    const observation = observe(
      layout,
      { app: inspection('c1', exited(143)), created: inspection('c2', { Status: 'created', Running: false, StartedAt: zero }) },
      { stopRequested: true },
    );
    expect(observation.containers.map((c) => [c.name, c.lastStatus, c.reason])).toEqual([
      ['app', 'STOPPED', undefined],
      ['created', 'STOPPED', 'TaskStopped: the task stopped before the container started'],
      ['pending', 'STOPPED', 'TaskStopped: the task stopped before the container started'],
    ]);
  });

  it('awsvpc: each container reports the ports it declared, published by the network owner', () => {
    const layout = taskLayout(
      taskSpec(
        [
          { name: 'app', portMappings: [{ containerPort: 8080, protocol: 'tcp' }] },
          { name: 'metrics', portMappings: [{ containerPort: 9100, protocol: 'tcp' }] },
        ],
        { networkMode: 'awsvpc' },
      ),
    );
    const ports = {
      '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '32780' }],
      '9100/tcp': [{ HostIp: '127.0.0.1', HostPort: '32781' }],
    };
    const observation = observe(layout, { app: inspection('c1', {}, ports), metrics: inspection('c2', {}) });
    expect(observation.containers.map((c) => [c.name, c.networkBindings.map((b) => `${b.containerPort}->${b.hostPort}`)])).toEqual([
      ['app', ['8080->32780']],
      ['metrics', ['9100->32781']],
    ]);
  });

  it('host mode: declared ports are bound on the instance itself', () => {
    const layout = taskLayout(taskSpec([{ name: 'app', portMappings: [{ containerPort: 9100, protocol: 'tcp' }] }], { networkMode: 'host' }));
    expect(observe(layout, { app: inspection('c1', {}) }).containers[0].networkBindings).toEqual([
      { bindIP: '0.0.0.0', containerPort: 9100, hostPort: 9100, protocol: 'tcp' },
    ]);
  });
});
