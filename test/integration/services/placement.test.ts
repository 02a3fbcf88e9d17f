// ECS placement on the real kube-apiserver, simulated instances (no containers): strategies and
// constraints as users write them in manifests, applied with kubectl. Two node groups: `web` (4
// instances, zones a and b, tier web) and `batch` (2 instances, zone c, tier batch), 512 MiB each.
import type { ContainerInstance, Task } from '../../../src/api';
import { eventually, startHarness, waitForInstances, type Harness } from '../../support/berth-harness';
import { kubectlOk } from '../../env/env';
import { describedEvents } from '../../support/kubectl-describe';

let h: Harness;

const cluster = `apiVersion: berth.dev/v1alpha1
kind: Cluster
metadata:
  name: demo
spec:
  nodeGroups:
    - name: web
      type: managed
      provider: simulated
      instanceType: { cpu: 1024, memory: 512 }
      scaling: { minSize: 4, maxSize: 4, desiredSize: 4 }
      availabilityZones: [zone-a, zone-b]
      attributes: { tier: web }
    - name: batch
      type: managed
      provider: simulated
      instanceType: { cpu: 1024, memory: 512 }
      scaling: { minSize: 2, maxSize: 2, desiredSize: 2 }
      availabilityZones: [zone-c]
      attributes: { tier: batch }
`;

const taskDefinition = (name: string, memory: number, constraints = '') => `apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: ${name}
spec:
  networkMode: bridge
  containerDefinitions:
    - name: app
      image: app:simulated
      memory: ${memory}
${constraints}`;

const service = (name: string, body: string) => `apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: ${name}
spec:
  cluster: demo
  taskDefinition: ${name}
${body}`;

const list = async <T>(resource: string) => (await h.get<{ items: T[] }>(resource))?.items ?? [];
const instances = async () => new Map((await list<ContainerInstance>('containerinstances')).map((i) => [i.metadata.name, i]));
const tasksOf = async (service: string) =>
  (await list<Task>('tasks')).filter((t) => t.spec.group === `service:${service}` && t.status?.lastStatus !== 'STOPPED');

/** The service's tasks once `count` run, as their instances' attribute `attribute` (or name). */
async function placedBy(service: string, count: number, attribute?: string): Promise<string[]> {
  const byName = await instances();
  const placed = await eventually(
    async () => {
      const tasks = await tasksOf(service);
      return tasks.length === count && tasks.every((t) => t.status?.lastStatus === 'RUNNING') ? tasks.map((t) => t.spec.containerInstance!) : undefined;
    },
    `${count} tasks of ${service} running`,
    60_000,
    250,
    () => h.describe(),
  );
  return placed.map((name) => (attribute ? (byName.get(name)?.spec.attributes?.[attribute] ?? '?') : name)).sort();
}

beforeAll(async () => {
  h = await startHarness({ prefix: 'placement' });
  await h.apply(cluster);
  await waitForInstances(h, 6);
});

afterAll(async () => {
  await h?.stop();
});

test('memberOf keeps a service on its tier; spread over zones then binpack on memory fills one instance per zone', async () => {
  await h.apply(taskDefinition('web', 128));
  await h.apply(
    service(
      'web',
      `  desiredCount: 6
  placementConstraints:
    - type: memberOf
      expression: attribute:tier == web and attribute:ecs.availability-zone in [zone-a, zone-b]
  placementStrategy:
    - type: spread
      field: attribute:ecs.availability-zone
    - type: binpack
      field: memory
`,
    ),
  );
  expect(await placedBy('web', 6, 'ecs.availability-zone')).toEqual(['zone-a', 'zone-a', 'zone-a', 'zone-b', 'zone-b', 'zone-b']);
  // 4 tasks of 128 MiB fit an instance of 512 MiB: binpack puts each zone's 3 on one instance.
  expect(new Set(await placedBy('web', 6)).size).toBe(2);
});

