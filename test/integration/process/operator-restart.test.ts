// The built operator (`node dist/cli/main.js operator`) against the real kube-apiserver, with in-process
// agents on the real Docker engine. It is SIGKILLed in the middle of a rolling update and started again:
// the new process re-adopts the containers the first one started, finishes the rollout, and leaves no
// duplicate and no orphan container — judged from Docker's own container list, not from Berth's status.
import type Dockerode from 'dockerode';
import { kubectl, kubectlOk, testEnv } from '../../env/env';
import { CliProcess, dockerClient, requireBuiltCli, runSuffix, sleep, waitFor } from './cli-process';

const env = testEnv();
const docker = dockerClient();
const namespace = `op-restart-${runSuffix()}`;
const labels = {
  namespace: 'dev.berth.namespace',
  taskUid: 'dev.berth.task-uid',
  containerName: 'dev.berth.container-name',
  taskDefinition: 'dev.berth.task-definition',
};

const manifests = (greeting: string) => `
apiVersion: berth.dev/v1alpha1
kind: Cluster
metadata:
  name: restart
spec:
  nodeGroups:
    - name: general
      type: managed
      provider: local
      instanceType: { cpu: 4096, memory: 4096 }
      scaling: { minSize: 1, desiredSize: 1, maxSize: 1 }
---
apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: web
spec:
  containerDefinitions:
    - name: web
      image: ${env.testImage}
      essential: true
      cpu: 128
      memory: 64
      # httpd is PID 1 and ignores SIGTERM: a short stopTimeout keeps the old tasks' stop quick.
      stopTimeout: 2
      command: [sh, -c, 'mkdir -p /www && echo "hello $GREETING" > /www/index.html && exec httpd -f -p 8080 -h /www']
      portMappings:
        - containerPort: 8080
          hostPort: 0
      environment:
        - name: GREETING
          value: ${greeting}
      healthCheck:
        command: [CMD-SHELL, 'wget -q -O /dev/null http://localhost:8080/ || exit 1']
        interval: 5
        timeout: 3
        retries: 3
---
apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: web
spec:
  cluster: restart
  taskDefinition: web
  desiredCount: 4
  deploymentConfiguration:
    minimumHealthyPercent: 100
    maximumPercent: 200
`;

interface ServiceStatus {
  runningCount?: number;
  taskDefinition?: string;
  deployments?: { status: string; taskDefinition: string; rolloutState: string; runningCount: number }[];
}

const operators: CliProcess[] = [];

function startOperator(): CliProcess {
  const operator = new CliProcess([
    'operator',
    '--kubeconfig',
    env.kubeconfig,
    '--namespace',
    namespace,
    '--metrics-bind-address',
    '127.0.0.1:0',
    '--health-probe-bind-address',
    '127.0.0.1:0',
  ]);
  operators.push(operator);
  return operator;
}

