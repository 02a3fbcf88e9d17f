// Node groups of Nodes on kwok's fake Nodes (their Pods go Running without containers): a DAEMON service
// follows the Nodes as they join and leave the group, a REPLICA service's placement honours spread over
// the zone label and a memberOf constraint on Node attributes, and a cordoned Node's tasks move to the
// others with every state of the drain within the deployment's bounds. The Nodes carry a label of this run
// only, so no other suite's group selects them; they are deleted at the end. The waits for a Node to be
// Ready allow two minutes: on a busy machine kwok is the slowest part.
import type { V1Pod } from '@kubernetes/client-node';
import type { ContainerInstance, Task } from '../../../src/api';
import { kubectl, kubectlOk } from '../../env/env';
import { eventually, startHarness, type Harness } from '../../support/berth-harness';
import { TaskLedger } from '../faults/task-ledger';

let h: Harness;
// Several bounded waits in one test (each says what it waits for when it runs out).
jest.setTimeout(300_000);
const run = `kwok-${Date.now().toString(36)}`;
const nodeName = (i: number) => `${run}-${i}`;
const zones = ['zone-a', 'zone-b', 'zone-c'];

function fakeNode(i: number): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: nodeName(i),
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
      labels: {
        type: 'kwok',
        'berth-test-run': run,
        'kubernetes.io/hostname': nodeName(i),
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'topology.kubernetes.io/zone': zones[i % zones.length],
        'node.kubernetes.io/instance-type': i === 0 ? 'm5.xlarge' : 'm5.large',
      },
    },
    spec: { taints: [{ key: 'kwok.x-k8s.io/node', value: 'fake', effect: 'NoSchedule' }] },
    status: { capacity: { cpu: '4', memory: '8Gi', pods: '110' }, allocatable: { cpu: '4', memory: '8Gi', pods: '110' } },
  });
}

const cluster = `apiVersion: berth.dev/v1alpha1
kind: Cluster
metadata:
  name: fleet
spec:
  nodeGroups:
    - name: kwok
      type: selfManaged
      nodes:
        selector: { matchLabels: { berth-test-run: ${run} } }
        tolerations: [{ key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule }]
`;

const taskDefinition = `apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: agent
spec:
  containerDefinitions:
    - name: agent
      image: fake:latest
      cpu: 256
      memory: 128
`;

const daemon = `apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: node-agent
spec:
  cluster: fleet
  taskDefinition: agent
  schedulingStrategy: DAEMON
`;

const replica = `apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: web
spec:
  cluster: fleet
  taskDefinition: agent
  desiredCount: 6
  placementConstraints:
    - { type: memberOf, expression: "attribute:ecs.instance-type == m5.large" }
  placementStrategy:
    - { type: spread, field: "attribute:ecs.availability-zone" }
`;

const tasks = async () => ((await h.get<{ items: Task[] }>('tasks'))?.items ?? []).filter((t) => t.status?.lastStatus !== 'STOPPED');
const runningOf = async (service: string) =>
  (await tasks()).filter((t) => t.metadata.labels?.['berth.dev/service'] === service && t.status?.lastStatus === 'RUNNING');
const instances = async () => (await h.get<{ items: ContainerInstance[] }>('containerinstances'))?.items ?? [];
const pods = async () => (await h.get<{ items: V1Pod[] }>('pods'))?.items ?? [];

beforeAll(async () => {
  for (const i of [0, 1, 2, 3]) await kubectlOk(['create', '-f', '-'], fakeNode(i));
  h = await startHarness({ prefix: 'kwok-nodes', nodes: true });
  await h.apply(cluster);
  await h.apply(taskDefinition);
});

afterAll(async () => {
  await h.stop();
  await kubectl(['delete', 'nodes', '-l', `berth-test-run=${run}`, '--wait=false']);
});

test('every selected fake Node is mirrored, with its zone and instance type as attributes', async () => {
  const mirrored = await eventually(
    async () => {
      const all = await instances();
      return all.length === 4 && all.every((i) => i.status?.agentConnected) ? all : undefined;
    },
    'four connected instances',
    120_000,
  );
  const byNode = new Map(mirrored.map((i) => [i.spec.nodeName, i]));
  expect(byNode.get(nodeName(1))?.spec.attributes).toMatchObject({ 'ecs.availability-zone': 'zone-b', 'ecs.instance-type': 'm5.large' });
  expect(byNode.get(nodeName(0))?.spec.registeredResources).toEqual({ cpu: 4096, memory: 8192 });
});

