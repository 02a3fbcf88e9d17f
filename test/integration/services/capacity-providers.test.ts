// Capacity provider strategies on the real kube-apiserver, simulated instances: a service's base and
// weights split its tasks over two node groups as ECS splits them, each task records its provider and
// lands on that group's instances; a service with no strategy takes the cluster's default.
import type { ContainerInstance, Task } from '../../../src/api';
import { eventually, startHarness, waitForInstances, type Harness } from '../../support/berth-harness';

let h: Harness;

const group = (name: string) => `    - name: ${name}
      type: managed
      provider: simulated
      instanceType: { cpu: 2048, memory: 2048 }
      scaling: { minSize: 2, maxSize: 2, desiredSize: 2 }
`;

const cluster = `apiVersion: berth.dev/v1alpha1
kind: Cluster
metadata:
  name: demo
spec:
  nodeGroups:
${group('on-demand')}${group('spot')}  defaultCapacityProviderStrategy:
    - capacityProvider: spot
      weight: 1
`;

const taskDefinition = (name: string) => `apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: ${name}
spec:
  containerDefinitions:
    - name: app
      image: app:simulated
      memory: 64
`;

const service = (name: string, desiredCount: number, strategy = '') => `apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: ${name}
spec:
  cluster: demo
  taskDefinition: ${name}
  desiredCount: ${desiredCount}
${strategy}`;

const list = async <T>(resource: string) => (await h.get<{ items: T[] }>(resource))?.items ?? [];

/** provider → how many of the service's running tasks it has, once `count` run; each on an instance of its provider. */
async function split(name: string, count: number): Promise<Record<string, number>> {
  const tasks = await eventually(
    async () => {
      const live = (await list<Task>('tasks')).filter((t) => t.spec.group === `service:${name}` && t.status?.lastStatus === 'RUNNING');
      return live.length === count ? live : undefined;
    },
    `${count} tasks of ${name} running`,
    60_000,
    250,
    () => h.describe(),
  );
  const groupOf = new Map((await list<ContainerInstance>('containerinstances')).map((i) => [i.metadata.name, i.spec.nodeGroup]));
  const counts: Record<string, number> = {};
  for (const task of tasks) {
    expect(groupOf.get(task.spec.containerInstance!)).toBe(task.spec.capacityProviderName);
    counts[task.spec.capacityProviderName!] = (counts[task.spec.capacityProviderName!] ?? 0) + 1;
  }
  return counts;
}

beforeAll(async () => {
  h = await startHarness({ prefix: 'capacity-providers' });
  await h.apply(cluster);
  await waitForInstances(h, 4);
});

afterAll(async () => {
  await h?.stop();
});

test('base 1 on on-demand, then weights 1 : 3: five tasks split 2 / 3, and a scale-out continues the split', async () => {
  await h.apply(taskDefinition('web'));
  const strategy = `  capacityProviderStrategy:
    - capacityProvider: on-demand
      base: 1
      weight: 1
    - capacityProvider: spot
      weight: 3
`;
  await h.apply(service('web', 5, strategy));
  // Task 1 is the base; of the next four, one on on-demand and three on spot.
  expect(await split('web', 5)).toEqual({ 'on-demand': 2, spot: 3 });
  await h.apply(service('web', 9, strategy));
  // 8 past the base: 2 and 6.
  expect(await split('web', 9)).toEqual({ 'on-demand': 3, spot: 6 });
});

test("a service with neither launchType nor strategy takes the cluster's default", async () => {
  await h.apply(taskDefinition('worker'));
  await h.apply(service('worker', 3));
  expect(await split('worker', 3)).toEqual({ spot: 3 });
});
