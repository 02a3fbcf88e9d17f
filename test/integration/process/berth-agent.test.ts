// Self-managed hosts and draining by hand, with every Berth part a real process: the built `berth
// operator` (watching this test's namespace only, its disconnected-instance grace shortened to 4 s) and
// two `berth agent` processes (edge-a, edge-b) on the real Docker engine, registering to the Cluster's
// selfManaged node group with a 3 s heartbeat Lease renewed every second; edge-b on the least-privilege
// credentials of deploy/agent-rbac.yaml. Every Task state the API server holds is checked against the
// service's deployment bounds (task-ledger.ts).
//
//   1. edge-a registers (resources and attributes from `docker info`) and runs the service's tasks;
//   2. edge-a is SIGKILLed: it shows disconnected, its tasks are STOPPED after the grace and replaced on
//      edge-b, while its containers keep running (nobody stopped them); restarted, edge-a stops and
//      removes them and no container is left under its label;
//   3. `berth drain instance/edge-b`: the service's tasks move to edge-a within the bounds, a standalone
//      task on edge-b runs to its own end, a task bound to edge-b waits; `kubectl berth undrain` lets it run.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Dockerode from 'dockerode';
import * as yaml from 'js-yaml';
import type { ContainerInstance, Task } from '../../../src/api';
import { taskLabels } from '../../../src/agent/task-runtime';
import { kubectl, kubectlOk, run, testEnv } from '../../env/env';
import { TaskLedger } from '../faults/task-ledger';
import { CliProcess, cliPath, dockerClient, projectDir, requireBuiltCli, runSuffix, waitFor } from './cli-process';

const env = testEnv();
const docker = dockerClient();
const namespace = `berth-agent-${runSuffix()}`;
const bounds = { desiredCount: 2, minimumHealthyPercent: 50, maximumPercent: 200 };
const leaseFlags = ['--lease-duration', '3s', '--lease-renew-interval', '1s'];
const processes: CliProcess[] = [];
const tempDirs: string[] = [];
let operator: CliProcess;
let ledger: TaskLedger;
const agents = new Map<string, CliProcess>();

jest.setTimeout(180_000);

const manifests = `apiVersion: berth.dev/v1alpha1
kind: Cluster
metadata:
  name: prod
spec:
  nodeGroups:
    - name: edge
      type: selfManaged
---
apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: web
spec:
  containerDefinitions:
    - name: main
      image: ${env.testImage}
      memory: 16
      stopTimeout: 1
      command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 1; done']
---
apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: job
spec:
  containerDefinitions:
    - name: main
      image: ${env.testImage}
      memory: 16
      command: [sh, -c, 'sleep 6; echo done']
`;

const service = `apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: web
spec:
  cluster: prod
  taskDefinition: web
  desiredCount: ${bounds.desiredCount}
  deploymentConfiguration:
    minimumHealthyPercent: ${bounds.minimumHealthyPercent}
    maximumPercent: ${bounds.maximumPercent}
`;

function standaloneTask(name: string, family: string, containerInstance?: string): string {
  return `apiVersion: berth.dev/v1alpha1
kind: Task
metadata:
  name: ${name}
spec:
  cluster: prod
  taskDefinition: ${family}:1
  group: family:${family}
${containerInstance ? `  containerInstance: ${containerInstance}\n` : ''}`;
}

/**
 * A kubeconfig for the ServiceAccount berth-agent of the namespace, bound to deploy/agent-rbac.yaml's
 * ClusterRole as that file says: edge-b runs on these credentials, so the whole test proves they suffice.
 */
async function agentKubeconfig(): Promise<string> {
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '--field-manager=berth-tests', '-f', path.join(projectDir, 'deploy', 'agent-rbac.yaml')]);
  await kubectlOk(['create', 'serviceaccount', 'berth-agent', '-n', namespace]);
  await kubectlOk(['create', 'rolebinding', 'berth-agent', '-n', namespace, '--clusterrole', 'berth-agent', `--serviceaccount=${namespace}:berth-agent`]);
  const token = (await kubectlOk(['create', 'token', 'berth-agent', '-n', namespace, '--duration', '1h'])).trim();
  const admin = yaml.load(readFileSync(env.kubeconfig, 'utf8')) as { users: { name: string; user: Record<string, unknown> }[] };
  const file = path.join(tempDir(), 'agent-kubeconfig');
  writeFileSync(file, yaml.dump({ ...admin, users: admin.users.map((u) => ({ name: u.name, user: { token } })) }));
  return file;
}

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-agent-it-'));
  tempDirs.push(dir);
  return dir;
}

