import fc from 'fast-check';
import type { ContainerInstance, Task } from '../../api';
import { nodeCordonedAnnotation } from '../../ecs/pods';
import { drainedInstance, type ManagedNodeGroup, type TasksByInstance } from './node-group-plan';
import { isLeaving, machineDeletionAnnotation, planScaleTarget } from './scale-target-plan';

const group: ManagedNodeGroup = {
  name: 'workers',
  type: 'managed',
  instanceType: { cpu: 2048, memory: 4096 },
  scaling: { minSize: 0, maxSize: 20 },
  nodes: { selector: {}, allowHostPaths: false, scaleTarget: { apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'MachineDeployment', name: 'workers' } },
};

/** A Node's mirror; a DRAINING one has its Node cordoned unless `cordoned` is false. */
function mirror(node: string, fields: { draining?: boolean; leaving?: boolean; cordoned?: boolean } = {}): ContainerInstance {
  const cordoned = fields.cordoned ?? fields.draining ?? false;
  const instance: ContainerInstance = {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'ContainerInstance',
    metadata: {
      name: `prod-${node}`,
      namespace: 'ns',
      annotations: { [nodeCordonedAnnotation]: String(cordoned), ...(fields.leaving && { [machineDeletionAnnotation]: 'marked' }) },
    },
    spec: { cluster: 'prod', nodeGroup: 'workers', nodeName: node, status: 'ACTIVE', registeredResources: { cpu: 2048, memory: 4096 } },
  };
  return fields.draining ? drainedInstance(instance, 'scale-in') : instance;
}

function tasksOn(counts: Record<string, number>): TasksByInstance {
  const task = (instance: string, i: number): Task => ({
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Task',
    metadata: { name: `${instance}-t${i}`, namespace: 'ns' },
    spec: { cluster: 'prod', taskDefinition: 'web:1', containerInstance: instance, desiredStatus: 'RUNNING' },
    status: { lastStatus: 'RUNNING' },
  });
  return new Map(Object.entries(counts).map(([instance, n]) => [instance, Array.from({ length: n }, (_, i) => task(instance, i))]));
}

const names = (instances: readonly ContainerInstance[]) => instances.map((i) => i.metadata.name);

describe('planScaleTarget', () => {
  test('growing: replicas = desired, and the Nodes still to join are counted', () => {
    const plan = planScaleTarget(group, 'MachineDeployment workers', [mirror('a'), mirror('b')], new Map(), 5);
    expect(plan.scaleTarget).toEqual({ description: 'MachineDeployment workers', replicas: 5, joining: 3 });
    expect([plan.drain, plan.delete, plan.waiting]).toEqual([[], [], []]);
  });

  test('shrinking: empty Nodes go first; a victim is drained before its Machine is marked, and replicas drop only for marked ones', () => {
    const mirrors = [mirror('a'), mirror('b'), mirror('c'), mirror('d'), mirror('e')];
    const tasks = tasksOn({ 'prod-a': 2, 'prod-b': 1, 'prod-d': 3 });
    // Desired 3 of 5: the two empty Nodes (c, e) are the victims; both are drained first, so nothing is marked yet.
    const first = planScaleTarget(group, 'md', mirrors, tasks, 3);
    expect(names(first.drain)).toEqual(['prod-c', 'prod-e']);
    expect(first.scaleTarget?.replicas).toBe(5);
    // Next reconcile: both DRAINING and empty, so both are marked and replicas = 3 + 2 - 2.
    const drained = [mirror('a'), mirror('b'), mirror('c', { draining: true }), mirror('d'), mirror('e', { draining: true })];
    const second = planScaleTarget(group, 'md', drained, tasks, 3);
    expect(names(second.delete)).toEqual(['prod-c', 'prod-e']);
    expect(second.scaleTarget).toEqual({ description: 'md', replicas: 3, joining: 0 });
  });

  test('a busy victim keeps its Machine (and its place in replicas) until its tasks are gone', () => {
    const mirrors = [mirror('a', { draining: true }), mirror('b')];
    const plan = planScaleTarget(group, 'md', mirrors, tasksOn({ 'prod-a': 1, 'prod-b': 1 }), 1);
    expect(plan.waiting.map(({ instance, activeTasks }) => [instance.metadata.name, activeTasks])).toEqual([['prod-a', 1]]);
    expect(plan.scaleTarget?.replicas).toBe(2);
    const unprotected = planScaleTarget({ ...group, managedTerminationProtection: 'DISABLED' }, 'md', mirrors, tasksOn({ 'prod-a': 1 }), 1);
    expect(names(unprotected.delete)).toEqual(['prod-a']);
    expect(unprotected.scaleTarget?.replicas).toBe(1);
  });

  test('an empty DRAINING Node is named for removal only once its Node shows cordoned', () => {
    const plan = planScaleTarget(group, 'md', [mirror('a'), mirror('b', { draining: true, cordoned: false })], new Map(), 1);
    expect(plan.delete).toEqual([]);
    expect(plan.waiting.map(({ instance, activeTasks }) => [instance.metadata.name, activeTasks])).toEqual([['prod-b', 0]]);
    expect(plan.scaleTarget?.replicas).toBe(2);
  });

  test('leaving Nodes (Machine marked) count nowhere, and a Node drained to scale in is reactivated when wanted again', () => {
    const mirrors = [mirror('a', { leaving: true }), mirror('b', { draining: true }), mirror('c')];
    const plan = planScaleTarget(group, 'md', mirrors, new Map(), 2);
    expect(names(plan.reactivate)).toEqual(['prod-b']);
    expect(plan.scaleTarget).toEqual({ description: 'md', replicas: 2, joining: 0 });
  });
});

