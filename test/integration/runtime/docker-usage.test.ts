// DockerRuntime.usage against the real engine of the test environment, with the local busybox image: what a
// task's running containers use, read with one-shot stats. A busy loop keeps one container on a core while the
// other sleeps, so the average between two readings tells them apart whatever the machine's load; a container
// that has exited counts nothing. Every container carries this run's container-instance label; afterAll
// removes them.
import { randomUUID } from 'node:crypto';
import Dockerode from 'dockerode';
import type { ContainerDefinition, TaskDefinitionSpec } from '../../../src/api';
import { DockerRuntime } from '../../../src/agent/runtime/docker/docker-runtime';
import { taskLabels, type TaskLaunch, type TaskObservation, type CumulativeUsage } from '../../../src/agent/task-runtime';
import { eventually } from '../../../src/runtime/eventually';
import { dockerSocketPath, testEnv } from '../../env/env';

const env = testEnv();
const docker = new Dockerode({ socketPath: dockerSocketPath(env) });
const containerInstance = `it-usage-${randomUUID().slice(0, 8)}`;
const instanceFilter = { label: [`${taskLabels.containerInstance}=${containerInstance}`] };
const runtime = new DockerRuntime({ docker, containerInstance });

const mib = 2 ** 20;
const busy = ['sh', '-c', 'trap "exit 0" TERM; while :; do :; done'];
const sleeper = ['sh', '-c', 'exec sleep 300'];

function container(input: Omit<ContainerDefinition, 'image' | 'essential'> & { essential?: boolean }): ContainerDefinition {
  return { image: env.testImage, essential: true, memory: 64, stopTimeout: 1, ...input };
}

function launchOf(taskName: string, containerDefinitions: ContainerDefinition[]): TaskLaunch {
  const spec: TaskDefinitionSpec = { networkMode: 'bridge', containerDefinitions };
  return {
    taskUid: randomUUID(),
    namespace: 'usage-it',
    taskName: `${taskName}-${randomUUID().slice(0, 6)}`,
    cluster: 'default',
    containerInstance,
    taskDefinition: `${taskName}:1`,
    spec,
    resolvedEnvironment: {},
    registryAuth: {},
    publishAddress: '127.0.0.1',
  };
}

/** One ensureRunning step every 200 ms, as an agent would take them, until `done` holds. */
async function driveUntil(launch: TaskLaunch, done: (o: TaskObservation) => boolean): Promise<TaskObservation> {
  return eventually(
    async () => {
      const observation = await runtime.ensureRunning(launch);
      return done(observation) ? observation : undefined;
    },
    `task ${launch.taskName} to reach the expected state`,
    { timeoutMs: 30_000, intervalMs: 200 },
  );
}

const statusOf = (o: TaskObservation, name: string) => o.containers.find((c) => c.name === name)?.lastStatus;

/** CPU units used between two readings: ns used ÷ ns of wall time × 1024. */
const cpuUnitsBetween = (first: CumulativeUsage, second: CumulativeUsage) =>
  ((second.cpuNanoseconds - first.cpuNanoseconds) / ((second.readAt - first.readAt) * 1e6)) * 1024;

async function readTwice(taskUid: string, apartMs: number): Promise<[CumulativeUsage, CumulativeUsage]> {
  const first = await runtime.usage(taskUid);
  await new Promise((resolve) => setTimeout(resolve, apartMs));
  const second = await runtime.usage(taskUid);
  if (!first || !second) throw new Error(`no usage for task ${taskUid}: ${JSON.stringify({ first, second })}`);
  return [first, second];
}

afterAll(async () => {
  const containers = await docker.listContainers({ all: true, filters: instanceFilter });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true })));
});

describe('DockerRuntime.usage on a real engine', () => {
  it('sums the running containers: CPU time that grows with the busy one, memory below the limits, the engine clock', async () => {
    const launch = launchOf('burn', [container({ name: 'busy', command: busy }), container({ name: 'idle', essential: false, command: sleeper })]);
    await driveUntil(launch, (o) => o.containers.every((c) => c.lastStatus === 'RUNNING'));

    const before = Date.now();
    const [first, second] = await readTwice(launch.taskUid, 3000);
    // A core busy for 3 s is 3e9 ns, 1024 units; a loaded machine gives the loop less, an idle sleeper adds ~0.
    expect(cpuUnitsBetween(first, second)).toBeGreaterThan(100);
    // Both containers hold a shell and little else, each under its 64 MiB hard limit.
    expect(second.memoryBytes).toBeGreaterThan(0);
    expect(second.memoryBytes).toBeLessThan(2 * 64 * mib);
    // The engine's timestamp, on this machine's clock.
    expect(first.readAt).toBeGreaterThanOrEqual(before - 1000);
    expect(second.readAt).toBeLessThanOrEqual(Date.now() + 1000);

    await runtime.stop(launch.taskUid, {});
    expect(await runtime.usage(launch.taskUid)).toBeUndefined();
  });

  it('an idle task uses next to no CPU; a container that has exited counts nothing', async () => {
    const launch = launchOf('idle', [container({ name: 'idle', command: sleeper }), container({ name: 'once', essential: false, command: ['true'] })]);
    await driveUntil(launch, (o) => statusOf(o, 'idle') === 'RUNNING' && statusOf(o, 'once') === 'STOPPED');

    const [first, second] = await readTwice(launch.taskUid, 2000);
    expect(cpuUnitsBetween(first, second)).toBeLessThan(50);
    expect(second.memoryBytes).toBeLessThan(64 * mib);
  });

  it('undefined for a task the engine does not hold', async () => {
    expect(await runtime.usage(randomUUID())).toBeUndefined();
  });
});
