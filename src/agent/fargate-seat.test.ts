import type { Task, TaskDefinitionSpec } from '../api';
import { fargateLaunchProblem } from '../ecs/compatibility';
import { fargateSeat } from './fargate-seat';

const spec = (fields: Partial<TaskDefinitionSpec>): TaskDefinitionSpec => ({
  networkMode: 'awsvpc',
  cpu: 256,
  memory: 512,
  containerDefinitions: [{ name: 'app', image: 'app', essential: true }],
  ...fields,
});

const task = (fields: Partial<Task['spec']>, admitted = true): Task => ({
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'Task',
  metadata: { name: 't', namespace: 'ns', ...(admitted ? { annotations: { 'berth.dev/admitted': 'true' } } : {}) },
  spec: { cluster: 'demo', taskDefinition: 'web:1', desiredStatus: 'RUNNING', capacityProviderName: 'FARGATE', ...fields },
});

describe('the Fargate seat', () => {
  test('runs the admitted FARGATE tasks of its cluster and namespace only', () => {
    const seat = fargateSeat({ taskIndex: { inCluster: () => [] } as never }, 'ns', 'demo', { storageCheckIntervalMs: 1000 });
    expect(seat.runs(task({}))).toBe(true);
    expect(seat.runs(task({}, false))).toBe(false);
    expect(seat.runs(task({ cluster: 'other' }))).toBe(false);
    expect(seat.runs(task({ capacityProviderName: 'general' }))).toBe(false);
    expect(seat.runs(task({ containerInstance: 'i-1' }))).toBe(false);
    expect(seat.instance).toBeUndefined();
  });

  test("a cluster's two pools split its tasks: Pods for those admitted under a profile's pod settings, the engine for the rest", () => {
    const kindOf = (t: Task) => (t.metadata.annotations?.['berth.dev/fargate-profile'] ? ('pods' as const) : ('engine' as const));
    const context = { taskIndex: { inCluster: () => [] } as never };
    const pods = fargateSeat(context, 'ns', 'demo', { storageCheckIntervalMs: 1000 }, { kind: 'pods', kindOf });
    const engine = fargateSeat(context, 'ns', 'demo', { storageCheckIntervalMs: 1000 }, { kind: 'engine', kindOf });
    const profiled = task({});
    profiled.metadata.annotations = { ...profiled.metadata.annotations, 'berth.dev/fargate-profile': 'batch' };
    expect([pods.runs(profiled), engine.runs(profiled)]).toEqual([true, false]);
    expect([pods.runs(task({})), engine.runs(task({}))]).toEqual([false, true]);
    // The kubelet limits a Pod's ephemeral storage; only the engine pool measures it.
    expect(pods.ephemeralStorage).toBeUndefined();
    expect(pods.name).toBe('FARGATE/demo/pods');
  });

  test('ephemeral storage: 20 GiB unless the task definition names its size', () => {
    const seat = fargateSeat({ taskIndex: { inCluster: () => [] } as never }, 'ns', 'demo', { storageCheckIntervalMs: 1000 });
    expect(seat.ephemeralStorage?.limitBytes(spec({}))).toBe(20 * 2 ** 30);
    expect(seat.ephemeralStorage?.limitBytes(spec({ ephemeralStorage: { sizeInGiB: 200 } }))).toBe(200 * 2 ** 30);
  });

  test.each([
    [spec({}), undefined],
    [spec({ cpu: 4096, memory: 30720 }), undefined],
    [spec({ networkMode: 'bridge' }), 'Task definition does not support launch_type FARGATE: networkMode is bridge, and Fargate needs awsvpc'],
    [spec({ cpu: undefined }), 'Task definition does not support launch_type FARGATE: Fargate needs the task-level cpu and memory'],
    [spec({ cpu: 300 }), 'Task definition does not support launch_type FARGATE: cpu 300 is not a Fargate size (256, 512, 1024, 2048, 4096)'],
    [
      spec({ cpu: 1024, memory: 9216 }),
      'Task definition does not support launch_type FARGATE: memory 9216 MiB does not go with cpu 1024 on Fargate (2048 to 8192 in steps of 1024)',
    ],
  ])('launch problem %#', (revision, problem) => {
    expect(fargateLaunchProblem(revision)).toBe(problem);
  });
});
