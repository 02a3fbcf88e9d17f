// A REPLICA service on the real kube-apiserver and the real Docker engine, created with kubectl: it
// converges to its desired count of running containers, reports dynamic host ports that answer on
// 127.0.0.1, shares a task volume between the main container and a sidecar that starts only once the
// main container is healthy (dependsOn HEALTHY), hands a Kubernetes Secret to the container environment
// and nowhere else, and replaces a task whose essential container is killed.
import type { Service } from '../../../src/api';
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type Dockerode from 'dockerode';
import { run, testEnv } from '../../env/env';
import { clusterYaml, eventually, isRunning, labelOf, startHarness, taskLabels, waitForInstances, type Harness } from '../../support/berth-harness';

const image = testEnv().testImage;
const secretValue = `s3cr3t-${randomBytes(8).toString('hex')}`;
let h: Harness;

const taskDefinition = `apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: web
spec:
  networkMode: bridge
  volumes:
    - name: shared # no host path: a Docker volume that lives as long as the task
  containerDefinitions:
    - name: web
      image: ${image}
      memory: 64
      command:
        - sh
        - -c
        - trap "exit 0" TERM; mkdir -p /www; echo "hello from $HOSTNAME" > /www/index.html; echo "written-by-web $HOSTNAME" > /shared/message; httpd -f -p 8080 -h /www & wait
      portMappings:
        - containerPort: 8080 # no hostPort: the engine picks one
      mountPoints:
        - sourceVolume: shared
          containerPath: /shared
      secrets:
        - name: API_TOKEN
          valueFrom:
            secretKeyRef: { name: api-token, key: token }
      healthCheck:
        command: [CMD-SHELL, wget -q -O /dev/null http://localhost:8080/ || exit 1]
        interval: 5
        timeout: 2
        retries: 3
        startPeriod: 0
    - name: reader
      image: ${image}
      memory: 32
      command: [sh, -c, 'trap "exit 0" TERM; echo "reader read: $(cat /shared/message)"; sleep 3600 & wait']
      mountPoints:
        - sourceVolume: shared
          containerPath: /shared
          readOnly: true
      dependsOn:
        - containerName: web
          condition: HEALTHY
`;

const service = `apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: web
spec:
  cluster: demo
  taskDefinition: web
  desiredCount: 3
`;

interface TaskObject {
  metadata: { name: string; uid: string };
  spec: { desiredStatus?: string };
  status?: {
    lastStatus?: string;
    stopCode?: string;
    stoppedReason?: string;
    containers?: { name: string; runtimeId?: string; exitCode?: number; networkBindings?: { bindIP?: string; containerPort: number; hostPort?: number }[] }[];
  };
}

const serviceTasks = async () => (await h.get<{ items: TaskObject[] }>('tasks', '-l', 'berth.dev/service=web'))?.items ?? [];
const runningTasks = async () => (await serviceTasks()).filter((t) => t.status?.lastStatus === 'RUNNING' && t.spec.desiredStatus !== 'STOPPED');
const containersNamed = async (name: string) => h.containers(`${taskLabels.containerName}=${name}`);

/** Docker shows exactly `count` running web containers, each with a running reader of the same task. */
async function dockerRunsTasks(count: number): Promise<Set<string> | undefined> {
  const web = (await containersNamed('web')).filter(isRunning);
  const reader = (await containersNamed('reader')).filter(isRunning);
  const uids = new Set(web.map((c) => labelOf(c, taskLabels.taskUid)));
  const readerUids = new Set(reader.map((c) => labelOf(c, taskLabels.taskUid)));
  if (web.length !== count || reader.length !== count || uids.size !== count) return undefined;
  return [...uids].every((uid) => readerUids.has(uid)) ? uids : undefined;
}

function httpGet(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/', timeout: 5000 }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
  });
}

