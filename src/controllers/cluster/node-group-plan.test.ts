import type { Cluster, ContainerInstance, Task } from '../../api';
import { dnsSubdomain } from '../../store/object-names';
import {
  drainedInstance,
  drainReasonAnnotation,
  planNodeGroupInstances,
  planRetiredInstances,
  type ManagedNodeGroup,
  type NodeGroupPlan,
  type TasksByInstance,
} from './node-group-plan';

const cluster: Cluster = {
  apiVersion: 'berth.dev/v1alpha1',
  kind: 'Cluster',
  metadata: { name: 'demo', namespace: 'ns', uid: 'cluster-uid' },
  spec: {},
};

function group(fields: Partial<ManagedNodeGroup> = {}, scaling: Partial<ManagedNodeGroup['scaling']> = {}): ManagedNodeGroup {
  return { name: 'general', type: 'managed', instanceType: { cpu: 2048, memory: 4096 }, ...fields, scaling: { minSize: 0, maxSize: 10, ...scaling } };
}

/** Instances as the store holds them once the plan's creates went through. */
function existing(desired: number, fields: Partial<ManagedNodeGroup> = {}): ContainerInstance[] {
  return planNodeGroupInstances(cluster, group(fields, { desiredSize: desired }), [], new Map()).create.map((instance) => ({
    ...instance,
    metadata: { ...instance.metadata, uid: `uid-${instance.metadata.name}` },
  }));
}

function task(name: string, onInstance: string, lastStatus: NonNullable<Task['status']>['lastStatus'] = 'RUNNING'): Task {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Task',
    metadata: { name, namespace: 'ns' },
    spec: { cluster: 'demo', taskDefinition: 'web:1', containerInstance: onInstance, desiredStatus: 'RUNNING' },
    status: { lastStatus },
  };
}

function byInstance(...tasks: Task[]): TasksByInstance {
  const map = new Map<string, Task[]>();
  for (const t of tasks) map.set(t.spec.containerInstance!, [...(map.get(t.spec.containerInstance!) ?? []), t]);
  return map;
}

const names = (instances: readonly ContainerInstance[]) => instances.map((instance) => instance.metadata.name);
const draining = (instance: ContainerInstance): ContainerInstance => drainedInstance(instance, 'scale-in');
const userDrained = (instance: ContainerInstance): ContainerInstance => ({ ...instance, spec: { ...instance.spec, status: 'DRAINING' } });

function summary(plan: NodeGroupPlan) {
  return {
    create: names(plan.create),
    drain: names(plan.drain),
    reactivate: names(plan.reactivate),
    delete: names(plan.delete),
    waiting: plan.waiting.map(({ instance, activeTasks }) => [instance.metadata.name, activeTasks]),
  };
}
const nothing = { create: [], drain: [], reactivate: [], delete: [], waiting: [] };