function startAgent(name: string, ...extra: string[]): CliProcess {
  const agent = new CliProcess([
    'agent',
    '--cluster',
    'prod',
    '--node-group',
    'edge',
    '--namespace',
    namespace,
    '--kubeconfig',
    kubeconfigOf(name),
    '--name',
    name,
    ...leaseFlags,
    ...extra,
  ]);
  processes.push(agent);
  agents.set(name, agent);
  return agent;
}

/** edge-b runs on the agent's least-privilege credentials, edge-a on the admin's. */
let edgeBKubeconfig = '';
const kubeconfigOf = (name: string) => (name === 'edge-b' ? edgeBKubeconfig : env.kubeconfig);

const getInstance = async (name: string) => getJson<ContainerInstance>(`containerinstance/${name}`);
const getTask = async (name: string) => getJson<Task>(`task/${name}`);

async function getJson<T>(resource: string): Promise<T | undefined> {
  const result = await kubectl(['get', resource, '-n', namespace, '-o', 'json']);
  if (result.code !== 0) {
    if (/NotFound/.test(result.stderr)) return undefined;
    throw new Error(`kubectl get ${resource}: ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as T;
}

/** Docker's own list of the containers of one instance, by the label every container of its runtime carries. */
async function containersOf(instance: ContainerInstance): Promise<Dockerode.ContainerInfo[]> {
  const scope = `${namespace}.${instance.metadata.name}.${instance.metadata.uid}`;
  return docker.listContainers({ all: true, filters: { label: [`${taskLabels.containerInstance}=${scope}`] } });
}

const serviceTasks = () => [...ledger.tasks.values()].filter((t) => t.spec.group === 'service:web');
const liveServiceTasksOn = (instance: string) => serviceTasks().filter((t) => t.spec.containerInstance === instance && t.status?.lastStatus !== 'STOPPED');
const runningServiceTasksOn = (instance: string) => liveServiceTasksOn(instance).filter((t) => t.status?.lastStatus === 'RUNNING');

function detail(): string {
  const lines = [...ledger.tasks.values()].map(
    (t) => `${t.metadata.name} on ${t.spec.containerInstance} desired ${t.spec.desiredStatus} last ${t.status?.lastStatus} ${t.status?.stoppedReason ?? ''}`,
  );
  const tails = [...agents].map(([name, agent]) => `--- ${name}\n${agent.tail(10)}`);
  return `${lines.join('\n')}\n--- operator\n${operator.tail(15)}\n${tails.join('\n')}`;
}

/** The built CLI as the kubectl plugin `kubectl-berth`, found on PATH as kubectl finds plugins. */
function kubectlPluginPath(): string {
  const dir = tempDir();
  const plugin = path.join(dir, 'kubectl-berth');
  writeFileSync(plugin, `#!/bin/sh\nexec "${process.execPath}" "${cliPath}" "$@"\n`);
  chmodSync(plugin, 0o755);
  return `${dir}${path.delimiter}${process.env.PATH ?? ''}`;
}

beforeAll(async () => {
  requireBuiltCli();
  await kubectlOk(['create', 'namespace', namespace]);
  edgeBKubeconfig = await agentKubeconfig();
  ledger = new TaskLedger(namespace);
  await ledger.start();
  await kubectlOk(['apply', '-n', namespace, '-f', '-'], manifests);
  operator = new CliProcess([
    'operator',
    '--kubeconfig',
    env.kubeconfig,
    '--namespace',
    namespace,
    '--metrics-bind-address',
    '0',
    '--health-probe-bind-address',
    '0',
    '--disconnected-instance-grace',
    '4s',
  ]);
  processes.push(operator);
});

afterAll(async () => {
  ledger?.stop();
  for (const process of processes) await process.end();
  // The agents leave their containers on SIGTERM, as the ECS agent does: remove this namespace's.
  const left = await docker.listContainers({ all: true, filters: { label: [`${taskLabels.namespace}=${namespace}`] } });
  for (const c of left) await docker.getContainer(c.Id).remove({ force: true, v: true });
  const objects = await kubectl(['get', 'berth', '-n', namespace, '-o', 'name']);
  for (const name of objects.stdout.split('\n').filter(Boolean)) {
    await kubectl(['patch', name, '-n', namespace, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  }
  await kubectl(['delete', 'namespace', namespace, '--wait=false']);
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}, 120_000);

test('berth agent registers a self-managed host from docker info and runs the service tasks placed on it', async () => {
  const info = (await docker.info()) as { NCPU: number; MemTotal: number; OSType: string; Architecture: string };
  startAgent('edge-a', '--reserved-cpu', '256', '--reserved-memory', '512', '--availability-zone', 'rack-1', '--attribute', 'tier=edge');
  const instance = await waitFor(
    async () => {
      const found = await getInstance('edge-a');
      return found?.status?.agentConnected ? found : undefined;
    },
    'edge-a registered and connected',
    60_000,
    detail,
  );
  expect(instance.spec).toEqual({
    cluster: 'prod',
    nodeGroup: 'edge',
    status: 'ACTIVE',
    registeredResources: { cpu: info.NCPU * 1024 - 256, memory: Math.floor(info.MemTotal / (1024 * 1024)) - 512 },
    attributes: {
      tier: 'edge',
      'ecs.os-type': info.OSType,
      'ecs.cpu-architecture': info.Architecture === 'aarch64' ? 'arm64' : 'x86_64',
      'ecs.availability-zone': 'rack-1',
    },
  });
  // Berth never owns a self-managed instance: the cluster controller leaves it alone and counts it.
  expect(instance.metadata.ownerReferences).toBeUndefined();

  await kubectlOk(['apply', '-n', namespace, '-f', '-'], service);
  await ledger.until(() => runningServiceTasksOn('edge-a').length === bounds.desiredCount, 'the service tasks RUNNING on edge-a', 90_000, detail);
  ledger.checkBounds(bounds);
  const running = (await containersOf(instance)).filter((c) => c.State === 'running');
  expect(running.map((c) => c.Labels[taskLabels.taskUid]).sort()).toEqual(
    runningServiceTasksOn('edge-a')
      .map((t) => t.metadata.uid)
      .sort(),
  );
  await waitFor(
    async () => (await getJson<{ status?: { registeredContainerInstancesCount?: number } }>('cluster/prod'))?.status?.registeredContainerInstancesCount === 1,
    'the cluster to count edge-a',
    30_000,
    detail,
  );
  await waitFor(async () => (await getInstance('edge-a'))?.status?.runningTasksCount === 2, 'edge-a to report 2 running tasks', 30_000, detail);
});

test('after a SIGKILL of its agent the tasks are replaced on another host once the grace passes; restarted, it leaves no stale container', async () => {
  startAgent('edge-b');
  await waitFor(async () => (await getInstance('edge-b'))?.status?.agentConnected, 'edge-b connected', 60_000, detail);
  const edgeA = (await getInstance('edge-a'))!;
  const lost = runningServiceTasksOn('edge-a').map((t) => t.metadata.name);
  expect(lost).toHaveLength(2);
  ledger.checkBoundsThroughFault(bounds);

  agents.get('edge-a')!.signal('SIGKILL');
  await waitFor(async () => (await getInstance('edge-a'))?.status?.agentConnected === false, 'edge-a disconnected', 30_000, detail);
  await ledger.until(() => runningServiceTasksOn('edge-b').length === bounds.desiredCount, 'the replacements RUNNING on edge-b', 90_000, detail);
  for (const name of lost) {
    const task = ledger.tasks.get(name)!;
    expect(task.status).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'TerminationNotice',
      stoppedReason: expect.stringMatching(/^Task stopped because container instance edge-a is disconnected: its agent last reported at .*, more than 4s ago$/),
    });
  }
  // Nobody was left to stop them: the lost tasks' containers still run on the engine.
  expect(
    (await containersOf(edgeA))
      .filter((c) => c.State === 'running')
      .map((c) => c.Labels[taskLabels.taskName])
      .sort(),
  ).toEqual([...lost].sort());
  ledger.checkBounds(bounds);

  startAgent('edge-a');
  await waitFor(async () => (await getInstance('edge-a'))?.status?.agentConnected, 'edge-a connected again', 60_000, detail);
  expect((await getInstance('edge-a'))!.metadata.uid).toBe(edgeA.metadata.uid);
  await waitFor(
    async () => (await containersOf(edgeA)).length === 0,
    'no container of edge-a left on the engine',
    60_000,
    async () => {
      const left = await containersOf(edgeA);
      return `${left.map((c) => `${c.Labels[taskLabels.taskName]} ${c.State}`).join('\n')}\n${detail()}`;
    },
  );
  expect(runningServiceTasksOn('edge-b')).toHaveLength(bounds.desiredCount);
});

test('a drained host empties within the deployment bounds while its standalone task finishes; undrained, it takes tasks again', async () => {
  const plugin = kubectlPluginPath();
  // Not found, as kubectl says it.
  const missing = await run(process.execPath, [cliPath, 'drain', 'instance/nope', '-n', namespace, '--kubeconfig', env.kubeconfig]);
  expect({ code: missing.code, stderr: missing.stderr.trim() }).toEqual({
    code: 1,
    stderr: 'Error from server (NotFound): containerinstances.berth.dev "nope" not found',
  });

  // A standalone task on edge-b first (edge-a is taken out of the way while it is placed).
  await kubectlOk(['patch', 'containerinstance', 'edge-a', '-n', namespace, '--type=merge', '-p', '{"spec":{"status":"DRAINING"}}']);
  await waitFor(async () => (await getInstance('edge-a'))?.status?.status === 'DRAINING', 'edge-a DRAINING', 30_000, detail);
  await kubectlOk(['apply', '-n', namespace, '-f', '-'], standaloneTask('job-1', 'job'));
  await waitFor(async () => (await getTask('job-1'))?.status?.lastStatus === 'RUNNING', 'job-1 RUNNING', 60_000, detail);
  expect((await getTask('job-1'))!.spec.containerInstance).toBe('edge-b');
  const undrainA = await run(process.execPath, [cliPath, 'undrain', 'instance/edge-a', '-n', namespace, '--kubeconfig', env.kubeconfig]);
  expect(undrainA.stdout.trim()).toBe('containerinstance.berth.dev/edge-a undrained');

  ledger.checkBoundsThroughDrain({ ...bounds, service: 'web' });
  ledger.resetExtremes();
  const drain = await run(process.execPath, [cliPath, 'drain', 'instance/edge-b', '-n', namespace, '--kubeconfig', env.kubeconfig]);
  expect({ code: drain.code, stdout: drain.stdout.trim() }).toEqual({ code: 0, stdout: 'containerinstance.berth.dev/edge-b drained' });
  const again = await run(process.execPath, [cliPath, 'drain', 'instance/edge-b', '-n', namespace, '--kubeconfig', env.kubeconfig]);
  expect(again.stdout.trim()).toBe('containerinstance.berth.dev/edge-b already drained');

  await ledger.until(
    () => liveServiceTasksOn('edge-b').length === 0 && runningServiceTasksOn('edge-a').length === bounds.desiredCount,
    'the service tasks moved from edge-b to edge-a',
    90_000,
    detail,
  );
  // The standalone task was not stopped by the drain: it ran to its own end.
  const job = await waitFor(
    async () => {
      const task = await getTask('job-1');
      return task?.status?.lastStatus === 'STOPPED' ? task : undefined;
    },
    'job-1 to finish',
    60_000,
    detail,
  );
  expect(job.status).toMatchObject({ stopCode: 'EssentialContainerExited', stoppedReason: expect.stringContaining('main exited with code 0') });

  // A task bound to the drained host waits; undrained (through kubectl's plugin lookup), the host takes it.
  await kubectlOk(['apply', '-n', namespace, '-f', '-'], standaloneTask('pinned', 'web', 'edge-b'));
  await waitFor(async () => (await getTask('pinned'))?.status?.lastStatus === 'PROVISIONING', 'pinned to wait', 30_000, detail);
  expect((await getTask('pinned'))!.metadata.annotations?.['berth.dev/admitted']).toBeUndefined();
  // kubectl hands a plugin every argument after its name, and the environment (KUBECONFIG) as it is.
  const undrain = await run(env.kubectl, ['berth', 'undrain', 'instance/edge-b', '-n', namespace], {
    env: { ...process.env, PATH: plugin, KUBECONFIG: env.kubeconfig },
  });
  expect({ code: undrain.code, stdout: undrain.stdout.trim(), stderr: undrain.stderr }).toEqual({
    code: 0,
    stdout: 'containerinstance.berth.dev/edge-b undrained',
    stderr: '',
  });
  await waitFor(async () => (await getTask('pinned'))?.status?.lastStatus === 'RUNNING', 'pinned RUNNING on edge-b', 60_000, detail);

  expect({ violations: ledger.violations, count: ledger.violationCount }).toEqual({ violations: [], count: 0 });
  expect(ledger.seen.maxNotStopped).toBeLessThanOrEqual(4);
  // edge-b did all of this on the least-privilege credentials, never refused anything.
  expect(agents.get('edge-b')!.stdout).not.toMatch(/forbidden/i);
});

test('SIGTERM stops the agent cleanly and leaves its containers running, as the ECS agent does', async () => {
  const edgeA = (await getInstance('edge-a'))!;
  const runningBefore = (await containersOf(edgeA)).filter((c) => c.State === 'running').map((c) => c.Id);
  expect(runningBefore.length).toBeGreaterThan(0);
  const agent = agents.get('edge-a')!;
  agent.signal('SIGTERM');
  expect(await agent.waitForExit(30_000)).toEqual({ code: 0, signal: null });
  expect((await containersOf(edgeA)).filter((c) => c.State === 'running').map((c) => c.Id)).toEqual(runningBefore);
  // No more heartbeats: the instance shows disconnected once its Lease lapses.
  await waitFor(async () => (await getInstance('edge-a'))?.status?.agentConnected === false, 'edge-a disconnected', 30_000, detail);
});