/** Every Berth container of this test's namespace, running or not. */
async function containers(): Promise<Dockerode.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${labels.namespace}=${namespace}`] } });
}

const running = (list: Dockerode.ContainerInfo[]) => list.filter((c) => c.State === 'running');
const ofRevision = (list: Dockerode.ContainerInfo[], revision: string) => list.filter((c) => c.Labels[labels.taskDefinition] === revision);

function describeContainers(list: Dockerode.ContainerInfo[]): string {
  return list.map((c) => `${c.Names[0]} ${c.State} ${c.Labels[labels.taskDefinition]} task-uid=${c.Labels[labels.taskUid]}`).join('\n');
}

async function serviceStatus(): Promise<ServiceStatus> {
  const out = await kubectlOk(['get', 'services.berth.dev', 'web', '-n', namespace, '-o', 'jsonpath={.status}']);
  return out.trim() ? (JSON.parse(out) as ServiceStatus) : {};
}

async function taskUids(): Promise<Set<string>> {
  const out = await kubectlOk(['get', 'tasks.berth.dev', '-n', namespace, '-o', 'json']);
  const list = JSON.parse(out) as { items: { metadata: { uid: string } }[] };
  return new Set(list.items.map((t) => t.metadata.uid));
}

async function diagnostics(): Promise<string> {
  const tasks = await kubectl(['get', 'tasks.berth.dev', '-n', namespace]);
  const status = await kubectl(['get', 'services.berth.dev', 'web', '-n', namespace, '-o', 'jsonpath={.status}']);
  const operator = operators[operators.length - 1];
  return [
    `tasks:\n${tasks.stdout}${tasks.stderr}`,
    `service status: ${status.stdout}`,
    `containers:\n${describeContainers(await containers())}`,
    operator ? operator.tail(20) : '',
  ].join('\n');
}

beforeAll(async () => {
  requireBuiltCli();
  await kubectlOk(['create', 'namespace', namespace]);
});

afterAll(async () => {
  for (const operator of operators) await operator.end();
  // The operator holds the finalizers; when it was not there to release them, release them here.
  const left = await kubectl(['get', 'clusters.berth.dev,taskdefinitions.berth.dev,services.berth.dev', '-n', namespace, '-o', 'name']);
  for (const name of left.stdout.split('\n').filter(Boolean)) {
    await kubectl(['patch', name, '-n', namespace, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  }
  await kubectl(['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found']);
  for (const info of await containers())
    await docker
      .getContainer(info.Id)
      .remove({ force: true, v: true })
      .catch(() => undefined);
}, 60_000);

test('SIGKILL in the middle of a rollout, then a new operator: the rollout finishes with no duplicate and no orphan container', async () => {
  await kubectlOk(['apply', '-n', namespace, '-f', '-'], manifests('one'));
  let operator = startOperator();

  await waitFor(
    async () => {
      const up = running(await containers());
      return up.length === 4 && ofRevision(up, 'web:1').length === 4 && (await serviceStatus()).runningCount === 4;
    },
    '4 running containers of web:1 and runningCount 4',
    45_000,
    diagnostics,
  );

  // A new revision: with min 100 / max 200 the four new tasks start beside the four old ones, and the
  // old ones stop only once the new ones are healthy (health check every 5 s): a wide middle to kill in.
  await kubectlOk([
    'patch',
    'taskdefinitions.berth.dev',
    'web',
    '-n',
    namespace,
    '--type=json',
    '-p',
    '[{"op":"replace","path":"/spec/containerDefinitions/0/environment/0/value","value":"two"}]',
  ]);
  const atKill = await waitFor(
    async () => {
      const all = await containers();
      const oldRunning = ofRevision(running(all), 'web:1');
      const fresh = ofRevision(all, 'web:2');
      return fresh.length >= 1 && oldRunning.length === 4 ? all : undefined;
    },
    'the first container of web:2 while the 4 of web:1 still run',
    30_000,
    diagnostics,
    50,
  );
  operator.signal('SIGKILL');
  const killed = await operator.waitForExit(10_000);
  expect(killed?.signal).toBe('SIGKILL');
  // Still the middle of the rollout after the kill: nothing stops the old tasks while no operator runs.
  expect(ofRevision(running(await containers()), 'web:1')).toHaveLength(4);
  const newAtKill = ofRevision(atKill, 'web:2').length;
  // (The status may not even name the web:2 deployment yet: the kill can land between starting its tasks and recording it.)
  const primaryAtKill = (await serviceStatus()).deployments?.find((d) => d.status === 'PRIMARY');
  expect(primaryAtKill?.taskDefinition === 'web:2' && primaryAtKill.rolloutState === 'COMPLETED').toBe(false);

  await sleep(1000);
  operator = startOperator();
  await waitFor(
    async () => {
      const s = await serviceStatus();
      const primary = s.deployments?.find((d) => d.status === 'PRIMARY');
      return primary?.taskDefinition === 'web:2' && primary.rolloutState === 'COMPLETED' && s.runningCount === 4 && s.taskDefinition === 'web:2';
    },
    'the PRIMARY deployment of web:2 to be COMPLETED with runningCount 4',
    60_000,
    diagnostics,
  );
  // The old tasks' containers have been stopped before the deployment counts as completed; give the
  // engine's list a moment to agree, then judge from Docker alone.
  const settled = await waitFor(
    async () => {
      const all = await containers();
      return running(all).length === 4 ? all : undefined;
    },
    'exactly 4 running containers',
    20_000,
    diagnostics,
  );
  const up = running(settled);
  expect(describeContainers(ofRevision(up, 'web:2'))).toBe(describeContainers(up));
  expect(new Set(up.map((c) => c.Labels[labels.taskUid])).size).toBe(4);

  // No duplicate: one container per (task, container name), over every container, running or not.
  const perTaskContainer = new Map<string, string[]>();
  for (const c of settled) {
    const key = `${c.Labels[labels.taskUid]}/${c.Labels[labels.containerName]}`;
    perTaskContainer.set(key, [...(perTaskContainer.get(key) ?? []), c.Names[0]]);
  }
  expect([...perTaskContainer.entries()].filter(([, names]) => names.length > 1)).toEqual([]);
  // 4 old tasks and 4 new ones, each created once, whatever the kill interrupted.
  expect(ofRevision(settled, 'web:1')).toHaveLength(4);
  expect(ofRevision(settled, 'web:2')).toHaveLength(4);

  // No orphan: every container belongs to a Task that exists, and every running one to a RUNNING web:2 Task.
  const uids = await taskUids();
  expect(settled.filter((c) => !uids.has(c.Labels[labels.taskUid])).map((c) => c.Names[0])).toEqual([]);
  const tasks = JSON.parse(await kubectlOk(['get', 'tasks.berth.dev', '-n', namespace, '-o', 'json'])) as {
    items: { metadata: { uid: string }; spec: { taskDefinition: string }; status?: { lastStatus?: string } }[];
  };
  for (const c of up) {
    const task = tasks.items.find((t) => t.metadata.uid === c.Labels[labels.taskUid]);
    expect({ taskDefinition: task?.spec.taskDefinition, lastStatus: task?.status?.lastStatus }).toEqual({ taskDefinition: 'web:2', lastStatus: 'RUNNING' });
  }
  // The new tasks answer on their dynamic host ports, with the new environment.
  for (const c of up) {
    const port = c.Ports.find((p) => p.PrivatePort === 8080)?.PublicPort;
    expect(c.Ports.find((p) => p.PrivatePort === 8080)?.IP).toBe('127.0.0.1');
    const response = await fetch(`http://127.0.0.1:${port}/`);
    expect((await response.text()).trim()).toBe('hello two');
  }
  expect(newAtKill).toBeGreaterThanOrEqual(1);

  // Deleting the Service with the operator running stops and removes its tasks; the agent's sweep then
  // removes their containers (it runs every 30 s).
  await kubectlOk(['delete', 'services.berth.dev', 'web', '-n', namespace, '--timeout=60s']);
  await waitFor(async () => (await containers()).length === 0, "the deleted Service's containers to be removed", 45_000, diagnostics, 1000);

  // The namespace goes while the operator still runs (it releases the Cluster's and TaskDefinition's finalizers).
  await kubectlOk(['delete', 'namespace', namespace, '--timeout=60s']);
  operator.signal('SIGTERM');
  const stopped = await operator.waitForExit(20_000);
  expect(stopped).toEqual({ code: 0, signal: null });
}, 240_000);