async function inspectTaskContainer(taskUid: string, name: string): Promise<Dockerode.ContainerInspectInfo> {
  const [info] = await h.containers(`${taskLabels.taskUid}=${taskUid}`, `${taskLabels.containerName}=${name}`);
  if (!info) throw new Error(`no ${name} container for task ${taskUid}`);
  return h.docker.getContainer(info.Id).inspect();
}

beforeAll(async () => {
  h = await startHarness({ prefix: 'svc-replica' });
  await h.apply(`apiVersion: v1
kind: Secret
metadata:
  name: api-token
type: Opaque
stringData:
  token: ${secretValue}
`);
  await h.apply(clusterYaml('demo', 1));
  await waitForInstances(h, 1);
  await h.apply(taskDefinition);
  await h.apply(service);
});

afterAll(async () => {
  await h?.stop();
});

test('the service converges to 3 running containers (Docker shows 3 tasks, each with its web and reader)', async () => {
  await eventually(async () => (await h.get<Service>('bsvc/web'))?.status?.runningCount === 3, 'service runningCount 3');
  const uids = await eventually(() => dockerRunsTasks(3), 'Docker to run 3 tasks');
  const tasks = await runningTasks();
  expect(tasks).toHaveLength(3);
  expect(new Set(tasks.map((t) => t.metadata.uid))).toEqual(uids);
  // Nothing else of this namespace runs on the engine.
  expect((await h.containers()).filter(isRunning)).toHaveLength(6);
});

test('dependsOn HEALTHY holds: each reader started after its web container first reported healthy', async () => {
  for (const task of await runningTasks()) {
    const web = await inspectTaskContainer(task.metadata.uid, 'web');
    const reader = await inspectTaskContainer(task.metadata.uid, 'reader');
    const log = web.State.Health?.Log ?? [];
    // Docker keeps the last 5 results: fewer means the first check is still in the log.
    expect(log.length).toBeGreaterThan(0);
    expect(log.length).toBeLessThan(5);
    const firstHealthy = log.find((entry) => entry.ExitCode === 0);
    expect(firstHealthy).toBeDefined();
    const readerStarted = Date.parse(reader.State.StartedAt);
    expect(readerStarted).toBeGreaterThanOrEqual(Date.parse(firstHealthy!.End));
    // The first check runs one interval (5 s) after the start: the reader waited at least that long.
    expect(readerStarted - Date.parse(web.State.StartedAt)).toBeGreaterThanOrEqual(4_500);
  }
});

test('dynamic host ports are reported in networkBindings and reach their own task on 127.0.0.1', async () => {
  const tasks = await runningTasks();
  const ports = new Set<number>();
  for (const task of tasks) {
    const web = task.status!.containers!.find((c) => c.name === 'web')!;
    const binding = web.networkBindings?.find((b) => b.containerPort === 8080);
    expect(binding?.bindIP).toBe('127.0.0.1');
    const hostPort = binding!.hostPort!;
    expect(hostPort).toBeGreaterThan(0);
    ports.add(hostPort);

    // Docker publishes the same port, for this task's container.
    const [listed] = await h.containers(`${taskLabels.taskUid}=${task.metadata.uid}`, `${taskLabels.containerName}=web`);
    expect(listed.Id).toBe(web.runtimeId);
    expect(listed.Ports).toEqual(expect.arrayContaining([expect.objectContaining({ IP: '127.0.0.1', PrivatePort: 8080, PublicPort: hostPort })]));

    const response = await httpGet(hostPort);
    expect(response.status).toBe(200);
    expect(response.body.trim()).toBe(`hello from ${listed.Id.slice(0, 12)}`);
  }
  expect(ports.size).toBe(3);
});

