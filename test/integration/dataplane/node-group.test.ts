// A node group of Nodes on the real test node (a kubelet on containerd): the Node is mirrored as a
// ContainerInstance (allocatable, well-known labels as attributes, connected while Ready, DRAINING while
// cordoned, both ways), and a service's tasks run as Pods bound to it by Berth's own placement: a dynamic
// host port answers on the node and `berth logs` reads the task's Pod log, an exec health check that starts
// failing turns the task UNHEALTHY and the service replaces it, an essential container's exit stops its task
// with the exit code, a Pod deleted under a task stops it and the service replaces it, and scaling to zero
// leaves no Pod behind.
import type { V1Pod } from '@kubernetes/client-node';
import { httpGet } from '../../support/http';
import type { ContainerInstance, Task } from '../../../src/api';
import { kubectlOk, testEnv, testNode } from '../../env/env';
import { eventually, startHarness, type Harness } from '../../support/berth-harness';
import { CliProcess, requireBuiltCli } from '../process/cli-process';

let h: Harness;
// Several bounded waits in one test (each says what it waits for when it runs out).
jest.setTimeout(240_000);
const node = testNode();
const instanceName = `nodes-${node.name}`;

const cluster = `apiVersion: berth.dev/v1alpha1
kind: Cluster
metadata:
  name: nodes
spec:
  nodeGroups:
    - name: real
      type: selfManaged
      nodes:
        selector:
          matchLabels: { kubernetes.io/hostname: ${node.name} }
`;

const taskDefinition = (exitAfter?: number) => `apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: web
spec:
  networkMode: bridge
  containerDefinitions:
    - name: web
      image: ${testEnv().testImage}
      cpu: 128
      memory: 32
      command: [/bin/sh, -c, 'echo "$HOSTNAME" > /tmp/index.html; echo "serving $HOSTNAME"; ${exitAfter === undefined ? 'exec httpd -f -p 8080 -h /tmp' : `httpd -p 8080 -h /tmp; sleep ${exitAfter}; exit 3`}']
      portMappings: [{ containerPort: 8080 }]
      stopTimeout: 2
      healthCheck: { command: [CMD-SHELL, 'test -f /tmp/index.html'], interval: 5, timeout: 2, retries: 2 }
`;

const service = (desiredCount: number) => `apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: web
spec:
  cluster: nodes
  taskDefinition: web
  desiredCount: ${desiredCount}
  deploymentConfiguration: { minimumHealthyPercent: 0, maximumPercent: 200 }
`;

const tasks = async () => (await h.get<{ items: Task[] }>('tasks'))?.items ?? [];
const running = async () => (await tasks()).filter((t) => t.status?.lastStatus === 'RUNNING' && t.spec.desiredStatus === 'RUNNING');
const podsOfNamespace = async () => (await h.get<{ items: V1Pod[] }>('pods'))?.items ?? [];
const instance = () => h.get<ContainerInstance>(`containerinstance/${instanceName}`);
const nodeUnschedulable = async () => (await kubectlOk(['get', 'node', node.name, '-o', 'jsonpath={.spec.unschedulable}'])).trim() === 'true';

beforeAll(async () => {
  h = await startHarness({ prefix: 'node-group', nodes: true });
  await h.apply(cluster);
});

afterAll(async () => {
  await kubectlOk(['uncordon', node.name]);
  await h.stop();
});

test('the Node is mirrored: allocatable resources, well-known labels as attributes, connected while Ready', async () => {
  const mirrored = await eventually(async () => {
    const i = await instance();
    return i?.status?.agentConnected === true ? i : undefined;
  }, 'the Node mirrored and connected');
  const allocatable = JSON.parse(await kubectlOk(['get', 'node', node.name, '-o', 'jsonpath={.status.allocatable}'])) as { cpu: string; memory: string };
  expect(mirrored.spec).toMatchObject({ cluster: 'nodes', nodeGroup: 'real', nodeName: node.name, status: 'ACTIVE' });
  expect(mirrored.spec.registeredResources.cpu).toBe(Number(allocatable.cpu) * 1024);
  expect(mirrored.spec.registeredResources.memory).toBe(Math.floor(Number(allocatable.memory.replace(/Ki$/, '')) / 1024));
  expect(mirrored.spec.attributes).toMatchObject({ 'ecs.os-type': 'linux', 'ecs.cpu-architecture': 'x86_64', 'kubernetes.io/hostname': node.name });
});

