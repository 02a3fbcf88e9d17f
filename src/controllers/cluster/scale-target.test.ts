import { clusters, containerInstances, tasks, validatorFor, type Cluster, type ContainerInstance } from '../../api';
import { Manager } from '../../runtime/manager';
import { silentLogger } from '../../runtime/logger';
import { events } from '../../store/builtin-types';
import { MemoryStore } from '../../store/memory/memory-store';
import type { KubeObject } from '../../store/object-store';
import { eventually } from '../../runtime/eventually';
import { addClusterController } from './controller';
import { machineDeletionAnnotation } from './scale-target-plan';
import { nodeCordonedAnnotation } from '../../ecs/pods';
import { FakeScaleTargets, scaleTargetKey } from './testing/fake-scale-targets';

const ns = 'team-a';
const target = { apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'MachineDeployment', name: 'workers', namespace: ns };

function workers(desiredSize: number): Record<string, unknown> {
  return {
    name: 'workers',
    type: 'managed',
    instanceType: { cpu: 2048, memory: 4096 },
    scaling: { minSize: 0, maxSize: 10, desiredSize },
    nodes: { selector: { matchLabels: { pool: 'workers' } }, scaleTarget: { apiVersion: target.apiVersion, kind: target.kind, name: target.name } },
  };
}

/** A Node's mirror, as the node-group controller writes it (it is not part of this test). */
function mirror(node: string): ContainerInstance {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'ContainerInstance',
    metadata: { name: `demo-${node}`, namespace: ns },
    spec: { cluster: 'demo', nodeGroup: 'workers', nodeName: node, status: 'ACTIVE', registeredResources: { cpu: 2048, memory: 4096 } },
  };
}

