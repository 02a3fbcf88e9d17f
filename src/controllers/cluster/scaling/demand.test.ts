import type { Cluster, ContainerInstance, Task, TaskDefinitionSpec } from '../../../api';
import { EcsScheduler, tasksByInstance, type PlacementConstraint } from '../../placement';
import { newInstance } from '../node-group-plan';
import { groupDemand, instancesByState, waitingTasksByGroup, type ScalingNodeGroup } from './demand';

const cluster: Cluster = { apiVersion: 'berth.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'demo', namespace: 'ns', uid: 'c-uid' }, spec: {} };

function group(name: string, memory: number, fields: Partial<ScalingNodeGroup> = {}): ScalingNodeGroup {
  return {
    name,
    type: 'managed',
    instanceType: { cpu: 4096, memory },
    scaling: { minSize: 0, maxSize: 10 },
    managedScaling: {
      status: 'ENABLED',
      targetCapacity: 100,
      minimumScalingStepSize: 1,
      maximumScalingStepSize: 10000,
      instanceWarmupPeriod: 60,
      scaleInCooldownSeconds: 900,
    },
    ...fields,
  };
}

/** Task definitions by name: `mem-N` reserves N MiB. */
const specOf = (task: Task): TaskDefinitionSpec | undefined => {
  const memory = Number(task.spec.taskDefinition.match(/^mem-(\d+):1$/)?.[1]);
  if (!memory) return undefined;
  return { networkMode: 'bridge', containerDefinitions: [{ name: 'app', image: 'app', memory, essential: true }] };
};

function task(
  name: string,
  memory: number,
  fields: { on?: string; lastStatus?: 'RUNNING' | 'STOPPED' | 'PROVISIONING'; provider?: string; stopping?: boolean; group?: string } = {},
): Task {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Task',
    metadata: { name, namespace: 'ns', ...(fields.on ? { annotations: { 'berth.dev/admitted': 'true' } } : {}) },
    spec: {
      cluster: 'demo',
      taskDefinition: `mem-${memory}:1`,
      desiredStatus: fields.stopping ? 'STOPPED' : 'RUNNING',
      ...(fields.on ? { containerInstance: fields.on } : {}),
      ...(fields.provider ? { capacityProviderName: fields.provider } : {}),
      ...(fields.group ? { group: fields.group } : {}),
    },
    ...(fields.lastStatus ? { status: { lastStatus: fields.lastStatus } } : {}),
  };
}

const sources = (constraints: readonly PlacementConstraint[] = []) => ({ specOf, constraintsOf: () => constraints, scheduler: new EcsScheduler() });
const memories = (shapes: { memory: number }[] | undefined) => (shapes ?? []).map((s) => s.memory);

describe('which waiting tasks a group scales for', () => {
  const small = group('small', 1024);
  const large = group('large', 8192);

  test('a task without capacityProviderName counts towards the first scaling group that can hold it', () => {
    const byGroup = waitingTasksByGroup(cluster, [small, large], [task('a', 512), task('b', 4096), task('c', 16384)], sources());
    expect(memories(byGroup.get('small'))).toEqual([512]);
    // c fits no instance type: no number of instances would run it, so it makes no group grow.
    expect(memories(byGroup.get('large'))).toEqual([4096]);
  });

  test('capacityProviderName names the group, and only that group', () => {
    const byGroup = waitingTasksByGroup(cluster, [small, large], [task('a', 512, { provider: 'large' }), task('b', 4096, { provider: 'small' })], sources());
    expect(memories(byGroup.get('large'))).toEqual([512]);
    expect(memories(byGroup.get('small'))).toEqual([]);
  });

  test('placed, pinned, stopped, being stopped and unknown-revision tasks do not wait for capacity', () => {
    const pinned: Task = { ...task('pinned', 256), spec: { ...task('pinned', 256).spec, containerInstance: 'demo-small-0' } };
    const unknown: Task = { ...task('unknown', 256), spec: { ...task('unknown', 256).spec, taskDefinition: 'other:1' } };
    const tasks = [
      task('placed', 256, { on: 'demo-small-0', lastStatus: 'RUNNING' }),
      pinned,
      task('stopped', 256, { lastStatus: 'STOPPED' }),
      task('stopping', 256, { stopping: true }),
      unknown,
    ];
    expect(memories(waitingTasksByGroup(cluster, [small], tasks, sources()).get('small'))).toEqual([]);
  });

  test('a task whose constraint no new instance of the group satisfies makes no group grow (the scheduler judges it on an empty instance)', () => {
    const scheduler = new EcsScheduler();
    const web = group('web', 1024, { attributes: { tier: 'web' } });
    const constrained = { specOf, constraintsOf: () => [{ type: 'memberOf' as const, expression: 'attribute:tier == web' }], scheduler };
    const byGroup = waitingTasksByGroup(cluster, [small, web], [task('a', 512)], constrained);
    expect(memories(byGroup.get('small'))).toEqual([]);
    expect(memories(byGroup.get('web'))).toEqual([512]);
    expect(memories(waitingTasksByGroup(cluster, [small], [task('a', 512)], constrained).get('small'))).toEqual([]);
  });

  test('distinctInstance travels with the task, so the estimate keeps its tasks apart', () => {
    const byGroup = waitingTasksByGroup(cluster, [small], [task('a', 128, { group: 'service:web' })], sources([{ type: 'distinctInstance' }]));
    expect(byGroup.get('small')).toEqual([{ cpu: 0, memory: 128, hostPorts: [], distinctGroup: 'service:web' }]);
  });
});

