import type { Service, Task } from '../../api';
import { dnsSubdomain } from '../../store/object-names';
import { buildServiceTask, daemonTaskName, nextTaskNames, taskPhase } from './service-tasks';

const service = {
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'shop', uid: 'svc-uid' },
  spec: { cluster: 'demo', taskDefinition: 'web', desiredCount: 2 },
} as unknown as Service;

const now = new Date('2026-01-01T00:10:00Z');
const task = (status: Task['status'], desiredStatus: 'RUNNING' | 'STOPPED' = 'RUNNING'): Task => ({
  ...buildServiceTask(service, 'ecs-svc/1', 'web:1', 'web-x-0'),
  status,
  spec: { ...buildServiceTask(service, 'ecs-svc/1', 'web:1', 'web-x-0').spec, desiredStatus },
});

describe('task names', () => {
  test('are the lowest ordinals no Task object of the deployment holds, so a retry computes the same names', () => {
    const first = nextTaskNames(service, 'ecs-svc/1', [], 3);
    expect(first).toHaveLength(3);
    const existing = [first[0], first[2]].map((name) => buildServiceTask(service, 'ecs-svc/1', 'web:1', name));
    expect(nextTaskNames(service, 'ecs-svc/1', existing, 2)).toEqual([first[1], first[0].replace(/-0$/, '-3')]);
    expect(nextTaskNames(service, 'ecs-svc/2', [], 1)[0]).not.toEqual(first[0]);
  });

  test('DAEMON tasks are named after their instance and stay valid object names', () => {
    expect(daemonTaskName(service, 'ecs-svc/1', 'demo-general-0')).toMatch(/^web-[0-9a-f]{6}-demo-general-0$/);
    expect(daemonTaskName(service, 'ecs-svc/1', 'i'.repeat(300)).length).toBeLessThanOrEqual(253);
    // A self-managed host registers under its hostname, dots and all: the shortened name must not end its start with one.
    const host = `${'h'.repeat(228)}.eu-west-1.compute.internal`;
    expect(daemonTaskName(service, 'ecs-svc/1', host)).toMatch(dnsSubdomain);
  });
});

describe('taskPhase', () => {
  test('RUNNING is healthy; anything before it is starting; STOPPED and stopping are their own', () => {
    expect(taskPhase(task({ lastStatus: 'RUNNING', healthStatus: 'HEALTHY' }), now, 0)).toBe('healthy');
    expect(taskPhase(task({ lastStatus: 'RUNNING', healthStatus: 'UNKNOWN' }), now, 0)).toBe('healthy');
    expect(taskPhase(task({ lastStatus: 'ACTIVATING' }), now, 0)).toBe('starting');
    expect(taskPhase(task(undefined), now, 0)).toBe('starting');
    expect(taskPhase(task({ lastStatus: 'RUNNING' }, 'STOPPED'), now, 0)).toBe('stopping');
    expect(taskPhase(task({ lastStatus: 'STOPPED' }, 'STOPPED'), now, 0)).toBe('stopped');
  });

  test('an UNHEALTHY task is left alone for healthCheckGracePeriodSeconds, then replaced', () => {
    const failing = task({ lastStatus: 'ACTIVATING', healthStatus: 'UNHEALTHY', createdAt: '2026-01-01T00:09:00Z' });
    expect(taskPhase(failing, now, 120)).toBe('starting');
    expect(taskPhase(failing, now, 30)).toBe('unhealthy');
    const wasRunning = task({ lastStatus: 'RUNNING', healthStatus: 'UNHEALTHY', createdAt: '2026-01-01T00:00:00Z', startedAt: '2026-01-01T00:09:50Z' });
    expect(taskPhase(wasRunning, now, 30)).toBe('starting');
    expect(taskPhase(wasRunning, now, 5)).toBe('unhealthy');
  });
});
