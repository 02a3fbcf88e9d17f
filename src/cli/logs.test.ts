import { PassThrough, type Writable } from 'node:stream';
import { containerInstances, tasks, validatorFor, type Task } from '../api';
import { podLabels } from '../ecs/pods';
import { pods } from '../store/builtin-types';
import { MemoryStore } from '../store/memory/memory-store';
import type { KubeObject } from '../store/object-store';
import { runLogs, type LogRequest, type LogsFlags, type LogSources } from './logs';

const namespace = 'team-a';

/** Records what was asked of it; the Pod log and the engine's containers write fixed lines. */
class FakeSources implements LogSources {
  readonly engine = 'unix:///var/run/docker.sock';
  readonly asked: unknown[] = [];
  constructor(private readonly engineContainers: { id: string; container: string; created: number }[] = []) {}

  podLog(ns: string, pod: string, container: string, request: LogRequest, out: Writable): Promise<void> {
    this.asked.push({ pod: `${ns}/${pod}`, container, request });
    out.write(`pod log of ${container}\n`);
    return Promise.resolve();
  }

  dockerContainers(taskUid: string): Promise<{ id: string; container: string; created: number }[]> {
    this.asked.push({ taskUid });
    return Promise.resolve(this.engineContainers);
  }

  dockerLog(id: string, request: LogRequest, out: Writable, err: Writable): Promise<void> {
    this.asked.push({ id, request });
    out.write(`stdout of ${id}\n`);
    err.write(`stderr of ${id}\n`);
    return Promise.resolve();
  }
}

async function createTask(store: MemoryStore, name: string, containers: string[], spec: Record<string, unknown> = {}): Promise<Task> {
  const task = await store.create<Task>(tasks, {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Task',
    metadata: { name, namespace },
    spec: { cluster: 'demo', taskDefinition: 'job:1', ...spec },
  } as KubeObject as Task);
  return store.updateStatus<Task>(tasks, {
    ...task,
    status: { lastStatus: 'RUNNING', containers: containers.map((c) => ({ name: c, lastStatus: 'RUNNING' })) },
  });
}

async function createInstance(store: MemoryStore, name: string, nodeName?: string): Promise<void> {
  await store.create(containerInstances, {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'ContainerInstance',
    metadata: { name, namespace },
    spec: { cluster: 'demo', registeredResources: { cpu: 1024, memory: 1024 }, ...(nodeName && { nodeName }) },
  } as KubeObject);
}

async function logs(store: MemoryStore, sources: LogSources, flags: Partial<LogsFlags> & { name: string }) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await runLogs({ follow: false, ...flags }, { stdout, stderr, err: (line) => (err += `${line}\n`) }, { store, namespace }, sources);
  return { code, out, err };
}

test("a task on a Docker instance: its container on this engine, by the task's uid and the container's name; stdout and stderr apart", async () => {
  const store = new MemoryStore({ validatorFor });
  await createInstance(store, 'edge-1');
  const task = await createTask(store, 'job-x', ['main'], { containerInstance: 'edge-1' });
  const sources = new FakeSources([
    { id: 'old', container: 'main', created: 1 },
    { id: 'new', container: 'main', created: 2 },
    { id: 'other', container: 'sidecar', created: 3 },
  ]);
  expect(await logs(store, sources, { name: 'job-x', follow: true, tail: 10 })).toEqual({ code: 0, out: 'stdout of new\n', err: 'stderr of new\n' });
  expect(sources.asked).toEqual([{ taskUid: task.metadata.uid }, { id: 'new', request: { follow: true, tail: 10 } }]);
});

test('a task whose containers are not on this engine: says where it runs instead of printing nothing', async () => {
  const store = new MemoryStore({ validatorFor });
  await createInstance(store, 'edge-2');
  await createTask(store, 'job-x', ['main'], { containerInstance: 'edge-2' });
  expect(await logs(store, new FakeSources(), { name: 'job-x' })).toEqual({
    code: 1,
    out: '',
    err: 'error: container main of task job-x is not on this Docker engine (unix:///var/run/docker.sock): the task runs on container instance edge-2; point DOCKER_HOST at that engine\n',
  });
});

test('an engine that cannot be reached: says which, and why', async () => {
  const store = new MemoryStore({ validatorFor });
  await createInstance(store, 'edge-1');
  await createTask(store, 'job-x', ['main'], { containerInstance: 'edge-1' });
  const sources = new FakeSources();
  sources.dockerContainers = () => Promise.reject(new Error('connect ENOENT /var/run/docker.sock'));
  expect(await logs(store, sources, { name: 'job-x' })).toEqual({
    code: 1,
    out: '',
    err: 'error: cannot reach the Docker engine (unix:///var/run/docker.sock) for task job-x: connect ENOENT /var/run/docker.sock\n',
  });
});

test("a task run as a Pod: the Pod's log through the API server, the container named as the Pod names it", async () => {
  const store = new MemoryStore({ validatorFor });
  await createInstance(store, 'node-a', 'node-a');
  const task = await createTask(store, 'web-1', ['App_Main', 'sidecar'], { containerInstance: 'node-a' });
  await store.create(pods, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace, labels: { [podLabels.taskUid]: task.metadata.uid! } },
    spec: { containers: [] },
  } as KubeObject);
  const sources = new FakeSources();
  expect(await logs(store, sources, { name: 'web-1', container: 'App_Main', tail: 5 })).toEqual({
    code: 0,
    out: expect.stringMatching(/^pod log of app-main-[0-9a-f]{8}\n$/) as string,
    err: '',
  });
  expect(sources.asked).toEqual([{ pod: 'team-a/web-1', container: expect.stringMatching(/^app-main-/) as string, request: { follow: false, tail: 5 } }]);
});

test('a Pod task whose Pod is gone, and a task not placed yet: why there is no log', async () => {
  const store = new MemoryStore({ validatorFor });
  await createInstance(store, 'node-a', 'node-a');
  await createTask(store, 'web-1', ['main'], { containerInstance: 'node-a' });
  await createTask(store, 'waiting', ['main']);
  expect((await logs(store, new FakeSources(), { name: 'web-1' })).err).toBe('error: the Pod of task web-1 on node node-a is gone, and its log with it\n');
  expect((await logs(store, new FakeSources(), { name: 'waiting' })).err).toBe('error: task waiting is not placed yet (lastStatus RUNNING)\n');
});

test("kubectl's container rules: -c needed among several, and must name one of them; a task without containers yet; NotFound", async () => {
  const store = new MemoryStore({ validatorFor });
  await createTask(store, 'two', ['web', 'log-router']);
  await store.create(tasks, {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Task',
    metadata: { name: 'new', namespace },
    spec: { cluster: 'demo', taskDefinition: 'job:1' },
  } as KubeObject);
  const sources = new FakeSources();
  expect(await logs(store, sources, { name: 'two' })).toEqual({
    code: 1,
    out: '',
    err: 'error: a container name must be specified for task two, choose one of: [web log-router]\n',
  });
  expect((await logs(store, sources, { name: 'two', container: 'db' })).err).toBe(
    'error: container db is not valid for task two, choose one of: [web log-router]\n',
  );
  expect((await logs(store, sources, { name: 'new' })).err).toBe('error: task new has no containers yet (lastStatus PROVISIONING)\n');
  expect((await logs(store, sources, { name: 'gone' })).err).toBe('Error from server (NotFound): tasks.berth.dev "gone" not found\n');
  expect(sources.asked).toEqual([]);
});
