// Standalone tasks (the RunTask analog) created with kubectl on the real engine: a one-off task runs
// once, stops with its exit code when its essential container exits 0, is not replaced, and its final
// status stays readable; a task asked to stop (desiredStatus STOPPED, the StopTask analog) gets SIGTERM,
// then SIGKILL after its container's stopTimeout.
import type { TaskDefinition } from '../../../src/api';
import { kubectlOk, run, testEnv } from '../../env/env';
import { clusterYaml, eventually, isLive, isRunning, sleep, startHarness, taskLabels, waitForInstances, type Harness } from '../../support/berth-harness';

const env = testEnv();
let h: Harness;

interface TaskObject {
  metadata: { name: string; uid: string };
  spec: { containerInstance?: string; desiredStatus?: string };
  status?: {
    lastStatus?: string;
    stopCode?: string;
    stoppedReason?: string;
    startedAt?: string;
    stoppedAt?: string;
    containers?: { name: string; lastStatus?: string; exitCode?: number }[];
  };
}

function taskDefinition(name: string, container: string): string {
  return `apiVersion: berth.dev/v1alpha1
kind: TaskDefinition
metadata:
  name: ${name}
spec:
  containerDefinitions:
    - name: main
      image: ${env.testImage}
      memory: 16
${container}`;
}

function task(name: string, family: string): string {
  return `apiVersion: berth.dev/v1alpha1
kind: Task
metadata:
  name: ${name}
spec:
  cluster: demo
  taskDefinition: ${family}:1
  group: family:${family}
`;
}

async function registered(family: string): Promise<void> {
  await eventually(async () => (await h.get<TaskDefinition>(`btd/${family}`))?.status?.revision === 1, `${family}:1 to be registered`);
}

const getTask = (name: string) => h.get<TaskObject>(`task/${name}`);
const dockerLogs = async (id: string) => (await run('docker', ['logs', id], { env: { ...process.env, DOCKER_HOST: env.dockerHost } })).stdout;

beforeAll(async () => {
  h = await startHarness({ prefix: 'svc-standalone' });
  await h.apply(clusterYaml('demo', 1));
  await waitForInstances(h, 1);
});

afterAll(async () => {
  await h?.stop();
});

test('a one-off task runs once, stops with exit code 0, is not replaced, and its final status stays readable', async () => {
  await h.apply(taskDefinition('job', `      command: [sh, -c, 'echo job-ran; sleep 2; exit 0']\n`));
  await registered('job');
  await h.apply(task('once', 'job'));

  const stopped = await eventually(async () => {
    const t = await getTask('once');
    return t?.status?.lastStatus === 'STOPPED' ? t : undefined;
  }, 'the task to be STOPPED');
  expect(stopped.spec.containerInstance).toBeDefined();
  expect(stopped.status!.startedAt).toBeDefined(); // it did reach RUNNING
  expect(stopped.status!.stoppedAt).toBeDefined();
  expect(stopped.status!.stopCode).toBe('EssentialContainerExited');
  expect(stopped.status!.stoppedReason).toContain('main exited with code 0');
  expect(stopped.status!.containers).toEqual([expect.objectContaining({ name: 'main', lastStatus: 'STOPPED', exitCode: 0 })]);

  // Docker: one container, run once, exited 0.
  const [container, ...others] = await h.containers(`${taskLabels.taskDefinition}=job:1`);
  expect(others).toEqual([]);
  expect(container.Labels[taskLabels.taskUid]).toBe(stopped.metadata.uid);
  const inspection = await h.docker.getContainer(container.Id).inspect();
  expect(inspection.State.Status).toBe('exited');
  expect(inspection.State.ExitCode).toBe(0);
  expect(inspection.RestartCount).toBe(0);
  expect((await dockerLogs(container.Id)).match(/job-ran/g)).toHaveLength(1);

  // Several heartbeats and sweeps later: not replaced, not restarted, the status unchanged and readable.
  await sleep(6_000);
  const tasks = (await h.get<{ items: TaskObject[] }>('tasks'))!.items;
  expect(tasks.map((t) => t.metadata.name)).toEqual(['once']);
  const later = await h.containers(`${taskLabels.taskDefinition}=job:1`);
  expect(later.map((c) => [c.Id, c.State])).toEqual([[container.Id, 'exited']]);
  expect((await getTask('once'))!.status).toEqual(stopped.status);
  expect(await kubectlOk(['get', 'task', 'once', '-n', h.namespace, '-o', 'jsonpath={.status.lastStatus} {.status.containers[0].exitCode}'])).toBe('STOPPED 0');
});

test('a task whose desiredStatus is patched to STOPPED gets SIGTERM, then SIGKILL after its stopTimeout', async () => {
  // The container traps SIGTERM (and says so) but keeps running: only the SIGKILL after stopTimeout ends it.
  await h.apply(
    taskDefinition(
      'stubborn',
      `      stopTimeout: 3
      command: [sh, -c, 'trap "echo got TERM" TERM; echo started; while true; do sleep 1; done']\n`,
    ),
  );
  await registered('stubborn');
  await h.apply(task('stubborn', 'stubborn'));
  await eventually(async () => (await getTask('stubborn'))?.status?.lastStatus === 'RUNNING', 'the task to be RUNNING');
  const [listed] = (await h.containers(`${taskLabels.taskDefinition}=stubborn:1`)).filter(isRunning);
  expect(listed).toBeDefined();

  const askedAt = Date.now();
  await kubectlOk(['patch', 'task', 'stubborn', '-n', h.namespace, '--type=merge', '-p', '{"spec":{"desiredStatus":"STOPPED"}}']);
  const stopped = await eventually(
    async () => {
      const t = await getTask('stubborn');
      return t?.status?.lastStatus === 'STOPPED' ? t : undefined;
    },
    'the task to be STOPPED',
    30_000,
    100,
  );
  const observedAt = Date.now();

  const inspection = await h.docker.getContainer(listed.Id).inspect();
  const finishedAt = Date.parse(inspection.State.FinishedAt);
  expect(inspection.State.ExitCode).toBe(137); // SIGKILL
  // stopTimeout 3: killed no sooner than 3 s after the request, and well before Docker's default of 30 s.
  expect(finishedAt - askedAt).toBeGreaterThanOrEqual(2_900);
  expect(finishedAt - askedAt).toBeLessThan(10_000);
  expect(observedAt - askedAt).toBeGreaterThanOrEqual(2_900);
  expect(await dockerLogs(listed.Id)).toContain('got TERM');

  expect(stopped.status!.stopCode).toBe('UserInitiated');
  expect(stopped.status!.stoppedReason).toBe('Task stopped by user');
  expect(stopped.status!.containers).toEqual([expect.objectContaining({ name: 'main', lastStatus: 'STOPPED', exitCode: 137 })]);

  // Not replaced: still just the two standalone tasks, nothing of this namespace running.
  await sleep(3_000);
  expect((await h.get<{ items: TaskObject[] }>('tasks'))!.items.map((t) => t.metadata.name).sort()).toEqual(['once', 'stubborn']);
  expect((await h.containers()).filter(isLive)).toEqual([]);
});
