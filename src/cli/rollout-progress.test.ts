import type { Service, ServiceDeployment } from '../api';
import { rolloutProgress } from './rollout-progress';

const deployment = (fields: Partial<ServiceDeployment>): ServiceDeployment => ({
  id: 'd',
  status: 'PRIMARY',
  taskDefinition: 'web:7',
  desiredCount: 4,
  runningCount: 0,
  pendingCount: 0,
  failedTasks: 0,
  rolloutState: 'IN_PROGRESS',
  ...fields,
});

const service = (deployments: ServiceDeployment[], generation = 3, observedGeneration = 3): Service =>
  ({
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default', generation },
    spec: { cluster: 'demo', taskDefinition: 'web', desiredCount: 4 },
    status: { observedGeneration, deployments },
  }) as Service;

test('a spec change the operator has not seen yet is not judged', () => {
  expect(rolloutProgress(service([deployment({ rolloutState: 'COMPLETED', runningCount: 4 })], 4, 3))).toEqual({
    state: 'waiting',
    message: 'Waiting for service web to be observed by the operator...',
  });
});

test('in progress: new tasks running out of desired, pending, and what older deployments still run', () => {
  const progress = rolloutProgress(
    service([
      deployment({ runningCount: 2, pendingCount: 1 }),
      deployment({ id: 'old', status: 'ACTIVE', taskDefinition: 'web:6', runningCount: 2, rolloutState: 'COMPLETED' }),
    ]),
  );
  expect(progress).toEqual({
    state: 'progressing',
    revision: 'web:7',
    running: 2,
    desired: 4,
    message: 'Waiting for service web rollout to finish: 2 of 4 new tasks running, 1 pending, 2 old still running...',
  });
});

test('COMPLETED with no older deployment left is complete; with one still draining it is not yet', () => {
  expect(rolloutProgress(service([deployment({ rolloutState: 'COMPLETED', runningCount: 4 })])).state).toBe('complete');
  expect(
    rolloutProgress(service([deployment({ rolloutState: 'COMPLETED', runningCount: 4 }), deployment({ id: 'old', status: 'ACTIVE', runningCount: 1 })])).state,
  ).toBe('progressing');
});

test('FAILED carries the reason', () => {
  expect(rolloutProgress(service([deployment({ rolloutState: 'FAILED', rolloutStateReason: 'tasks failed to start' })]))).toMatchObject({
    state: 'failed',
    message: 'service web rollout to web:7 failed: tasks failed to start',
  });
});
