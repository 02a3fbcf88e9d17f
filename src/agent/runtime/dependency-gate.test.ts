import type { ContainerObservation } from '../task-runtime';
import { evaluateGate } from './dependency-gate';
import { taskLayout, type DependencyCondition } from './task-layout';
import { taskSpec } from './testing';

const startedAt = '2025-01-01T00:00:00Z';
const pending: ContainerObservation = { name: 'dep', lastStatus: 'PENDING', healthStatus: 'UNKNOWN', networkBindings: [] };
const created: ContainerObservation = { ...pending, lastStatus: 'CREATED', runtimeId: 'c1' };
const running: ContainerObservation = { ...created, lastStatus: 'RUNNING', startedAt };
const healthy: ContainerObservation = { ...running, healthStatus: 'HEALTHY' };
const exited = (exitCode: number): ContainerObservation => ({ ...running, lastStatus: 'STOPPED', exitCode, finishedAt: startedAt });
const neverStarted: ContainerObservation = { ...pending, lastStatus: 'STOPPED', reason: 'CannotPullContainerError: denied' };

function gate(condition: DependencyCondition, dependency: ContainerObservation | undefined, dependencyHasHealthCheck = true) {
  const layout = taskLayout(
    taskSpec([
      { name: 'dep', ...(dependencyHasHealthCheck && { healthCheck: { command: ['CMD', 'true'], interval: 5, timeout: 2, retries: 1 } }) },
      { name: 'app', volumesFrom: condition === 'CREATE' ? [{ sourceContainer: 'dep', readOnly: false }] : [] },
    ]),
  );
  const app = layout.containers[1];
  if (condition !== 'CREATE') app.dependencies = [{ containerName: 'dep', condition }];
  return evaluateGate(app, layout, (name) => (name === 'dep' ? dependency : undefined));
}

const open = { kind: 'open' };
const waiting = (condition: DependencyCondition) => ({ kind: 'waiting', on: { containerName: 'dep', condition } });
const failed = (condition: DependencyCondition, why: string) => ({ kind: 'failed', reason: `dependsOn dep ${condition} can never be met: ${why}` });

describe('evaluateGate', () => {
  it('opens for a container without dependencies', () => {
    const layout = taskLayout(taskSpec([{ name: 'solo' }]));
    expect(evaluateGate(layout.containers[0], layout, () => undefined)).toEqual(open);
  });

  it.each([
    ['CREATE', undefined, waiting('CREATE')],
    ['CREATE', pending, waiting('CREATE')],
    ['CREATE', created, open],
    ['CREATE', neverStarted, failed('CREATE', 'it was never created (CannotPullContainerError: denied)')],
    ['START', created, waiting('START')],
    ['START', running, open],
    ['START', exited(1), open],
    ['START', neverStarted, failed('START', 'it never started (CannotPullContainerError: denied)')],
    ['COMPLETE', running, waiting('COMPLETE')],
    ['COMPLETE', exited(3), open],
    ['COMPLETE', neverStarted, failed('COMPLETE', 'it never started (CannotPullContainerError: denied)')],
    ['SUCCESS', running, waiting('SUCCESS')],
    ['SUCCESS', exited(0), open],
    ['SUCCESS', exited(2), failed('SUCCESS', 'it exited with code 2')],
    ['SUCCESS', neverStarted, failed('SUCCESS', 'it never started (CannotPullContainerError: denied)')],
    ['HEALTHY', running, waiting('HEALTHY')],
    ['HEALTHY', { ...running, healthStatus: 'UNHEALTHY' }, waiting('HEALTHY')],
    ['HEALTHY', healthy, open],
    ['HEALTHY', { ...exited(0), healthStatus: 'HEALTHY' }, failed('HEALTHY', 'it stopped')],
  ] as const)('%s with the dependency %j', (condition, dependency, expected) => {
    expect(gate(condition, dependency)).toEqual(expected);
  });

  it('fails HEALTHY on a dependency without a health check, before it even runs', () => {
    expect(gate('HEALTHY', undefined, false)).toEqual(failed('HEALTHY', 'it has no health check'));
  });

  it('reports a failure even while another dependency is still pending', () => {
    const layout = taskLayout(
      taskSpec([
        { name: 'a' },
        { name: 'b' },
        {
          name: 'app',
          dependsOn: [
            { containerName: 'a', condition: 'START' },
            { containerName: 'b', condition: 'SUCCESS' },
          ],
        },
      ]),
    );
    const observed = (name: string) => (name === 'b' ? { ...exited(1), name: 'b' } : undefined);
    expect(evaluateGate(layout.containers[2], layout, observed)).toEqual({
      kind: 'failed',
      reason: 'dependsOn b SUCCESS can never be met: it exited with code 1',
    });
  });
});