test("a DAEMON service runs only on the instances its task definition's memberOf accepts", async () => {
  await h.apply(taskDefinition('agent', 64, '  placementConstraints:\n    - type: memberOf\n      expression: attribute:tier == batch\n'));
  await h.apply(service('agent', '  schedulingStrategy: DAEMON\n'));
  expect(await placedBy('agent', 2, 'tier')).toEqual(['batch', 'batch']);
});

test('a task that fits nowhere waits with ECS’s reason in its condition and a service Event', async () => {
  await h.apply(taskDefinition('solo', 64));
  await h.apply(
    service(
      'solo',
      `  desiredCount: 3
  placementConstraints:
    - type: distinctInstance
    - type: memberOf
      expression: attribute:ecs.availability-zone == zone-c
`,
    ),
  );
  // Two instances in zone-c, distinctInstance: the third task has nowhere to go.
  const waiting = await eventually(
    async () => (await tasksOf('solo')).find((t) => t.status?.conditions?.some((c) => c.type === 'Placed' && c.status === 'False')),
    'one task of solo waiting',
    60_000,
    250,
    () => h.describe(),
  );
  const message = waiting.status!.conditions!.find((c) => c.type === 'Placed')!.message;
  expect(message).toBe(
    'no container instance met all of its requirements. The closest matching container-instance demo-batch-0 encountered error "DistinctInstance placement constraint unsatisfied". ' +
      'Of 6 instances: 2 excluded by distinctInstance, 4 excluded by memberOf(attribute:ecs.availability-zone == zone-c).',
  );
  const events = await eventually(
    async () => {
      const found = (await list<{ reason: string; message: string; involvedObject: { kind: string; name: string } }>('events')).filter(
        (e) => e.involvedObject.kind === 'Service' && e.involvedObject.name === 'solo' && e.reason === 'PlacementFailed',
      );
      return found.length > 0 ? found : undefined;
    },
    'the service says why',
    30_000,
  );
  expect(events.map((e) => e.message)).toEqual([`service solo was unable to place a task because ${message}`]);
  // kubectl describe bsvc solo says the same, whole.
  expect((await describedEvents('bsvc', 'solo', h.namespace)).filter((e) => e.reason === 'PlacementFailed')).toEqual([
    expect.objectContaining({ type: 'Warning', message: `service solo was unable to place a task because ${message}` }),
  ]);
  expect(
    (await tasksOf('solo'))
      .filter((t) => t.spec.containerInstance)
      .map((t) => t.spec.containerInstance)
      .sort(),
  ).toEqual(['demo-batch-0', 'demo-batch-1']);
});

test('kubectl get -o wide shows what placement reads: each instance’s zone and instance type, each task’s group and start', async () => {
  const wideInstances = await kubectlOk(['get', 'containerinstances', '-n', h.namespace, '-o', 'wide']);
  expect(wideInstances).toMatch(/\bZONE\s+INSTANCE TYPE\s+NODE\s*\n/);
  expect(wideInstances).toMatch(/^demo-batch-0\s.*\szone-c\s+1024cpu-512mb\s*$/m); // no Node: a simulated instance
  const wideTasks = await kubectlOk(['get', 'btask', '-n', h.namespace, '-o', 'wide']);
  expect(wideTasks).toMatch(/\bGROUP\s+CAPACITY PROVIDER\s+STARTED\s+STOPPED REASON\s*\n/);
  // RUNNING tasks of a service without a capacity provider strategy: a group, a start time, no stop reason.
  expect(wideTasks).toMatch(/^solo-\S+\s+demo\s+solo:1\s+RUNNING\s.*\sservice:solo\s+\d+s\s*$/m);
  const wideDefinitions = await kubectlOk(['get', 'btd', 'solo', '-n', h.namespace, '-o', 'wide']);
  expect(wideDefinitions).toMatch(/\bCPU\s+MEMORY\s+NETWORK MODE\s+COMPATIBILITIES\s*\n/);
  // No task-level cpu or memory (empty cells); bridge mode keeps it off Fargate.
  expect(wideDefinitions).toMatch(/^solo\s+solo\s+1\s+ACTIVE\s+\S+\s+bridge\s+\["EC2"\]\s*$/m);
});