describe('groupDemand', () => {
  const g = group('general', 1024);
  const instance = (index: number, createdAt: string, fields: Partial<ContainerInstance['spec']> = {}): ContainerInstance => {
    const created = newInstance(cluster, g, index);
    return { ...created, metadata: { ...created.metadata, creationTimestamp: createdAt }, spec: { ...created.spec, ...fields } };
  };
  const now = new Date('2026-01-01T00:10:00Z');
  const old = '2026-01-01T00:00:00Z';
  const fresh = '2026-01-01T00:09:30Z';

  test('M counts occupied instances and what waits; N the ACTIVE instances past warm-up; removable the empty ones among them', () => {
    const instances = [instance(0, old), instance(1, old), instance(2, fresh), instance(3, old, { status: 'DRAINING' })];
    const tasks = [task('a', 512, { on: 'demo-general-0', lastStatus: 'RUNNING' }), task('b', 512, { on: 'demo-general-3', lastStatus: 'RUNNING' })];
    const waiting = [1024, 1024, 512].map((memory) => ({ cpu: 0, memory, hostPorts: [] }));
    // The 512 joins a on demo-general-0; the two of 1024 take demo-general-1 and the warming demo-general-2.
    expect(groupDemand(g, instances, tasksByInstance(tasks), waiting, { specOf, isDaemonTask: () => false }, now)).toEqual({
      instancesNeeded: 3,
      instancesRunning: 2,
      removable: 1,
      nextWarmedAt: Date.parse('2026-01-01T00:10:30Z'),
    });
    expect(instancesByState(g, instances, now)).toEqual({ ACTIVE: 2, WARMING: 1, DRAINING: 1 });
  });

  test('a DAEMON task takes room but does not keep its instance, as ECS ignores daemon tasks for termination protection', () => {
    const tasks = [task('daemon', 768, { on: 'demo-general-0', lastStatus: 'RUNNING', group: 'service:exporter' })];
    const isDaemonTask = (t: Task) => t.spec.group === 'service:exporter';
    expect(groupDemand(g, [instance(0, old)], tasksByInstance(tasks), [], { specOf, isDaemonTask }, now)).toEqual({
      instancesNeeded: 0,
      instancesRunning: 1,
      removable: 1,
    });
    // Its room is taken all the same: a waiting task of 512 MiB needs a new instance, and then both count.
    const waiting = [{ cpu: 0, memory: 512, hostPorts: [] }];
    expect(groupDemand(g, [instance(0, old)], tasksByInstance(tasks), waiting, { specOf, isDaemonTask }, now).instancesNeeded).toBe(2);
  });

  test('a STOPPED task holds nothing: its instance may go', () => {
    const tasks = [task('a', 512, { on: 'demo-general-0', lastStatus: 'STOPPED' })];
    expect(groupDemand(g, [instance(0, old)], tasksByInstance(tasks), [], { specOf, isDaemonTask: () => false }, now)).toEqual({
      instancesNeeded: 0,
      instancesRunning: 1,
      removable: 1,
    });
  });
});
