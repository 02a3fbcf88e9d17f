// `berth run-task`, `berth logs`, `berth stop-task` and `berth describe service/NAME`, the built CLI as a user
// runs it, against the controllers (in-process, real API server and Docker engine): run-task creates a
// standalone task that the agent runs on Docker; logs prints its container's output, and -f follows new lines
// (written when the test says so) until the container exits; stop-task stops a task and its container stops
// (kept, with its log, until the Task is deleted); describe shows a service's deployment, tasks and Events.
// Every wait is on a condition, bounded.
import type { Service, Task } from '../../../src/api';
import { testEnv } from '../../env/env';
import { clusterYaml, eventually, isLive, startHarness, taskLabels, waitForInstances, type Harness } from '../../support/berth-harness';
import { CliProcess, requireBuiltCli, waitFor } from './cli-process';

const image = testEnv().testImage;
let h: Harness;

const taskDefinition = (name: string, command: string) => `apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: ${name}
spec:
  containerDefinitions:
    - name: main
      image: ${image}
      memory: 16
      command: [sh, -c, '${command}']
`;

/** `berth ARGS -n NS --kubeconfig K` to its end (bounded). */
async function berth(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = new CliProcess([...args, '-n', h.namespace, '--kubeconfig', testEnv().kubeconfig]);
  const exit = await cli.waitForExit(60_000);
  if (!exit) {
    await cli.end();
    throw new Error(`berth ${args.join(' ')} did not end\n${cli.tail()}`);
  }
  return { code: exit.code, stdout: cli.stdout, stderr: cli.stderr };
}

/** run-task of one task of `family`: its name, from the `task.berth.dev/NAME created` line. */
async function runTask(family: string): Promise<string> {
  const { code, stdout, stderr } = await berth('run-task', '--task-definition', family, '--cluster', 'demo');
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  const [, name] = /^task\.berth\.dev\/(\S+) created\n$/.exec(stdout) ?? [];
  expect(name).toMatch(new RegExp(`^${family}-[a-z0-9]{5}$`));
  return name;
}

const getTask = (name: string) => h.get<Task>(`task/${name}`);

async function running(name: string): Promise<Task> {
  return eventually(
    async () => {
      const task = await getTask(name);
      return task?.status?.lastStatus === 'RUNNING' ? task : undefined;
    },
    `task ${name} to be RUNNING`,
    60_000,
    250,
    () => h.describe(),
  );
}

beforeAll(async () => {
  requireBuiltCli();
  h = await startHarness({ prefix: 'task-commands' });
  await h.apply(clusterYaml('demo', 1));
  await waitForInstances(h, 1);
  // Writes a line, then a second one once the test creates /tmp/go, and exits.
  await h.apply(taskDefinition('gated', 'echo first line; while [ ! -f /tmp/go ]; do sleep 0.2; done; echo second line; exit 0'));
  await h.apply(taskDefinition('daemon', 'trap "exit 0" TERM; echo up; sleep 3600 & wait'));
  await eventually(async () => (await h.get<{ status?: { revision?: number } }>('btd/daemon'))?.status?.revision === 1, 'daemon:1 to be registered');
  await eventually(async () => (await h.get<{ status?: { revision?: number } }>('btd/gated'))?.status?.revision === 1, 'gated:1 to be registered');
});

afterAll(async () => {
  await h?.stop();
});

test('run-task starts a task the agent runs on Docker; logs prints its output, and -f follows new lines until the container exits', async () => {
  const name = await runTask('gated');
  const task = await running(name);
  expect(task.spec).toMatchObject({ cluster: 'demo', taskDefinition: 'gated:1', group: 'family:gated', desiredStatus: 'RUNNING' });
  await waitFor(async () => (await berth('logs', `task/${name}`)).stdout === 'first line\n', 'berth logs to print the first line', 30_000);

  const follow = new CliProcess(['logs', `task/${name}`, '-f', '-n', h.namespace, '--kubeconfig', testEnv().kubeconfig]);
  try {
    await waitFor(
      () => follow.stdout === 'first line\n',
      'logs -f to print the first line',
      30_000,
      () => follow.tail(),
    );
    expect(follow.running).toBe(true);
    const [container] = await h.containers(`${taskLabels.taskUid}=${task.metadata.uid}`);
    await h.exec(container.Id, ['touch', '/tmp/go']);
    expect(await follow.waitForExit(30_000)).toEqual({ code: 0, signal: null });
    expect({ stdout: follow.stdout, stderr: follow.stderr }).toEqual({ stdout: 'first line\nsecond line\n', stderr: '' });
  } finally {
    await follow.end();
  }
  expect((await berth('logs', `task/${name}`, '--tail', '1')).stdout).toBe('second line\n');
});

