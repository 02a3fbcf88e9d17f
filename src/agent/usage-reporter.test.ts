import { tasks as taskType, validatorFor, type Service, type Task } from '../api';
import { FakeClock } from '../runtime/clock';
import type { SharedInformer } from '../runtime/informer';
import { silentLogger } from '../runtime/logger';
import { MemoryStore } from '../store/memory/memory-store';
import type { KubeObject } from '../store/object-store';
import type { TaskRuntime, TaskUsage } from './task-runtime';
import { periodReport, UsageReporter } from './usage-reporter';

const ns = 'default';
const minute = 60_000;

function task(name: string, service: string, lastStatus: string): KubeObject {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Task',
    metadata: { name, namespace: ns, uid: `uid-${name}`, labels: { 'berth.dev/service': service } },
    spec: { cluster: 'demo', taskDefinition: 'web:1' },
    status: { lastStatus },
  } as unknown as KubeObject;
}

const scaled = {
  spec: { autoScaling: { minCapacity: 1, maxCapacity: 3, targetTracking: [{ predefinedMetric: 'ECSServiceAverageCPUUtilization', targetValue: 50 }] } },
};
const services = new Map<string, unknown>([
  ['scaled', scaled],
  ['scheduled-only', { spec: { autoScaling: { minCapacity: 1, maxCapacity: 3, scheduledActions: [] } } }],
  [
    'requests-only',
    {
      spec: {
        autoScaling: {
          minCapacity: 1,
          maxCapacity: 3,
          requestCountMetric: { name: 'requests_per_minute' },
          targetTracking: [{ predefinedMetric: 'ALBRequestCountPerTarget', targetValue: 1000 }],
        },
      },
    },
  ],
  ['plain', { spec: {} }],
]);
const serviceInformer = { get: (_namespace: string | undefined, name: string) => services.get(name) } as unknown as SharedInformer<Service>;

test('one report a period per RUNNING task of a service with policies on CPU or memory: CPU averaged between two readings, nothing for others', async () => {
  const store = new MemoryStore({ validatorFor });
  const clock = new FakeClock(Date.parse('2026-03-02T08:00:00Z'));
  const read: string[] = [];
  // The engine's cumulative counters: half a vCPU (0.5e9 ns a second) and 100 MiB, for every task.
  const runtime = {
    usage: (uid: string): Promise<TaskUsage> => {
      read.push(uid);
      const seconds = (clock.now() - Date.parse('2026-03-02T08:00:00Z')) / 1000;
      return Promise.resolve({ cpuNanoseconds: seconds * 0.5e9, memoryBytes: 100 * 2 ** 20, readAt: clock.now() });
    },
  } as unknown as TaskRuntime;
  const seat = [
    task('web-1', 'scaled', 'RUNNING'),
    task('web-2', 'scaled', 'PENDING'),
    task('other-1', 'scheduled-only', 'RUNNING'),
    task('requests-1', 'requests-only', 'RUNNING'),
    task('plain-1', 'plain', 'RUNNING'),
  ];
  for (const t of seat) {
    const { status, ...rest } = t as Task;
    await store.create(taskType, rest);
    await store.patch(taskType, ns, t.metadata.name, { status }, 'status');
  }
  const reporter = new UsageReporter({ store, clock, log: silentLogger(), runtime, services: serviceInformer, tasks: () => seat as Task[], periodMs: minute });
  reporter.start();

  await clock.advance(minute); // the first reading: nothing to average yet
  expect(read).toEqual(['uid-web-1']);
  expect((await store.get<Task>(taskType, ns, 'web-1'))?.status?.usage).toBeUndefined();

  await clock.advance(minute); // 30e9 ns in 60 s: 30e9 / 60e9 × 1024 = 512 units
  expect((await store.get<Task>(taskType, ns, 'web-1'))?.status?.usage).toEqual({
    cpuUnits: 512,
    memoryMiB: 100,
    windowSeconds: 60,
    sampledAt: '2026-03-02T08:02:00Z',
  });
  expect((await store.get<Task>(taskType, ns, 'web-1'))?.status?.lastStatus).toBe('RUNNING');
  for (const name of ['web-2', 'other-1', 'requests-1', 'plain-1']) expect((await store.get<Task>(taskType, ns, name))?.status?.usage).toBeUndefined();
  reporter.stop();
  expect(clock.pendingTimers()).toBe(0);
});

describe('periodReport', () => {
  const t0 = Date.parse('2026-03-02T08:00:00Z');

  test('a rate (Pods, metrics.k8s.io) is reported at once with its own window: 250m over 10 s is 256 units', () => {
    expect(periodReport({ cpuNanocores: 250_000_000, windowMs: 10_000, memoryBytes: 64 * 2 ** 20, readAt: t0 }, undefined)).toEqual({
      cpuUnits: 256,
      memoryMiB: 64,
      windowSeconds: 10,
      sampledAt: '2026-03-02T08:00:00Z',
    });
  });

  test('the same sample read again (the pipeline has not measured since) is no second report', () => {
    const sample = { cpuNanocores: 250_000_000, windowMs: 10_000, memoryBytes: 0, readAt: t0 };
    expect(periodReport(sample, sample)).toBeUndefined();
    expect(periodReport({ ...sample, readAt: t0 + 15_000 }, sample)).toMatchObject({ sampledAt: '2026-03-02T08:00:15Z' });
  });

  test('a counter (Docker) needs two readings: 30e9 ns in 60 s is 512 units over 60 s; a counter after a rate only sets the baseline', () => {
    const first = { cpuNanoseconds: 1e9, memoryBytes: 2 ** 20, readAt: t0 };
    expect(periodReport(first, undefined)).toBeUndefined();
    expect(periodReport({ cpuNanoseconds: 31e9, memoryBytes: 2 ** 20, readAt: t0 + 60_000 }, first)).toEqual({
      cpuUnits: 512,
      memoryMiB: 1,
      windowSeconds: 60,
      sampledAt: '2026-03-02T08:01:00Z',
    });
    expect(periodReport(first, { cpuNanocores: 1, windowMs: 1, memoryBytes: 0, readAt: t0 - 1 })).toBeUndefined();
  });
});
