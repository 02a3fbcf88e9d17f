import type { Task } from '../../api';
import { taskChangedForService } from './controller';

const running = {
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'Task',
  metadata: { name: 'web-1', namespace: 'shop', resourceVersion: '10', labels: { 'berth.dev/service': 'web' } },
  spec: { cluster: 'demo', taskDefinition: 'web:1' },
  status: { lastStatus: 'RUNNING', healthStatus: 'HEALTHY' },
} as unknown as Task;

const written = (task: Task, status: Partial<NonNullable<Task['status']>>, resourceVersion: string): Task => ({
  ...task,
  metadata: { ...task.metadata, resourceVersion },
  status: { ...task.status, ...status },
});

const usage = { cpuUnits: 512, memoryMiB: 100, windowSeconds: 60, sampledAt: '2026-03-02T08:02:00Z' };

describe('which task updates wake its service', () => {
  test('a usage report does not: the auto scaler reads it, the service scheduler never does', () => {
    const reported = written(running, { usage }, '11');
    expect(taskChangedForService(running, reported)).toBe(false);
    expect(taskChangedForService(reported, written(reported, { usage: { ...usage, cpuUnits: 900 } }, '12'))).toBe(false);
    // From the API server: the agent's managedFields entry gets the time of the write.
    const stamped = (task: Task, time: string) =>
      ({ ...task, metadata: { ...task.metadata, managedFields: [{ manager: 'berth-agent', operation: 'Update', subresource: 'status', time }] } }) as Task;
    expect(taskChangedForService(stamped(reported, '2026-03-02T08:02:00Z'), stamped(written(reported, { usage }, '13'), '2026-03-02T08:03:00Z'))).toBe(false);
  });

  test('a change of state or health does, with or without a usage report in the same write', () => {
    expect(taskChangedForService(running, written(running, { healthStatus: 'UNHEALTHY' }, '11'))).toBe(true);
    expect(taskChangedForService(running, written(running, { lastStatus: 'STOPPED', usage }, '11'))).toBe(true);
    expect(
      taskChangedForService(running, { ...written(running, {}, '11'), metadata: { ...running.metadata, resourceVersion: '11', deletionTimestamp: 'now' } }),
    ).toBe(true);
  });

  test('a resync (the same resourceVersion again) does: it is the periodic reconcile', () => {
    expect(taskChangedForService(running, running)).toBe(true);
  });
});
