import {
  clusters,
  type Cluster,
  containerInstances,
  services,
  taskDefinitions,
  tasks as taskType,
  validatorFor,
  type ContainerInstance,
  type Service,
  type Task,
} from '../api';
import type { AgentHost } from '../agent/agent-host';
import { eventually } from '../runtime/eventually';
import type { Manager } from '../runtime/manager';
import { MemoryStore } from '../store/memory/memory-store';
import type { KubeObject } from '../store/object-store';
import { CountingStore } from '../store/testing/counting-store';
import { events as eventType, leases } from '../store/builtin-types';
import type { CoreEvent } from '../runtime/events';
import { clusterManifest, serviceManifest, startControlPlane, taskDefinitionManifest, type ControlPlane } from './control-plane';

/**
 * How many writes Berth spends, on the whole control plane with simulated instances: per task from
 * creation to RUNNING, per deployment in Events, and nothing but heartbeat Lease renewals when idle.
 */

const ns = 'economy';
jest.setTimeout(30_000);

describe('API economy', () => {
  let counting: CountingStore;
  let plane: ControlPlane;
  let manager: Manager;
  let host: AgentHost;
  const instances = 5;

  beforeEach(async () => {
    const store = new MemoryStore({ validatorFor });
    counting = new CountingStore(store);
    plane = startControlPlane(counting.store, {
      simulated: { pullMs: 5, startMs: 5, healthyMs: 5 },
      agents: { statusReportIntervalMs: 50, leaseRenewIntervalMs: 50, sweepIntervalMs: 60_000 },
    });
    ({ manager, host } = plane);
    await store.create(clusters, clusterManifest(ns, { instances }));
    await store.create(
      taskDefinitions,
      taskDefinitionManifest(ns, 'web', [
        { name: 'web', image: 'web:1', memory: 128 },
        { name: 'sidecar', image: 'log:1', memory: 64, essential: false },
      ]),
    );
    await eventually(
      async () => (await store.list<ContainerInstance>(containerInstances, ns)).items.filter((i) => i.status?.agentConnected).length === instances,
      'every instance connected',
    );
  });

  afterEach(() => plane.stop());

  const store = () => counting.store;
  const steady = async (name: string, count: number) => {
    const service = await store().get<Service>(services, ns, name);
    return service?.status?.runningCount === count && service.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  };

  async function createService(name: string, desiredCount: number): Promise<void> {
    await store().create(services, serviceManifest(ns, name, { taskDefinition: 'web', desiredCount }));
  }

  test('at most 4 writes per task from creation to RUNNING, under 1 % of writes refused, one DeploymentStarted', async () => {
    counting.reset();
    await createService('web', 30);
    await eventually(() => steady('web', 30), '30 tasks RUNNING and the service steady');

    const tasks = (await store().list<Task>(taskType, ns)).items;
    expect(tasks).toHaveLength(30);
    const taskWrites = counting.writes.filter((w) => w.resource === 'tasks.berth.dev');
    expect(taskWrites.filter((w) => w.outcome === 'ok').length / tasks.length).toBeLessThanOrEqual(4);
    const all = counting.writes.filter((w) => w.resource !== 'leases.coordination.k8s.io');
    expect(all.filter((w) => w.outcome !== 'ok').length / all.length).toBeLessThan(0.01);

    const events = (await store().list<CoreEvent>(eventType, ns)).items.filter((e) => e.involvedObject.kind === 'Service');
    expect(events.filter((e) => e.reason === 'DeploymentStarted').map((e) => e.count)).toEqual([1]);
    const started = events
      .filter((e) => e.reason === 'TasksStarted')
      .reduce((sum, e) => sum + Number(/has started (\d+) task/.exec(e.message)?.[1]) * e.count, 0);
    expect(started).toBe(30);
  });

  test('idle, the only writes are heartbeat Lease renewals, and no service is reconciled for them', async () => {
    for (const name of ['a', 'b', 'c']) await createService(name, 4);
    for (const name of ['a', 'b', 'c']) await eventually(() => steady(name, 4), `service ${name} steady`);
    // Let the last status reports land (instances report at most every 50 ms, the cluster its task counts every 5 s), then count from a quiet start.
    await eventually(async () => {
      const all = (await store().list<ContainerInstance>(containerInstances, ns)).items;
      return all.reduce((sum, i) => sum + (i.status?.runningTasksCount ?? 0), 0) === 12;
    }, 'instance reports caught up');
    await eventually(async () => (await store().get<Cluster>(clusters, ns, 'demo'))?.status?.runningTasksCount === 12, 'the cluster counts caught up');
    // Reconciles already queued for the last task changes run their course first.
    await eventually(
      async () => (await gauge('workqueue_depth', 'service')) + (await gauge('controller_runtime_active_workers', 'service')) === 0,
      'the service queue idle',
    );
    counting.reset();
    const serviceReconciles = () => reconciles('service');
    const before = await serviceReconciles();

    await eventually(() => counting.count('leases.coordination.k8s.io', 'ok') >= 4 * instances, 'four renewals of every Lease');
    const others = counting.writes.filter((w) => w.resource !== 'leases.coordination.k8s.io');
    expect(others).toEqual([]);
    expect(counting.writes.every((w) => w.verb === 'update')).toBe(true);
    expect(await serviceReconciles()).toBe(before);
  });

  async function gauge(name: string, controller: string): Promise<number> {
    const metric = await manager.registry.getSingleMetric(name)!.get();
    return metric.values.filter((v) => v.labels.controller === controller).reduce((sum, v) => sum + v.value, 0);
  }

  async function reconciles(controller: string): Promise<number> {
    const metric = await manager.registry.getSingleMetric('controller_runtime_reconcile_total')!.get();
    return metric.values.filter((v) => v.labels.controller === controller).reduce((sum, v) => sum + v.value, 0);
  }

  test('a lapsed heartbeat Lease turns agentConnected false, and a renewed one true again', async () => {
    const [instance] = (await store().list<ContainerInstance>(containerInstances, ns)).items;
    await host.stop();
    const leaseOf = async () =>
      (await store().list<KubeObject & { spec: { renewTime: string; leaseDurationSeconds: number } }>(leases, ns)).items.find(
        (l) => l.metadata.labels?.['berth.dev/container-instance'] === instance.metadata.name,
      )!;
    // As if the agent had gone silent long ago: renewed 2 s ago for 1 s.
    const silent = await leaseOf();
    const ago = new Date(Date.now() - 2000).toISOString().replace('Z', '000Z');
    await store().update(leases, { ...silent, spec: { ...silent.spec, leaseDurationSeconds: 1, renewTime: ago } });
    await eventually(
      async () => (await store().get<ContainerInstance>(containerInstances, ns, instance.metadata.name))?.status?.agentConnected === false,
      'disconnected',
    );
    const events = (await store().list<CoreEvent>(eventType, ns)).items;
    expect(events.some((e) => e.reason === 'AgentDisconnected' && e.involvedObject.name === instance.metadata.name)).toBe(true);

    const lease = await leaseOf();
    await store().update(leases, { ...lease, spec: { ...lease.spec, leaseDurationSeconds: 3600, renewTime: new Date().toISOString().replace('Z', '000Z') } });
    await eventually(
      async () => (await store().get<ContainerInstance>(containerInstances, ns, instance.metadata.name))?.status?.agentConnected === true,
      'connected again',
    );
  });
});