describe('planNodeGroupInstances', () => {
  test('an empty group gets desiredSize instances named <cluster>-<group>-<index>, owned by the cluster', () => {
    const plan = planNodeGroupInstances(
      cluster,
      group({ availabilityZones: ['zone-a', 'zone-b'], attributes: { tier: 'general' } }, { desiredSize: 3 }),
      [],
      new Map(),
    );
    expect(summary(plan)).toEqual({ ...nothing, create: ['demo-general-0', 'demo-general-1', 'demo-general-2'] });
    expect(plan.create[2]).toEqual({
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'ContainerInstance',
      metadata: {
        name: 'demo-general-2',
        namespace: 'ns',
        ownerReferences: [{ apiVersion: 'berth.dev/v1alpha1', kind: 'Cluster', name: 'demo', uid: 'cluster-uid', controller: true, blockOwnerDeletion: true }],
      },
      spec: {
        cluster: 'demo',
        nodeGroup: 'general',
        attributes: {
          tier: 'general',
          'ecs.availability-zone': 'zone-a',
          'ecs.instance-type': '2048cpu-4096mb',
          'ecs.os-type': 'linux',
          'ecs.cpu-architecture': process.arch === 'arm64' ? 'arm64' : 'x86_64',
          'berth.dev/provider': 'local',
        },
        registeredResources: { cpu: 2048, memory: 4096 },
        status: 'ACTIVE',
      },
    });
    expect(plan.create.map((instance) => instance.spec.attributes?.['ecs.availability-zone'])).toEqual(['zone-a', 'zone-b', 'zone-a']);
  });

  test('a cluster whose name leaves no room for group and index gets shortened, stable instance names', () => {
    const long: Cluster = { ...cluster, metadata: { ...cluster.metadata, name: 'c'.repeat(253) } };
    const created = planNodeGroupInstances(long, group({}, { desiredSize: 2 }), [], new Map()).create;
    for (const name of names(created)) {
      expect(name.length).toBeLessThanOrEqual(253);
      expect(name).toMatch(dnsSubdomain);
    }
    expect(names(created)[0]).toMatch(/^c+-[0-9a-f]{8}-0$/);
    // The next reconcile finds them by name: the group is complete.
    expect(summary(planNodeGroupInstances(long, group({}, { desiredSize: 2 }), created, new Map()))).toEqual(nothing);
    expect(summary(planNodeGroupInstances(long, group({}, { desiredSize: 3 }), created, new Map())).create).toEqual([names(created)[0].replace(/-0$/, '-2')]);
  });

  test('without desiredSize the group starts at minSize', () => {
    expect(names(planNodeGroupInstances(cluster, group({}, { minSize: 2 }), [], new Map()).create)).toEqual(['demo-general-0', 'demo-general-1']);
    expect(planNodeGroupInstances(cluster, group(), [], new Map()).create).toEqual([]);
  });

  test('without zones there is no zone attribute, and the instance attributes win over custom ones of the same name', () => {
    const [instance] = planNodeGroupInstances(
      cluster,
      group({ provider: 'simulated', attributes: { 'ecs.instance-type': 't2.micro', rack: 'r1' } }, { desiredSize: 1 }),
      [],
      new Map(),
    ).create;
    expect(instance.spec.attributes).toEqual({
      rack: 'r1',
      'ecs.instance-type': '2048cpu-4096mb',
      'ecs.os-type': 'linux',
      'ecs.cpu-architecture': process.arch === 'arm64' ? 'arm64' : 'x86_64',
      'berth.dev/provider': 'simulated',
    });
  });

  test('at the desired size nothing is planned', () => {
    expect(summary(planNodeGroupInstances(cluster, group({}, { desiredSize: 2 }), existing(2), new Map()))).toEqual(nothing);
  });

  test('scale-out reuses the lowest free index', () => {
    const [zero, , two] = existing(3);
    expect(summary(planNodeGroupInstances(cluster, group({}, { desiredSize: 4 }), [zero, two], new Map()))).toEqual({
      ...nothing,
      create: ['demo-general-1', 'demo-general-3'],
    });
  });

  test('an instance still being deleted keeps its name taken but does not count', () => {
    const [zero, one] = existing(2);
    const leaving = { ...one, metadata: { ...one.metadata, deletionTimestamp: '2024-01-01T00:00:00Z' } };
    expect(summary(planNodeGroupInstances(cluster, group({}, { desiredSize: 2 }), [zero, leaving], new Map()))).toEqual({
      ...nothing,
      create: ['demo-general-2'],
    });
  });

  describe('scale-in', () => {
    test('drains the highest-index instances without tasks first, then deletes them once DRAINING', () => {
      const instances = existing(4);
      const tasks = byInstance(task('t1', 'demo-general-3'));
      expect(summary(planNodeGroupInstances(cluster, group({}, { desiredSize: 2 }), instances, tasks))).toEqual({
        ...nothing,
        drain: ['demo-general-2', 'demo-general-1'],
      });
      const drained = instances.map((instance) => (['demo-general-1', 'demo-general-2'].includes(instance.metadata.name) ? draining(instance) : instance));
      expect(summary(planNodeGroupInstances(cluster, group({}, { desiredSize: 2 }), drained, tasks))).toEqual({
        ...nothing,
        delete: ['demo-general-2', 'demo-general-1'],
      });
    });

    test('a STOPPED task does not keep an instance', () => {
      const instances = existing(2);
      const tasks = byInstance(task('t1', 'demo-general-0'), task('t2', 'demo-general-1', 'STOPPED'));
      expect(summary(planNodeGroupInstances(cluster, group({}, { desiredSize: 1 }), instances, tasks)).drain).toEqual(['demo-general-1']);
    });

    test('with termination protection, a busy instance is drained when no empty one is left and deleted only once its tasks stop', () => {
      const instances = existing(2);
      const tasks = byInstance(task('t1', 'demo-general-0'), task('t2', 'demo-general-1'), task('t3', 'demo-general-1', 'PENDING'));
      expect(summary(planNodeGroupInstances(cluster, group({}, { desiredSize: 1 }), instances, tasks)).drain).toEqual(['demo-general-1']);

      const drained = [instances[0], draining(instances[1])];
      expect(summary(planNodeGroupInstances(cluster, group({}, { desiredSize: 1 }), drained, tasks))).toEqual({ ...nothing, waiting: [['demo-general-1', 2]] });

      const stopped = byInstance(task('t1', 'demo-general-0'), task('t2', 'demo-general-1', 'STOPPED'), task('t3', 'demo-general-1', 'STOPPED'));
      expect(summary(planNodeGroupInstances(cluster, group({}, { desiredSize: 1 }), drained, stopped))).toEqual({ ...nothing, delete: ['demo-general-1'] });
    });

    test('without termination protection, a DRAINING instance is deleted with its tasks', () => {
      const instances = [existing(2)[0], draining(existing(2)[1])];
      const tasks = byInstance(task('t1', 'demo-general-1'));
      expect(summary(planNodeGroupInstances(cluster, group({ managedTerminationProtection: 'DISABLED' }, { desiredSize: 1 }), instances, tasks))).toEqual({
        ...nothing,
        delete: ['demo-general-1'],
      });
    });

    test('an instance already DRAINING stays the one retired, even when a higher index is empty', () => {
      const instances = existing(3);
      const tasks = byInstance(task('t1', 'demo-general-0'));
      const current = [draining(instances[0]), instances[1], instances[2]];
      expect(summary(planNodeGroupInstances(cluster, group({}, { desiredSize: 2 }), current, tasks))).toEqual({ ...nothing, waiting: [['demo-general-0', 1]] });
    });
  });

  test('an instance this controller drained is reactivated when the group wants it again; one a user drained is left alone', () => {
    const [zero, one, two] = existing(3);
    const current = [zero, draining(one), userDrained(two)];
    expect(summary(planNodeGroupInstances(cluster, group({}, { desiredSize: 3 }), current, new Map()))).toEqual({ ...nothing, reactivate: ['demo-general-1'] });
  });
});

describe('planRetiredInstances', () => {
  test('drains every instance, then deletes the empty ones and waits for the busy ones whatever the protection', () => {
    const [zero, one, two] = existing(3, { managedTerminationProtection: 'DISABLED' });
    const tasks = byInstance(task('t1', 'demo-general-1'));
    const first = planRetiredInstances([zero, one, two], 'node-group-removed', tasks);
    expect(first.cause).toBe('node-group-removed');
    expect(summary(first)).toEqual({ ...nothing, drain: ['demo-general-0', 'demo-general-1', 'demo-general-2'] });

    const drained = [zero, one, two].map((instance) => drainedInstance(instance, 'node-group-removed'));
    expect(drained[0].metadata.annotations).toEqual({ [drainReasonAnnotation]: 'node-group-removed' });
    expect(summary(planRetiredInstances(drained, 'node-group-removed', tasks))).toEqual({
      ...nothing,
      delete: ['demo-general-0', 'demo-general-2'],
      waiting: [['demo-general-1', 1]],
    });
  });
});
