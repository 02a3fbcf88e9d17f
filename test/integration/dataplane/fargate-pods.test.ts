// Fargate profiles on Kubernetes: a task a profile with pod settings selects becomes a Pod that Berth does
// not bind, carrying the profile's scheduler name, node selector, tolerations and runtime class. No scheduler
// serves that name here, so the test binds each Pod itself (as a serverless scheduler would), to a kwok
// Node; the task then runs with no container instance, and its address is the Pod's IP.
import type { V1Pod } from '@kubernetes/client-node';
import type { Task } from '../../../src/api';
import { kubectl, kubectlOk } from '../../env/env';
import { eventually, startHarness, type Harness } from '../../support/berth-harness';

let h: Harness;
jest.setTimeout(300_000);
const run = `fgt-${Date.now().toString(36)}`;
const runtimeClass = `${run}-sandbox`;

const node = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: {
    name: run,
    annotations: { 'kwok.x-k8s.io/node': 'fake' },
    labels: { type: 'kwok', 'berth-test-run': run, 'kubernetes.io/hostname': run, 'kubernetes.io/os': 'linux', serverless: 'true' },
  },
  spec: { taints: [{ key: 'virtual-kubelet.io/provider', value: 'fargate', effect: 'NoSchedule' }] },
  status: { capacity: { cpu: '8', memory: '16Gi', pods: '110' }, allocatable: { cpu: '8', memory: '16Gi', pods: '110' } },
});

const cluster = (namespace: string) => `apiVersion: berth.dev/v1alpha1
kind: Cluster
metadata:
  name: serverless
spec:
  fargateProfiles:
    - name: batch
      selectors: [{ namespace: ${namespace}, labels: { tier: serverless } }]
      pod:
        schedulerName: berth-test-fargate
        nodeSelector: { serverless: "true" }
        tolerations: [{ key: virtual-kubelet.io/provider, operator: Equal, value: fargate, effect: NoSchedule }]
        runtimeClassName: ${runtimeClass}
`;

const taskDefinition = `apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: job
spec:
  requiresCompatibilities: [FARGATE]
  networkMode: awsvpc
  cpu: 256
  memory: 512
  ephemeralStorage: { sizeInGiB: 21 }
  containerDefinitions:
    - name: job
      image: fake:latest
      portMappings: [{ containerPort: 8080 }]
`;

const service = `apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: job
  labels: { tier: serverless }
spec:
  cluster: serverless
  taskDefinition: job
  desiredCount: 2
`;

const taskPods = async () => ((await h.get<{ items: V1Pod[] }>('pods'))?.items ?? []).filter((p) => p.metadata?.labels?.['berth.dev/service'] === 'job');

beforeAll(async () => {
  await kubectlOk(['create', '-f', '-'], node);
  await kubectlOk(
    ['create', '-f', '-'],
    JSON.stringify({ apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: runtimeClass }, handler: 'runc' }),
  );
  h = await startHarness({ prefix: 'fargate-pods', nodes: true });
  await h.apply(cluster(h.namespace));
  await h.apply(taskDefinition);
});

afterAll(async () => {
  await h.stop();
  await kubectl(['delete', 'node', run, '--wait=false']);
  await kubectl(['delete', 'runtimeclass', runtimeClass, '--wait=false']);
});

test("a task a profile selects becomes an unbound Pod with the profile's scheduling fields, and runs at the Pod's IP", async () => {
  await h.apply(service);
  const pods = await eventually(
    async () => {
      const found = await taskPods();
      return found.length === 2 ? found : undefined;
    },
    'two task Pods',
    60_000,
    250,
    () => h.describe(),
  );
  for (const pod of pods) {
    expect(pod.spec?.nodeName).toBeUndefined();
    expect(pod.spec).toMatchObject({
      schedulerName: 'berth-test-fargate',
      nodeSelector: { serverless: 'true' },
      runtimeClassName: runtimeClass,
      tolerations: expect.arrayContaining([expect.objectContaining({ key: 'virtual-kubelet.io/provider', value: 'fargate' })]) as unknown,
    });
    // Fargate's ephemeral storage (21 GiB) is the container's ephemeral-storage limit (the API server writes 21504Mi so).
    expect(pod.spec?.containers[0].resources?.limits?.['ephemeral-storage']).toBe('21Gi');
  }
  const tasks = (await h.get<{ items: Task[] }>('tasks'))?.items ?? [];
  expect(tasks.map((t) => [t.spec.capacityProviderName, t.spec.containerInstance])).toEqual([
    ['FARGATE', undefined],
    ['FARGATE', undefined],
  ]);

  // The serverless scheduler's part: bind each Pod to the Node its selector names.
  for (const pod of pods) {
    const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: pod.metadata!.name }, target: { apiVersion: 'v1', kind: 'Node', name: run } };
    await kubectlOk(['create', '--raw', `/api/v1/namespaces/${h.namespace}/pods/${pod.metadata!.name}/binding`, '-f', '-'], JSON.stringify(binding));
  }
  const running = await eventually(
    async () => {
      const all = ((await h.get<{ items: Task[] }>('tasks'))?.items ?? []).filter((t) => t.status?.lastStatus === 'RUNNING');
      return all.length === 2 ? all : undefined;
    },
    'two RUNNING tasks',
    180_000,
    250,
    () => h.describe(),
  );
  const podIps = new Map((await taskPods()).map((p) => [p.metadata!.name, p.status?.podIP]));
  for (const task of running) {
    const binding = task.status?.containers?.[0].networkBindings?.[0];
    expect(binding?.bindIP).toBeDefined();
    expect(binding?.bindIP).toBe(podIps.get(task.metadata.name));
    expect(binding?.containerPort).toBe(8080);
  }
});
