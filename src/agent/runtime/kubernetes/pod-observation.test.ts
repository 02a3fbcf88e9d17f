import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { container, taskSpec } from '../../../ecs/testing/fixtures';
import { observePod } from './pod-observation';

const health = { command: ['CMD', 'true'], interval: 5, timeout: 2, retries: 3, startPeriod: 10 };
const spec = taskSpec([
  container('web', { memory: 64, healthCheck: health, portMappings: [{ containerPort: 80, protocol: 'tcp' }] }),
  container('Log_Shipper', { essential: false, memory: 32 }),
]);
const started = '2026-12-04T12:00:00Z';
const at = (iso: string) => Date.parse(iso);

function pod(statuses: V1ContainerStatus[], fields: Partial<NonNullable<V1Pod['status']>> = {}): V1Pod {
  return {
    metadata: { uid: 'pod-uid' },
    spec: { containers: [{ name: 'web', ports: [{ containerPort: 80, hostPort: 49153, protocol: 'TCP' }] }, { name: 'log-shipper-5d7c2a4b' }] },
    status: { phase: 'Running', hostIP: '10.250.0.1', podIP: '10.244.0.7', containerStatuses: statuses, ...fields },
  };
}

const running = (name: string, ready: boolean, extra: Partial<V1ContainerStatus> = {}): V1ContainerStatus =>
  ({ name, image: 'x', imageID: '', ready, restartCount: 0, state: { running: { startedAt: started } }, ...extra }) as unknown as V1ContainerStatus;

describe('observePod', () => {
  test('running and ready: RUNNING and HEALTHY, bound to the node address with the host port; ECS names restored', () => {
    const [web, shipper] = observePod({ pod: pod([running('web', true)]), spec, nowMs: at('2026-12-04T12:00:03Z') });
    expect(web).toEqual({
      name: 'web',
      runtimeId: 'pod-uid',
      lastStatus: 'RUNNING',
      healthStatus: 'HEALTHY',
      startedAt: started,
      networkBindings: [{ bindIP: '10.250.0.1', containerPort: 80, hostPort: 49153, protocol: 'tcp' }],
    });
    expect(shipper).toMatchObject({ name: 'Log_Shipper', lastStatus: 'PENDING' });
  });

  test('health: UNKNOWN within startPeriod + interval × retries (10 + 15 s), UNHEALTHY after it, at once once it was ready', () => {
    const notReady = pod([running('web', false)]);
    expect(observePod({ pod: notReady, spec, nowMs: at('2026-12-04T12:00:24Z') })[0].healthStatus).toBe('UNKNOWN');
    expect(observePod({ pod: notReady, spec, nowMs: at('2026-12-04T12:00:25Z') })[0].healthStatus).toBe('UNHEALTHY');
    expect(observePod({ pod: notReady, spec, nowMs: at('2026-12-04T12:00:01Z'), everReady: new Set(['web']) })[0].healthStatus).toBe('UNHEALTHY');
  });

  test('terminated: STOPPED with exit code, reason and times', () => {
    const exited = running('web', false, {
      state: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: started, finishedAt: '2026-12-04T12:01:00Z' } },
    } as unknown as Partial<V1ContainerStatus>);
    expect(observePod({ pod: pod([exited]), spec, nowMs: 0 })[0]).toMatchObject({
      lastStatus: 'STOPPED',
      exitCode: 137,
      reason: 'OOMKilled',
      startedAt: started,
      finishedAt: '2026-12-04T12:01:00Z',
    });
  });

  test('a pull given up is CannotPullContainerError and never started; a pull still tried is PENDING', () => {
    const waiting = (reason: string) => running('web', false, { state: { waiting: { reason, message: 'not found' } } });
    expect(observePod({ pod: pod([waiting('ImagePullBackOff')]), spec, nowMs: 0 })[0]).toMatchObject({
      lastStatus: 'STOPPED',
      reason: 'CannotPullContainerError: ImagePullBackOff: not found',
    });
    expect(observePod({ pod: pod([waiting('ImagePullBackOff')]), spec, nowMs: 0 })[0].startedAt).toBeUndefined();
    expect(observePod({ pod: pod([waiting('ErrImagePull')]), spec, nowMs: 0 })[0].lastStatus).toBe('PENDING');
    expect(observePod({ pod: pod([waiting('ContainerCreating')]), spec, nowMs: 0 })[0].lastStatus).toBe('PENDING');
    expect(observePod({ pod: pod([waiting('CreateContainerConfigError')]), spec, nowMs: 0 })[0]).toMatchObject({
      lastStatus: 'STOPPED',
      reason: 'CreateContainerConfigError: not found',
    });
  });

  test('a Pod the kubelet refused (OutOfcpu): every container STOPPED, never started, with the reason', () => {
    const refused = pod([], { phase: 'Failed', reason: 'OutOfcpu', message: "Node didn't have enough resource: cpu" });
    expect(observePod({ pod: refused, spec, nowMs: 0 }).map((c) => [c.lastStatus, c.reason, c.startedAt])).toEqual([
      ['STOPPED', "OutOfcpu: Node didn't have enough resource: cpu", undefined],
      ['STOPPED', "OutOfcpu: Node didn't have enough resource: cpu", undefined],
    ]);
  });

  test('a native sidecar that restarted counts as exited: ECS never restarts a container', () => {
    const restarted = running('web', true, {
      restartCount: 1,
      lastState: { terminated: { exitCode: 2, reason: 'Error', startedAt: started, finishedAt: '2026-12-04T12:00:30Z' } },
    } as unknown as Partial<V1ContainerStatus>);
    expect(observePod({ pod: pod([restarted]), spec, nowMs: 0 })[0]).toMatchObject({ lastStatus: 'STOPPED', exitCode: 2, reason: 'Error' });
  });
});