describe('Cluster controller: a managed group of Nodes scales through its scale target', () => {
  let store: MemoryStore;
  let targets: FakeScaleTargets;
  let manager: Manager;
  let running: Promise<void>;

  beforeEach(() => {
    store = new MemoryStore({ validatorFor });
    targets = new FakeScaleTargets();
    targets.replicasOf.set(scaleTargetKey(target), 1);
    manager = new Manager({ store, logger: silentLogger(), metricsServer: false, healthServer: false, leaderElection: false });
    addClusterController(manager, undefined, undefined, { taskCountsReportIntervalMs: 50, scaleTargets: targets, nodesServed: true });
    running = manager.start();
  });

  afterEach(async () => {
    await manager.stop();
    await running;
  });

  const clusterNow = async () => (await store.get<Cluster>(clusters, ns, 'demo'))!;
  const replicas = () => targets.replicasOf.get(scaleTargetKey(target));
  const instance = async (name: string) => (await store.get<ContainerInstance>(containerInstances, ns, name))!;
  const eventMessages = async () => (await store.list<KubeObject & { message: string }>(events, ns)).items.map((event) => event.message);

  /** What the node-group controller does as an instance turns DRAINING: cordon its Node, and mark the mirror so. */
  async function cordonDrainingNodes(): Promise<void> {
    for (const instance of (await store.list<ContainerInstance>(containerInstances, ns)).items) {
      if (instance.spec.status === 'DRAINING' && instance.metadata.annotations?.[nodeCordonedAnnotation] !== 'true')
        await store.patch(containerInstances, ns, instance.metadata.name, { metadata: { annotations: { [nodeCordonedAnnotation]: 'true' } } });
    }
  }

  async function createCluster(desiredSize: number): Promise<void> {
    await store.create(clusters, {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'Cluster',
      metadata: { name: 'demo', namespace: ns },
      spec: { nodeGroups: [workers(desiredSize)] },
    } as Cluster);
  }

  async function setDesiredSize(size: number): Promise<void> {
    const cluster = await clusterNow();
    await store.update(clusters, { ...cluster, spec: { ...cluster.spec, nodeGroups: [workers(size)] } });
  }

  async function runTask(name: string, onInstance: string): Promise<void> {
    await store.create(tasks, {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'Task',
      metadata: { name, namespace: ns },
      spec: { cluster: 'demo', taskDefinition: 'web:1', containerInstance: onInstance, group: 'service:web' },
    } as KubeObject);
    await store.patch(tasks, ns, name, { status: { lastStatus: 'RUNNING' } }, 'status');
  }

  test('scale-out sets replicas; Ready waits for the Nodes to join; no ContainerInstance is created by the cluster', async () => {
    await createCluster(3);
    await eventually(() => replicas() === 3, 'replicas 3');
    const condition = await eventually(
      async () => (await clusterNow()).status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'False'),
      'not Ready',
    );
    expect(condition.message).toBe('node group workers: MachineDeployment workers at 3 replicas, 3 Nodes still to join');
    expect((await store.list(containerInstances, ns)).items).toEqual([]);

    for (const node of ['node-a', 'node-b', 'node-c']) await store.create(containerInstances, mirror(node));
    await eventually(async () => (await clusterNow()).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True', 'Ready');
    expect((await clusterNow()).status?.nodeGroups).toEqual([{ name: 'workers', desiredSize: 3, currentSize: 3 }]);
    expect(await eventMessages()).toContain('node group workers: MachineDeployment workers replicas 1 → 3');
  });

  test('scale-in drains the empty Node, marks its Machine, and only then lowers replicas; a busy Node keeps its Machine', async () => {
    await createCluster(2);
    for (const node of ['node-a', 'node-b']) await store.create(containerInstances, mirror(node));
    await eventually(() => replicas() === 2, 'replicas 2');
    await runTask('web-1', 'demo-node-a');

    await setDesiredSize(1);
    await eventually(async () => (await instance('demo-node-b')).spec.status === 'DRAINING', 'node-b DRAINING');
    // Drained but not yet cordoned: its Machine is not named yet.
    const cordonWait = await eventually(async () => (await clusterNow()).status?.conditions?.find((c) => c.message.includes('cordoned')), 'the condition');
    expect(cordonWait.message).toBe('node group workers: demo-node-b waits for its Node to be cordoned');
    expect(targets.marked.size).toBe(0);
    await cordonDrainingNodes();
    await eventually(() => targets.marked.has('node-b'), 'the Machine of node-b marked');
    expect((await instance('demo-node-b')).spec.status).toBe('DRAINING');
    expect((await instance('demo-node-b')).metadata.annotations?.[machineDeletionAnnotation]).toBeDefined();
    await eventually(() => replicas() === 1, 'replicas 1');
    expect(targets.marked.has('node-a')).toBe(false);
    expect((await instance('demo-node-a')).spec.status).toBe('ACTIVE');

    // To zero: node-a is drained but keeps its Machine (and replicas stay at 1) while its task runs.
    await setDesiredSize(0);
    await eventually(async () => (await instance('demo-node-a')).spec.status === 'DRAINING', 'node-a DRAINING');
    const waiting = await eventually(async () => (await clusterNow()).status?.conditions?.find((c) => c.message.includes('drains')), 'a waiting condition');
    expect(waiting.message).toBe('node group workers: demo-node-a drains, 1 task still on it');
    expect(replicas()).toBe(1);
    expect(targets.marked.has('node-a')).toBe(false);

    await store.patch(tasks, ns, 'web-1', { status: { lastStatus: 'STOPPED' } }, 'status');
    await cordonDrainingNodes();
    await eventually(() => replicas() === 0 && targets.marked.has('node-a'), 'node-a marked, replicas 0');
    expect(await eventMessages()).toEqual(
      expect.arrayContaining([
        'node group workers: Node node-b is empty and drained; its Machine is marked for deletion',
        'node group workers: MachineDeployment workers replicas 2 → 1',
      ]),
    );
  });

  test('a Node without a Machine is never aimed at: replicas keep it, with a Warning', async () => {
    targets.withoutMachine.add('node-b');
    await createCluster(2);
    for (const node of ['node-a', 'node-b']) await store.create(containerInstances, mirror(node));
    await eventually(() => replicas() === 2, 'replicas 2');
    await runTask('web-1', 'demo-node-a');
    await setDesiredSize(1);
    await eventually(async () => (await instance('demo-node-b')).spec.status === 'DRAINING', 'node-b DRAINING');
    await cordonDrainingNodes();
    await eventually(
      async () => (await eventMessages()).some((m) => m.includes('Node node-b is empty and drained, but names no Cluster API Machine')),
      'the warning',
    );
    expect(replicas()).toBe(2);
  });

  test('a missing scale target is reported on the cluster', async () => {
    targets.replicasOf.clear();
    await createCluster(1);
    const condition = await eventually(
      async () => (await clusterNow()).status?.conditions?.find((c) => c.message.includes('cannot be scaled')),
      'the condition',
    );
    expect(condition).toMatchObject({
      status: 'False',
      message: expect.stringContaining('node group workers: MachineDeployment workers cannot be scaled: MachineDeployment workers not found') as unknown,
    });
  });
});
