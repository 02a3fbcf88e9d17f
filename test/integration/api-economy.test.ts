// What Berth spends in writes through the real API server, which hands every object back with its own
// key order: at most 4 writes per task to RUNNING, under 1 % refused, and — while resyncs make every
// controller reconcile every object again and again — no write at all but heartbeat Lease renewals.
import { randomUUID } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import {
  clusters,
  containerInstances,
  type Cluster,
  services,
  taskDefinitions,
  tasks as taskType,
  type ContainerInstance,
  type Service,
  type Task,
} from '../../src/api';
import { AgentHost } from '../../src/agent/agent-host';
import { inProcessInstanceProviders } from '../../src/agent/instance-providers';
import { addControllers } from '../../src/controllers';
import { eventually } from '../../src/runtime/eventually';
import { silentLogger } from '../../src/runtime/logger';
import { Manager } from '../../src/runtime/manager';
import { KubeStore } from '../../src/store/kube/kube-store';
import { CountingStore } from '../../src/store/testing/counting-store';
import { clusterManifest, serviceManifest, taskDefinitionManifest } from '../../src/testing/control-plane';
import { kubectl, kubectlOk, testEnv } from '../env/env';

const namespace = `economy-${randomUUID().slice(0, 6)}`;
const resyncMs = 500;
let counting: CountingStore;
let manager: Manager;
let host: AgentHost;
let running: Promise<void>;

beforeAll(async () => {
  await kubectlOk(['create', 'namespace', namespace]);
  const config = new KubeConfig();
  config.loadFromFile(testEnv().kubeconfig);
  counting = new CountingStore(new KubeStore(config));
  manager = new Manager({
    store: counting.store,
    logger: silentLogger(),
    metricsServer: false,
    healthServer: false,
    informerDefaults: { resyncPeriodMs: resyncMs },
  });
  host = new AgentHost({ manager, statusReportIntervalMs: 200 });
  addControllers(manager, { namespace, instanceProviders: inProcessInstanceProviders(host, { simulated: { pullMs: 20, startMs: 20, healthyMs: 20 } }) });
  running = manager.start();
});

afterAll(async () => {
  // While the controllers still run, so that they release the finalizers of what the namespace holds.
  await kubectl(['delete', 'namespace', namespace, '--wait=false']);
  await eventually(async () => (await kubectl(['get', 'namespace', namespace])).code !== 0, 'the namespace to go', { timeoutMs: 60_000, intervalMs: 250 });
  await host.stop();
  await manager.stop();
  await running;
});

async function reconciles(): Promise<number> {
  const metric = await manager.registry.getSingleMetric('controller_runtime_reconcile_total')!.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

test('writes per task, conflicts, and not one write while resyncs reconcile a steady world', async () => {
  const store = counting.store;
  await store.create(clusters, clusterManifest(namespace, { instances: 3 }));
  await store.create(
    taskDefinitions,
    taskDefinitionManifest(namespace, 'web', [{ name: 'web', image: 'web:1', memory: 128, environment: [{ name: 'A', value: '1' }] }]),
  );
  // Instances ready first: a task created while none is connected waits, and writes why (one more write, rightly).
  await eventually(
    async () =>
      (await store.list<ContainerInstance>(containerInstances, namespace)).items.filter((i) => i.status?.status === 'ACTIVE' && i.status.agentConnected)
        .length === 3,
    'three instances ACTIVE and connected',
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  counting.reset();
  await store.create(services, serviceManifest(namespace, 'web', { desiredCount: 12 }));
  const steady = async () => {
    const service = await store.get<Service>(services, namespace, 'web');
    return service?.status?.runningCount === 12 && service.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  };
  await eventually(steady, 'web steady with 12 RUNNING tasks', { timeoutMs: 60_000, intervalMs: 100 });

  const tasks = (await store.list<Task>(taskType, namespace)).items;
  expect(tasks).toHaveLength(12);
  const taskWrites = counting.matching({ resource: 'tasks.berth.dev', outcome: 'ok' });
  // Per task, not only on average, and naming the writes: create, bind, PENDING, RUNNING.
  const writesByTask = new Map<string, string[]>();
  for (const w of counting.matching({ resource: 'tasks.berth.dev' })) writesByTask.set(w.name, [...(writesByTask.get(w.name) ?? []), `${w.verb}:${w.outcome}`]);
  expect([...writesByTask].filter(([, writes]) => writes.length > 4)).toEqual([]);
  expect(taskWrites.length / tasks.length).toBeLessThanOrEqual(4);
  const all = counting.writes.filter((w) => w.resource !== 'leases.coordination.k8s.io');
  expect(all.filter((w) => w.outcome === 'conflict').length / all.length).toBeLessThan(0.01);

  // Quiet: let the coalesced reports (instances every 200 ms, the cluster's counts every 5 s) land first.
  await eventually(
    async () => (await store.get<{ status?: { runningTasksCount?: number } } & Service>(clusters, namespace, 'demo'))?.status?.runningTasksCount === 12,
    'the cluster counts caught up',
    { timeoutMs: 20_000, intervalMs: 100 },
  );
  counting.reset();
  const quietFrom = (await store.get<Cluster>(clusters, namespace, 'demo'))?.status;
  const before = await reconciles();
  // Every resync re-delivers every cached object: services, tasks, instances, the cluster, the task definition.
  await eventually(async () => (await reconciles()) - before >= 4 * (12 + 3 + 3), 'four resyncs of everything', { timeoutMs: 30_000, intervalMs: 100 });
  const quietWrites = counting.writes.filter((w) => w.resource !== 'leases.coordination.k8s.io');
  // A write here is a bug: say what the status was and became, so that the cause shows in the failure.
  if (quietWrites.length > 0) {
    const quietTo = (await store.get<Cluster>(clusters, namespace, 'demo'))?.status;
    throw new Error(
      `writes while quiet: ${JSON.stringify(quietWrites)}\ncluster status before: ${JSON.stringify(quietFrom)}\nafter: ${JSON.stringify(quietTo)}`,
    );
  }
});