/**
 * A model of the loop: Berth plans and acts, a MachineSet (deleting marked Machines first, then those
 * with no Node, as Cluster API's does) follows replicas, Nodes join, and tasks leave DRAINING Nodes.
 * Whatever the sequence of desired sizes, no Node is removed uncordoned or while a task runs on it, and once desired
 * holds still the group settles at exactly that many Nodes.
 */
describe('planScaleTarget in a loop with a MachineSet', () => {
  interface Machine {
    name: string;
    marked: boolean;
    node?: { instance: ContainerInstance; tasks: number };
  }

  test('never removes a Node with tasks, and settles at desired', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ desired: fc.integer({ min: 0, max: 8 }), tasks: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 8 }) }), {
          minLength: 1,
          maxLength: 6,
        }),
        (phases) => {
          let machines: Machine[] = [];
          let replicas = 0;
          let serial = 0;
          const step = (desired: number) => {
            const mirrors = machines.flatMap((m) => (m.node ? [m.node.instance] : []));
            const tasks = new Map(machines.flatMap((m) => (m.node ? [[m.node.instance.metadata.name, tasksOn({ x: m.node.tasks }).get('x')!] as const] : [])));
            const plan = planScaleTarget(group, 'md', mirrors, tasks, desired);
            const withNode = (instance: ContainerInstance) => machines.find((m) => m.node?.instance.metadata.name === instance.metadata.name)!;
            // The node-group controller cordons a DRAINING instance's Node, seen from the next reconcile on.
            for (const m of machines) {
              const node = m.node?.instance;
              if (node?.spec.status === 'DRAINING')
                m.node!.instance = { ...node, metadata: { ...node.metadata, annotations: { ...node.metadata.annotations, [nodeCordonedAnnotation]: 'true' } } };
            }
            for (const instance of plan.drain) withNode(instance).node!.instance = drainedInstance(instance, 'scale-in');
            for (const instance of plan.reactivate) withNode(instance).node!.instance = { ...instance, spec: { ...instance.spec, status: 'ACTIVE' } };
            for (const instance of plan.delete) {
              const machine = withNode(instance);
              machine.marked = true;
              machine.node!.instance = {
                ...machine.node!.instance,
                metadata: {
                  ...machine.node!.instance.metadata,
                  annotations: { ...machine.node!.instance.metadata.annotations, [machineDeletionAnnotation]: 'now' },
                },
              };
            }
            replicas = plan.scaleTarget!.replicas;
            // The MachineSet: delete marked, then Node-less, then newest; add Machines up to replicas.
            const order = (m: Machine) => (m.marked ? 0 : m.node ? 2 : 1);
            while (machines.length > replicas) {
              const victim = [...machines].sort((a, b) => order(a) - order(b))[0];
              if (victim.node && victim.node.tasks > 0) throw new Error(`${victim.name} removed with ${victim.node.tasks} tasks`);
              if (victim.node && victim.node.instance.metadata.annotations?.[nodeCordonedAnnotation] !== 'true')
                throw new Error(`${victim.name} removed uncordoned`);
              machines = machines.filter((m) => m !== victim);
            }
            while (machines.length < replicas) machines.push({ name: `m${serial++}`, marked: false });
            // Nodes join; tasks on DRAINING Nodes move away.
            for (const m of machines) {
              if (!m.node) m.node = { instance: mirror(m.name), tasks: 0 };
              else if (m.node.instance.spec.status === 'DRAINING') m.node.tasks = 0;
            }
          };
          for (const { desired, tasks } of phases) {
            machines.forEach((m, i) => m.node && !isLeaving(m.node.instance) && m.node.instance.spec.status === 'ACTIVE' && (m.node.tasks = tasks[i] ?? 0));
            for (let i = 0; i < 5; i++) step(desired);
            const staying = machines.filter((m) => !m.marked);
            expect(staying).toHaveLength(desired);
            expect(machines).toHaveLength(desired);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