test('the sidecar reads the file the main container wrote into their shared task volume', async () => {
  for (const task of await runningTasks()) {
    const web = await inspectTaskContainer(task.metadata.uid, 'web');
    const reader = await inspectTaskContainer(task.metadata.uid, 'reader');
    const expected = `written-by-web ${web.Id.slice(0, 12)}`;
    // What the reader printed when it started, and what it reads now.
    const logs = await run('docker', ['logs', reader.Id], { env: { ...process.env, DOCKER_HOST: testEnv().dockerHost } });
    expect(logs.stdout).toContain(`reader read: ${expected}`);
    expect((await h.exec(reader.Id, ['cat', '/shared/message'])).trim()).toBe(expected);
    // One volume per task: the two containers mount the same one, another task's is a different one.
    const webVolume = web.Mounts.find((m) => m.Destination === '/shared')!.Name;
    expect(reader.Mounts.find((m) => m.Destination === '/shared')!.Name).toBe(webVolume);
  }
  const volumes = new Set<string>();
  for (const task of await runningTasks())
    volumes.add((await inspectTaskContainer(task.metadata.uid, 'web')).Mounts.find((m) => m.Destination === '/shared')!.Name!);
  expect(volumes.size).toBe(3);
});

test('the secret reaches the container environment and appears nowhere in status, Events or logs', async () => {
  const [task] = await runningTasks();
  const web = await inspectTaskContainer(task.metadata.uid, 'web');
  expect((await h.exec(web.Id, ['sh', '-c', 'echo $API_TOKEN'])).trim()).toBe(secretValue);

  const everything = [
    await h.yaml('tasks'),
    await h.yaml('services'),
    await h.yaml('taskdefinitions'),
    await h.yaml('containerinstances'),
    await h.yaml('clusters'),
    await h.yaml('events'),
  ];
  expect(everything[0]).toContain(task.metadata.name);
  expect(everything[5]).toContain('TaskRunning');
  for (const text of everything) expect(text).not.toContain(secretValue);

  const logs = h.logs.text();
  expect(logs).toContain('created container');
  expect(logs).not.toContain(secretValue);
});

test('a task whose essential container is killed stops with the reason and is replaced', async () => {
  const before = await runningTasks();
  const victim = before[0];
  const victimWeb = await inspectTaskContainer(victim.metadata.uid, 'web');
  await h.docker.getContainer(victimWeb.Id).kill();

  const stopped = await eventually(async () => {
    const task = await h.get<TaskObject>(`task/${victim.metadata.name}`);
    return task?.status?.lastStatus === 'STOPPED' ? task : undefined;
  }, 'the victim task to be STOPPED');
  expect(stopped.status!.stopCode).toBe('EssentialContainerExited');
  expect(stopped.status!.stoppedReason).toContain('Essential container in task exited: web exited with code 137');
  expect(stopped.status!.containers!.find((c) => c.name === 'web')!.exitCode).toBe(137);
  // Both containers are reported as the stop left them: the killed web, and the reader Berth stopped (SIGTERM → exit 0).
  expect(stopped.status!.containers).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ name: 'web', lastStatus: 'STOPPED', exitCode: 137 }),
      expect.objectContaining({ name: 'reader', lastStatus: 'STOPPED', exitCode: 0 }),
    ]),
  );

  const uids = await eventually(
    async () => {
      const running = await dockerRunsTasks(3);
      return running && !running.has(victim.metadata.uid) ? running : undefined;
    },
    'Docker to run 3 tasks again, without the victim',
    60_000,
  );
  const survivors = before.slice(1).map((t) => t.metadata.uid);
  for (const uid of survivors) expect(uids.has(uid)).toBe(true);
  await eventually(async () => (await h.get<Service>('bsvc/web'))?.status?.runningCount === 3, 'service runningCount 3 again');

  // The victim's containers are stopped, not running again (ECS never restarts a container).
  const victimContainers = await h.containers(`${taskLabels.taskUid}=${victim.metadata.uid}`);
  expect(victimContainers.filter(isRunning)).toEqual([]);
  expect((await runningTasks()).map((t) => t.metadata.name)).not.toContain(victim.metadata.name);
});
