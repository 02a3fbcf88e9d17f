// Fargate on the real kube-apiserver and the real Docker engine, in a cluster with no node group at
// all: a launchType FARGATE service runs two tasks that both listen on container port 80, each in its
// own network namespace, each reached through its own port on 127.0.0.1; a task selected by a Fargate
// profile runs there too; a revision whose size Fargate does not have is stopped with ECS's reason.
import * as http from 'node:http';
import type { Task } from '../../../src/api';
import { testEnv } from '../../env/env';
import { eventually, startHarness, taskLabels, type Harness } from '../../support/berth-harness';

const image = testEnv().testImage;
let h: Harness;

const cluster = (namespace: string) => `apiVersion: berth.dev/v1alpha1
kind: Cluster
metadata:
  name: demo
spec:
  fargateProfiles:
    - name: serverless
      selectors:
        - namespace: ${namespace}
          labels: { compute: serverless }
`;

const taskDefinition = (name: string, cpu: number, memory: number) => `apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: ${name}
spec:
  networkMode: awsvpc
  cpu: ${cpu}
  memory: ${memory}
  containerDefinitions:
    - name: web
      image: ${image}
      command: [sh, -c, 'trap "exit 0" TERM; mkdir -p /www; echo "task $HOSTNAME" > /www/index.html; httpd -f -p 80 -h /www & wait']
      portMappings:
        - containerPort: 80
`;

const list = async <T>(resource: string) => (await h.get<{ items: T[] }>(resource))?.items ?? [];

function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/', timeout: 5000 }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(body));
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
  });
}

/** The host port the task's container port 80 is published on. */
const hostPortOf = (task: Task) => task.status?.containers?.find((c) => c.name === 'web')?.networkBindings?.find((b) => b.containerPort === 80)?.hostPort;

beforeAll(async () => {
  // A "GiB" of 100 kB here: the default 20 GiB of ephemeral storage becomes 2 MB, which a test can exceed.
  h = await startHarness({ prefix: 'fargate', fargateStorage: { bytesPerGiB: 100_000, storageCheckIntervalMs: 500 } });
  await h.apply(cluster(h.namespace));
  await h.apply(taskDefinition('web', 256, 512));
});

afterAll(async () => {
  await h?.stop();
});

test('two FARGATE tasks listen on the same container port, each in its own namespace, each on its own 127.0.0.1 port', async () => {
  await h.apply(`apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: web
spec:
  cluster: demo
  taskDefinition: web
  launchType: FARGATE
  desiredCount: 2
`);
  const tasks = await eventually(
    async () => {
      const running = (await list<Task>('tasks')).filter((t) => t.spec.group === 'service:web' && t.status?.lastStatus === 'RUNNING' && hostPortOf(t));
      return running.length === 2 ? running : undefined;
    },
    '2 Fargate tasks running',
    90_000,
    250,
    () => h.describe(),
  );
  for (const task of tasks) {
    expect(task.spec.capacityProviderName).toBe('FARGATE');
    expect(task.spec.containerInstance).toBeUndefined();
  }
  const ports = tasks.map((t) => hostPortOf(t)!);
  expect(new Set(ports).size).toBe(2);
  const bodies = await Promise.all(ports.map((port) => eventually(() => httpGet(port).catch(() => undefined), `port ${port} answering`, 30_000)));
  // Each port reaches its own task: two different hostnames.
  expect(bodies.every((body) => /^task \S+\n$/.test(body))).toBe(true);
  expect(new Set(bodies).size).toBe(2);
  // Every container port is published on loopback only.
  for (const task of tasks) {
    const containers = await h.containers(`${taskLabels.taskUid}=${task.metadata.uid}`);
    for (const container of containers) for (const port of container.Ports) expect(port.IP).toBe('127.0.0.1');
  }
  // No instance was charged: there is none.
  expect(await list('containerinstances')).toEqual([]);
});

test('a task a Fargate profile selects runs on Fargate', async () => {
  await h.apply(`apiVersion: berth.dev/v1alpha1
kind: Task
metadata:
  name: profiled
  labels: { compute: serverless }
spec:
  cluster: demo
  taskDefinition: web:1
`);
  const task = await eventually(
    async () => {
      const current = await h.get<Task>('tasks/profiled');
      return current?.status?.lastStatus === 'RUNNING' ? current : undefined;
    },
    'the profiled task running',
    90_000,
    250,
    () => h.describe(),
  );
  expect(task.spec.capacityProviderName).toBe('FARGATE');
});

test('a task that writes more than its ephemeral storage is stopped, and says so; its neighbours run on', async () => {
  await h.apply(`apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: writer
spec:
  networkMode: awsvpc
  cpu: 256
  memory: 512
  containerDefinitions:
    - name: app
      image: ${image}
      command: [sh, -c, 'trap "exit 0" TERM; sleep 1; dd if=/dev/zero of=/filler bs=1024 count=3000; sleep 3600 & wait']
`);
  await h.apply(`apiVersion: berth.dev/v1alpha1
kind: Task
metadata:
  name: writer
spec:
  cluster: demo
  taskDefinition: writer:1
  launchType: FARGATE
`);
  const task = await eventually(
    async () => {
      const current = await h.get<Task>('tasks/writer');
      return current?.status?.lastStatus === 'STOPPED' ? current : undefined;
    },
    'writer stopped',
    60_000,
    250,
    () => h.describe(),
  );
  expect(task.status?.stopCode).toBe('TerminationNotice');
  expect(task.status?.stoppedReason).toMatch(
    /^Task stopped because its containers wrote \d+ bytes, over its ephemeral storage of 2000000 bytes \(ephemeralStorage.sizeInGiB\)$/,
  );
  const web = (await list<Task>('tasks')).filter((t) => t.spec.group === 'service:web');
  expect(web.filter((t) => t.status?.lastStatus === 'RUNNING')).toHaveLength(2);
});

test('a revision whose cpu and memory are not a Fargate size is stopped with the reason', async () => {
  await h.apply(taskDefinition('big', 256, 4096));
  await h.apply(`apiVersion: berth.dev/v1alpha1
kind: Task
metadata:
  name: too-big
spec:
  cluster: demo
  taskDefinition: big:1
  launchType: FARGATE
`);
  const task = await eventually(
    async () => {
      const current = await h.get<Task>('tasks/too-big');
      return current?.status?.lastStatus === 'STOPPED' ? current : undefined;
    },
    'too-big stopped',
    60_000,
    250,
    () => h.describe(),
  );
  expect(task.status?.stoppedReason).toContain(
    'Task definition does not support launch_type FARGATE: memory 4096 MiB does not go with cpu 256 on Fargate (512, 1024, 2048)',
  );
  expect(await h.containers(`${taskLabels.taskUid}=${task.metadata.uid}`)).toEqual([]);
});
