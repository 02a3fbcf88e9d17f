import type { Task, TaskDefinitionSpec } from '../../api';
import { serviceUtilization } from './utilization';

const now = Date.parse('2026-01-01T00:10:00Z');
const spec = { cpu: 256, memory: 512, containerDefinitions: [{ name: 'web', image: 'web' }] } as unknown as TaskDefinitionSpec;

function task(name: string, cpuUnits: number, memoryMiB: number, options: { lastStatus?: string; sampledAt?: string } = {}): Task {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Task',
    metadata: { name, namespace: 'default' },
    spec: { cluster: 'c', taskDefinition: 'web:1' },
    status: {
      lastStatus: (options.lastStatus ?? 'RUNNING') as 'RUNNING',
      usage: { cpuUnits, memoryMiB, windowSeconds: 60, sampledAt: options.sampledAt ?? '2026-01-01T00:09:30Z' },
    },
  } as Task;
}

const measure = (
  tasks: Task[],
  metric: 'ECSServiceAverageCPUUtilization' | 'ECSServiceAverageMemoryUtilization',
  statistic: 'Average' | 'Minimum' | 'Maximum' = 'Average',
) => serviceUtilization(tasks, () => spec, metric, statistic, now, 120_000);

test('Average is Σ used / Σ reserved: 384 and 128 of 256 units each is 100 %; Minimum and Maximum are the least and most utilized task', () => {
  const tasks = [task('a', 384, 100), task('b', 128, 300)];
  expect(measure(tasks, 'ECSServiceAverageCPUUtilization')).toEqual({ value: 100, tasks: 2, sampledAt: Date.parse('2026-01-01T00:09:30Z') });
  expect(measure(tasks, 'ECSServiceAverageCPUUtilization', 'Minimum')?.value).toBe(50);
  expect(measure(tasks, 'ECSServiceAverageCPUUtilization', 'Maximum')?.value).toBe(150);
  expect(measure(tasks, 'ECSServiceAverageMemoryUtilization')?.value).toBeCloseTo((400 / 1024) * 100);
});

test('only RUNNING tasks with a fresh report count; none is no datapoint at all', () => {
  const stale = task('stale', 1024, 512, { sampledAt: '2026-01-01T00:07:59Z' });
  const stopping = task('stopping', 1024, 512, { lastStatus: 'DEACTIVATING' });
  expect(measure([task('a', 64, 100), stale, stopping], 'ECSServiceAverageCPUUtilization')).toEqual({
    value: 25,
    tasks: 1,
    sampledAt: Date.parse('2026-01-01T00:09:30Z'),
  });
  expect(measure([stale, stopping], 'ECSServiceAverageCPUUtilization')).toBeUndefined();
});

test('a task that reserves no CPU has no CPU utilization', () => {
  const unreserved = { containerDefinitions: [{ name: 'web', image: 'web', memory: 128 }] } as unknown as TaskDefinitionSpec;
  expect(serviceUtilization([task('a', 512, 64)], () => unreserved, 'ECSServiceAverageCPUUtilization', 'Average', now, 120_000)).toBeUndefined();
  expect(serviceUtilization([task('a', 512, 64)], () => unreserved, 'ECSServiceAverageMemoryUtilization', 'Average', now, 120_000)?.value).toBe(50);
});