test('stop-task stops a task with the reason given, and its container stops; again: already stopped; its log stays readable', async () => {
  const name = await runTask('daemon');
  const task = await running(name);
  expect(await berth('stop-task', `task/${name}`, '--reason', 'maintenance window')).toEqual({
    code: 0,
    stdout: `task.berth.dev/${name} stopped\n`,
    stderr: '',
  });
  const stopped = await eventually(async () => {
    const t = await getTask(name);
    return t?.status?.lastStatus === 'STOPPED' ? t : undefined;
  }, `task ${name} to be STOPPED`);
  expect(stopped.status).toMatchObject({ stopCode: 'UserInitiated', stoppedReason: 'maintenance window' });
  await eventually(async () => (await h.containers(`${taskLabels.taskUid}=${task.metadata.uid}`)).filter(isLive).length === 0, 'its container to stop');
  expect(await berth('stop-task', `task/${name}`)).toEqual({ code: 0, stdout: `task.berth.dev/${name} already stopped\n`, stderr: '' });
  // A STOPPED task's containers stay until its Task is deleted: its log can still be read.
  expect(await berth('logs', `task/${name}`)).toEqual({ code: 0, stdout: 'up\n', stderr: '' });
});

test('run-task of a revision that does not exist, logs and stop-task of a task that does not exist: why, exit 1', async () => {
  expect(await berth('run-task', '--task-definition', 'daemon:9', '--cluster', 'demo')).toEqual({
    code: 1,
    stdout: '',
    stderr: `error: task definition daemon:9 not found in namespace ${h.namespace}\n`,
  });
  const notFound = { code: 1, stdout: '', stderr: 'Error from server (NotFound): tasks.berth.dev "nothing" not found\n' };
  expect(await berth('logs', 'task/nothing')).toEqual(notFound);
  expect(await berth('stop-task', 'task/nothing')).toEqual(notFound);
});

test("describe service shows its deployment, its tasks and its Events; a service that does not exist: kubectl's NotFound", async () => {
  await h.apply(`apiVersion: berth.dev/v1alpha1
kind: Service
metadata:
  name: web
spec:
  cluster: demo
  taskDefinition: daemon
  desiredCount: 1
`);
  const service = await eventually(
    async () => {
      const s = await h.get<Service>('bsvc/web');
      return s?.status?.deployments?.[0]?.rolloutState === 'COMPLETED' ? s : undefined;
    },
    'web to complete its rollout',
    60_000,
    250,
    () => h.describe(),
  );
  const [task] = (await h.get<{ items: Task[] }>('tasks', '-l', 'berth.dev/service=web'))!.items;
  const { code, stdout, stderr } = await berth('describe', 'service/web');
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  expect(stdout).toMatch(/^Name: +web\n/);
  expect(stdout).toMatch(/\nTask Definition: +daemon:1 \(spec: daemon\)\n/);
  expect(stdout).toMatch(new RegExp(`\\n {2}PRIMARY +${service.status!.deployments![0].id} +daemon:1 +COMPLETED +1 +0 +1 +0 `));
  expect(stdout).toMatch(new RegExp(`\\n {2}${task.metadata.name} +daemon:1 +RUNNING +RUNNING `));
  expect(stdout).toMatch(/\nEvents:\n.*\n.*\n(.*\n)* {2}Normal +TasksStarted +\d+s +\S+ +service web has started 1 task of daemon:1/);

  expect(JSON.parse((await berth('describe', 'service/web', '-o', 'json')).stdout)).toMatchObject({ kind: 'Service', metadata: { name: 'web' } });
  expect(await berth('describe', 'service/nothing')).toEqual({
    code: 1,
    stdout: '',
    stderr: 'Error from server (NotFound): services.berth.dev "nothing" not found\n',
  });
});