test('a DAEMON service runs one task per Node, and follows Nodes as they join and leave', async () => {
  await h.apply(daemon);
  const onNodes = async () => (await runningOf('node-agent')).map((t) => t.spec.containerInstance).sort();
  await eventually(
    async () => ((await onNodes()).length === 4 ? true : undefined),
    'four DAEMON tasks',
    90_000,
    250,
    () => h.describe(),
  );
  const daemonPods = (await pods()).filter((p) => p.metadata?.labels?.['berth.dev/service'] === 'node-agent');
  expect(daemonPods.map((p) => p.spec?.nodeName).sort()).toEqual([0, 1, 2, 3].map(nodeName).sort());
  // The group's toleration lets the Pods onto the tainted Nodes.
  expect(daemonPods[0].spec?.tolerations).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'kwok.x-k8s.io/node', operator: 'Exists' })]));

  await kubectlOk(['create', '-f', '-'], fakeNode(4));
  await eventually(
    async () => ((await onNodes()).length === 5 ? true : undefined),
    'a DAEMON task on the new Node',
    120_000,
    250,
    () => h.describe(),
  );
  await kubectlOk(['delete', 'node', nodeName(4)]);
  await eventually(
    async () => ((await onNodes()).length === 4 && !(await instances()).some((i) => i.spec.nodeName === nodeName(4)) ? true : undefined),
    'the Node gone from the group, and its task with it',
    90_000,
    250,
    () => h.describe(),
  );
});

test('placement honours memberOf and spread over zones on Node attributes', async () => {
  await h.apply(replica);
  const placed = await eventually(
    async () => {
      const r = await runningOf('web');
      return r.length === 6 ? r : undefined;
    },
    'six web tasks',
    90_000,
    250,
    () => h.describe(),
  );
  const nodeOf = new Map((await instances()).map((i) => [i.metadata.name, i]));
  const perZone = new Map<string, number>();
  for (const task of placed) {
    const instance = nodeOf.get(task.spec.containerInstance!)!;
    // memberOf: never the m5.xlarge Node.
    expect(instance.spec.attributes?.['ecs.instance-type']).toBe('m5.large');
    const zone = instance.spec.attributes!['ecs.availability-zone'];
    perZone.set(zone, (perZone.get(zone) ?? 0) + 1);
  }
  // Nodes 1, 2, 3 are m5.large in zones b, c, a: six tasks spread two per zone.
  expect([...perZone.values()]).toEqual([2, 2, 2]);
});

test("a cordoned Node's tasks move to the other Nodes within the deployment bounds", async () => {
  const instanceOfNode = (await instances()).find((i) => i.spec.nodeName === nodeName(1))!;
  // Every state of the service's tasks through the drain, from the API server's watch: with the defaults
  // (minimumHealthyPercent 100, maximumPercent 200) and 6 tasks, ≥ 6 RUNNING and healthy and ≤ 12 not
  // STOPPED, the drained Node's tasks counted beside their replacements.
  const ledger = new TaskLedger(h.namespace);
  await ledger.start();
  ledger.checkBoundsThroughDrain({ desiredCount: 6, minimumHealthyPercent: 100, maximumPercent: 200, service: 'web' });
  await kubectlOk(['cordon', nodeName(1)]);
  const after = await eventually(
    async () => {
      const r = await runningOf('web');
      return r.length === 6 && !r.some((t) => t.spec.containerInstance === instanceOfNode.metadata.name) ? r : undefined;
    },
    'no web task left on the cordoned Node',
    120_000,
    250,
    () => h.describe(),
  );
  // Still never on the m5.xlarge Node: the two zones left share the six tasks.
  const byName = new Map((await instances()).map((i) => [i.metadata.name, i]));
  expect(after.every((t) => byName.get(t.spec.containerInstance!)?.spec.attributes?.['ecs.instance-type'] === 'm5.large')).toBe(true);
  expect((await instances()).find((i) => i.spec.nodeName === nodeName(1))?.spec.status).toBe('DRAINING');
  ledger.stop();
  expect(ledger.violations).toEqual([]);
  // The drain moved tasks (some were on the Node) and never went under the floor.
  expect(ledger.seen.maxNotStopped).toBeGreaterThan(6);
  expect(ledger.seen.minHealthy).toBe(6);
});
