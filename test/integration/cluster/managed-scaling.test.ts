// Capacity-provider managed scaling on the real kube-apiserver: a managed node group of simulated
// instances (no containers; tasks of 128 MiB, 2 per instance of 256 MiB) under a REPLICA service.
// The group grows while tasks wait for capacity, until none waits; when the service shrinks it removes
// only instances without tasks, ending at the size M / N × 100 = 100 calls for; with targetCapacity 50
// it keeps as many spare instances as it uses. Every wait is on a condition, bounded in time.
import type { Cluster, ContainerInstance, Service, Task } from '../../../src/api';
import { eventually, startHarness, waitForInstances, type Harness } from '../../support/berth-harness';

let h: Harness;

function cluster(targetCapacity: number): string {
  return `apiVersion: berth.dev/v1alpha1
kind: Cluster
metadata:
  name: demo
spec:
  nodeGroups:
    - name: general
      type: managed
      provider: simulated
      instanceType: { cpu: 1024, memory: 256 }
      scaling: { minSize: 1, maxSize: 10, desiredSize: 1 }
      managedScaling:
        targetCapacity: ${targetCapacity}
        instanceWarmupPeriod: 0
        scaleInCooldownSeconds: 3
`;
}

const taskDefinition = `apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: web
spec:
  networkMode: bridge
  containerDefinitions:
    - name: web
      image: web:simulated
      memory: 128
`;

const service = (desiredCount: number) => `apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: web
spec:
  cluster: demo
  taskDefinition: web
  desiredCount: ${desiredCount}
`;

const list = async <T>(resource: string) => (await h.get<{ items: T[] }>(resource))?.items ?? [];
const liveTasks = async () => (await list<Task>('tasks')).filter((t) => t.status?.lastStatus !== 'STOPPED');
const groupStatus = async () => (await h.get<Cluster>('bcl/demo'))?.status?.nodeGroups?.find((g) => g.name === 'general');
const instances = async () => (await list<ContainerInstance>('containerinstances')).filter((i) => !i.metadata.deletionTimestamp);

/** Where the group stands, for a timed-out wait. */
const detail = async () =>
  `${JSON.stringify(await groupStatus())}\n${(await instances()).map((i) => `${i.metadata.name} ${i.spec.status}`).join('\n')}\n${await h.describe()}`;

/** Once `desiredCount` tasks are RUNNING, nothing else lives, and the group has settled: the tasks, by instance. */
async function settled(desiredCount: number, what: string): Promise<Map<string, string>> {
  return eventually(
    async () => {
      const tasks = await liveTasks();
      if (tasks.length !== desiredCount || !tasks.every((t) => t.status?.lastStatus === 'RUNNING' && t.spec.containerInstance)) return undefined;
      const status = await groupStatus();
      const current = await instances();
      if (current.some((i) => i.spec.status !== 'ACTIVE') || current.length !== status?.desiredSize) return undefined;
      return new Map(tasks.map((t) => [t.metadata.name, t.spec.containerInstance!]));
    },
    what,
    90_000,
    250,
    detail,
  );
}

beforeAll(async () => {
  h = await startHarness({ prefix: 'managed-scaling' });
  await h.apply(cluster(100));
  await waitForInstances(h, 1);
  await h.apply(taskDefinition);
  await h.apply(service(2));
});

afterAll(async () => {
  await h?.stop();
});

test('2 tasks fit the starting instance: nothing waits, nothing scales', async () => {
  await settled(2, '2 tasks on 1 instance');
  // The reservation alone is written with the task counts, at most every 5 s: wait for it.
  await eventually(async () => (await groupStatus())?.instancesNeeded === 1, 'the reservation reported', 30_000, 250, detail);
  expect(await groupStatus()).toMatchObject({ desiredSize: 1, currentSize: 1, instancesNeeded: 1, capacityProviderReservation: 100 });
  expect((await list<{ reason: string }>('events')).filter((e) => e.reason.startsWith('NodeGroupScaled'))).toEqual([]);
});

test('a service grown past the capacity launches instances until no task waits, at reservation 100 %', async () => {
  await h.apply(service(7));
  const placed = await settled(7, '7 tasks running on 4 instances');
  // 7 tasks of 128 MiB, 2 per instance: 4 instances, all of them needed.
  expect(new Set(placed.values()).size).toBe(4);
  expect(await groupStatus()).toMatchObject({ desiredSize: 4, currentSize: 4, instancesNeeded: 4, capacityProviderReservation: 100 });
  const events = await list<{ reason: string; message: string }>('events');
  const scaledOut = events.filter((e) => e.reason === 'NodeGroupScaledOut').map((e) => e.message);
  expect(scaledOut.length).toBeGreaterThan(0);
  for (const message of scaledOut)
    expect(message).toMatch(/^scaled node group general out from \d+ to \d+ instances: reservation \d+% \(\d+ instances? needed, \d+ running\), target 100%$/);
  expect(await h.manager.registry.getSingleMetricAsString('berth_capacity_provider_reservation')).toContain(
    `berth_capacity_provider_reservation{namespace="${h.namespace}",cluster="demo",capacity_provider="general"} 100`,
  );
});

test('when the service shrinks it removes only empty instances, ending where M / N × 100 = 100', async () => {
  await h.apply(service(3));
  // The service stops 4 tasks; the 3 left keep their instances. Those are M, and the group ends there.
  const remaining = await eventually(
    async () => {
      const tasks = await liveTasks();
      return (
        tasks.length === 3 && tasks.every((t) => t.status?.lastStatus === 'RUNNING') && new Map(tasks.map((t) => [t.metadata.name, t.spec.containerInstance!]))
      );
    },
    'the service at 3 tasks',
    60_000,
    250,
    detail,
  );
  const needed = new Set(remaining.values()).size;
  const placed = await eventually(
    async () => {
      const status = await groupStatus();
      return status?.desiredSize === needed && status.capacityProviderReservation === 100 && (await settled(3, 'the group settled'));
    },
    `the group at ${needed} instances`,
    90_000,
    250,
    detail,
  );
  // No task was moved or replaced: no instance that ran one was removed.
  expect(placed).toEqual(remaining);
  expect((await instances()).map((i) => i.metadata.name).sort()).toEqual([...new Set(remaining.values())].sort());
  const scaledIn = (await list<{ reason: string; message: string }>('events')).filter((e) => e.reason === 'NodeGroupScaledIn');
  expect(scaledIn.length).toBeGreaterThan(0);
});

test('with targetCapacity 50 the group keeps as many spare instances as it uses', async () => {
  const needed = (await groupStatus())?.instancesNeeded ?? 0;
  expect(needed).toBeGreaterThan(0);
  await h.apply(cluster(50));
  await eventually(
    async () => {
      const status = await groupStatus();
      return status?.desiredSize === 2 * needed && status.capacityProviderReservation === 50 && (await instances()).length === 2 * needed;
    },
    `the group at ${2 * needed} instances, reservation 50 %`,
    60_000,
    250,
    detail,
  );
  // The spare instances stay: the reservation sits at the target, so nothing scales in.
  expect((await h.get<Service>('bsvc/web'))?.status?.runningCount).toBe(3);
});