test("a service's tasks run as Pods bound to the Node by Berth; a dynamic host port answers on the node", async () => {
  await h.apply(taskDefinition());
  await h.apply(service(2));
  const [first, second] = await eventually(
    async () => {
      const r = await running();
      return r.length === 2 && r.every((t) => t.status?.healthStatus === 'HEALTHY') ? r : undefined;
    },
    'two healthy tasks',
    90_000,
    250,
    () => h.describe(),
  );
  const pods = await podsOfNamespace();
  expect(pods.map((p) => p.metadata?.name).sort()).toEqual([first.metadata.name, second.metadata.name].sort());
  for (const pod of pods) {
    expect(pod.spec?.nodeName).toBe(node.name);
    expect(pod.metadata?.labels).toMatchObject({
      'berth.dev/cluster': 'nodes',
      'berth.dev/service': 'web',
      'berth.dev/family': 'web',
      'berth.dev/revision': '1',
    });
    expect(pod.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Task', controller: true });
  }
  for (const task of [first, second]) {
    const binding = task.status?.containers?.[0].networkBindings?.[0];
    expect(binding).toMatchObject({ bindIP: node.ip, containerPort: 8080, protocol: 'tcp' });
    expect(binding!.hostPort).toBeGreaterThanOrEqual(49153);
    expect((await httpGet(`http://${node.ip}:${binding!.hostPort}/index.html`)).trim()).toBe(task.metadata.name);
  }
  expect(first.status?.containers?.[0].networkBindings?.[0].hostPort).not.toBe(second.status?.containers?.[0].networkBindings?.[0].hostPort);

  // berth logs reads a Pod task's log through the API server (the kubelet's), by its ECS container name.
  requireBuiltCli();
  const logs = new CliProcess(['logs', `task/${first.metadata.name}`, '-n', h.namespace, '--kubeconfig', testEnv().kubeconfig]);
  expect(await logs.waitForExit(30_000)).toEqual({ code: 0, signal: null });
  expect({ stdout: logs.stdout, stderr: logs.stderr }).toEqual({ stdout: `serving ${first.metadata.name}\n`, stderr: '' });
});

test('a Pod deleted under its task stops the task, and the service replaces it', async () => {
  const [victim] = await running();
  await kubectlOk(['delete', 'pod', victim.metadata.name, '-n', h.namespace, '--wait=false']);
  await eventually(
    async () => {
      const all = await tasks();
      const stopped = all.find((t) => t.metadata.uid === victim.metadata.uid);
      const r = await running();
      return stopped?.status?.lastStatus === 'STOPPED' && r.length === 2 && !r.some((t) => t.metadata.uid === victim.metadata.uid) ? true : undefined;
    },
    'the task stopped and replaced',
    90_000,
    250,
    () => h.describe(),
  );
});

test('a health check that starts failing turns the task UNHEALTHY, and the service replaces it', async () => {
  const [sick] = await running();
  await kubectlOk(['exec', '-n', h.namespace, sick.metadata.name, '--', 'rm', '/tmp/index.html']);
  await eventually(
    async () => {
      const all = await tasks();
      const replaced = all.find((t) => t.metadata.uid === sick.metadata.uid);
      const r = await running();
      return replaced?.status?.lastStatus === 'STOPPED' && r.length === 2 && r.every((t) => t.status?.healthStatus === 'HEALTHY') ? replaced : undefined;
    },
    'the unhealthy task replaced',
    90_000,
    250,
    () => h.describe(),
  ).then((replaced) => expect(replaced.status?.stoppedReason).toMatch(/health/i));
});

test('cordoning the Node drains its instance, and draining the instance through Berth cordons the Node', async () => {
  await kubectlOk(['cordon', node.name]);
  await eventually(async () => ((await instance())?.spec.status === 'DRAINING' ? true : undefined), 'the instance DRAINING');
  await kubectlOk(['uncordon', node.name]);
  await eventually(async () => ((await instance())?.spec.status === 'ACTIVE' ? true : undefined), 'the instance ACTIVE');
  await kubectlOk(['patch', `containerinstance/${instanceName}`, '-n', h.namespace, '--type=merge', '-p', '{"spec":{"status":"DRAINING"}}']);
  await eventually(async () => ((await nodeUnschedulable()) ? true : undefined), 'the Node cordoned');
  await kubectlOk(['patch', `containerinstance/${instanceName}`, '-n', h.namespace, '--type=merge', '-p', '{"spec":{"status":"ACTIVE"}}']);
  await eventually(async () => (!(await nodeUnschedulable()) ? true : undefined), 'the Node uncordoned');
});

test("an essential container's exit stops its task with the exit code; scaling to zero leaves no Pod", async () => {
  await h.apply(taskDefinition(4));
  const stopped = await eventually(
    async () => {
      const exited = (await tasks()).find((t) => t.spec.taskDefinition === 'web:2' && t.status?.lastStatus === 'STOPPED');
      return exited;
    },
    'a web:2 task STOPPED',
    90_000,
    250,
    () => h.describe(),
  );
  expect(stopped.status?.stoppedReason).toContain('Essential container in task exited');
  expect(stopped.status?.containers?.[0]).toMatchObject({ name: 'web', exitCode: 3 });
  await h.apply(service(0));
  await eventually(
    async () => ((await podsOfNamespace()).length === 0 && (await running()).length === 0 ? true : undefined),
    'no task and no Pod left',
    90_000,
    250,
    () => h.describe(),
  );
});
