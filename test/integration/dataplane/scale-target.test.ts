// A managed group of Nodes on kwok, scaled through a Cluster API MachineDeployment (the real CRDs, with a
// test controller standing in for Cluster API: test/support/machine-deployments.ts). A growing service makes
// managed scaling raise the MachineDeployment's replicas until no task waits; once the service shrinks the
// group scales in, and every Machine that goes was marked by Berth, its Node cordoned and without Pods.
// kwok is slow to notice new Nodes here (see kwok-nodes.test.ts): waits for Nodes allow minutes.
import type { ContainerInstance, Task } from '../../../src/api';
import { kubectl, kubectlOk } from '../../env/env';
import { eventually, startHarness, type Harness } from '../../support/berth-harness';
import {
  installClusterApiCrds,
  machineDeployment,
  startMachineController,
  type MachineController,
  type MachineDeployment,
} from '../../support/machine-deployments';

let h: Harness;
let machines: MachineController;
jest.setTimeout(600_000);
const run = `md-${Date.now().toString(36)}`;

const cluster = `apiVersion: berth.dev/v1alpha1
kind: Cluster
metadata:
  name: fleet
spec:
  nodeGroups:
    - name: workers
      type: managed
      instanceType: { cpu: 2048, memory: 4096 }
      scaling: { minSize: 0, maxSize: 4 }
      managedScaling: { status: ENABLED, targetCapacity: 100, instanceWarmupPeriod: 0, scaleInCooldownSeconds: 5 }
      nodes:
        selector: { matchLabels: { node.cluster.x-k8s.io/pool: ${run} } }
        tolerations: [{ key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule }]
        scaleTarget: { apiVersion: cluster.x-k8s.io/v1beta1, kind: MachineDeployment, name: workers }
  defaultCapacityProviderStrategy:
    - { capacityProvider: workers, weight: 1 }
`;

const taskDefinition = `apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: web
spec:
  containerDefinitions:
    - name: web
      image: fake:latest
      cpu: 1024
      memory: 1024
`;

const service = (desiredCount: number) => `apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: web
spec:
  cluster: fleet
  taskDefinition: web
  desiredCount: ${desiredCount}
`;

const live = async () => ((await h.get<{ items: Task[] }>('tasks'))?.items ?? []).filter((t) => t.status?.lastStatus !== 'STOPPED');
const instances = async () => (await h.get<{ items: ContainerInstance[] }>('containerinstances'))?.items ?? [];
const replicas = async () => (await h.get<MachineDeployment>('machinedeployment', 'workers'))?.spec.replicas;
const report = async () =>
  `${await h.describe()}\nreplicas ${await replicas()}\n${(await instances()).map((i) => `${i.metadata.name} ${i.spec.status}`).join('\n')}`;

beforeAll(async () => {
  await installClusterApiCrds();
  h = await startHarness({ prefix: 'scale-target', nodes: true });
  machines = await startMachineController(h.namespace);
  // Two vCPUs per Node: two tasks of 1024 CPU units each.
  await kubectlOk(
    ['create', '-n', h.namespace, '-f', '-'],
    JSON.stringify(machineDeployment('workers', h.namespace, 0, { cpu: '2', memory: '4Gi' }, { pool: run })),
  );
  await h.apply(cluster);
  await h.apply(taskDefinition);
});

afterAll(async () => {
  await machines.stop();
  await h.stop();
  await kubectl(['delete', 'nodes', '-l', `node.cluster.x-k8s.io/pool=${run}`, '--wait=false']);
});

test('a growing service scales the MachineDeployment out until no task waits', async () => {
  await h.apply(service(6));
  const running = await eventually(
    async () => {
      const tasks = await live();
      return tasks.length === 6 && tasks.every((t) => t.status?.lastStatus === 'RUNNING') ? tasks : undefined;
    },
    'six RUNNING tasks',
    300_000,
    500,
    report,
  );
  // Six tasks of one vCPU on Nodes of two: exactly three Nodes, two tasks each.
  expect(await replicas()).toBe(3);
  const perInstance = new Map<string, number>();
  for (const task of running) perInstance.set(task.spec.containerInstance!, (perInstance.get(task.spec.containerInstance!) ?? 0) + 1);
  expect([...perInstance.values()]).toEqual([2, 2, 2]);
  const events = await kubectlOk(['get', 'events', '-n', h.namespace, '--field-selector', 'involvedObject.kind=Cluster', '-o', 'jsonpath={.items[*].message}']);
  expect(events).toContain('MachineDeployment workers replicas 0 → ');
});

test('after the service shrinks, the group scales in, removing only empty, cordoned Nodes that Berth marked', async () => {
  await h.apply(service(1));
  await eventually(
    async () => ((await replicas()) === 1 && (await instances()).length === 1 && machines.deleted.length === 2 ? true : undefined),
    'one Node left',
    300_000,
    500,
    report,
  );
  for (const removed of machines.deleted) expect(removed).toMatchObject({ marked: true, cordoned: true, podsOnNode: 0 });
  const [task] = await eventually(async () => {
    const tasks = await live();
    return tasks.length === 1 && tasks[0].status?.lastStatus === 'RUNNING' ? tasks : undefined;
  }, 'the one task RUNNING');
  expect(task.spec.containerInstance).toBe((await instances())[0].metadata.name);
});
