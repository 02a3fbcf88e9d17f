// The Docker runtime against the real engine of the test environment, with the local busybox image.
// Every container and volume it creates carries this run's container-instance label; afterAll removes them.
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import Dockerode from 'dockerode';
import type { ContainerDefinition, TaskDefinitionSpec } from '../../../src/api';
import { DockerRuntime } from '../../../src/agent/runtime/docker/docker-runtime';
import { containerName, taskVolumeName } from '../../../src/agent/runtime/docker/names';
import { taskLabels, type ContainerObservation, type TaskLaunch, type TaskObservation } from '../../../src/agent/task-runtime';
import { captureLogs } from '../../../src/runtime/testing/fixtures';
import { dockerSocketPath, run, testEnv } from '../../env/env';

const env = testEnv();
const docker = new Dockerode({ socketPath: dockerSocketPath(env) });
const containerInstance = `it-runtime-${randomUUID().slice(0, 8)}`;
const instanceFilter = { label: [`${taskLabels.containerInstance}=${containerInstance}`] };
const logs = captureLogs('debug');
const runtime = new DockerRuntime({ docker, containerInstance, logger: logs.logger });

type ContainerInput = Omit<ContainerDefinition, 'essential'> & { essential?: boolean };

function container(input: Omit<ContainerInput, 'image'>): ContainerDefinition {
  return { image: env.testImage, essential: true, memory: 64, ...input };
}

function launchOf(
  taskName: string,
  spec: Omit<TaskDefinitionSpec, 'networkMode'> & { networkMode?: TaskDefinitionSpec['networkMode'] },
  resolvedEnvironment: TaskLaunch['resolvedEnvironment'] = {},
): TaskLaunch {
  return {
    taskUid: randomUUID(),
    namespace: 'runtime-it',
    taskName: `${taskName}-${randomUUID().slice(0, 6)}`,
    cluster: 'default',
    containerInstance,
    taskDefinition: `${taskName}:1`,
    spec: { networkMode: 'bridge', ...spec },
    resolvedEnvironment,
    registryAuth: {},
    publishAddress: '127.0.0.1',
  };
}

/**
 * Drives the runtime as an agent does: one ensureRunning step on every change it reports and at least
 * every 200 ms, until `done` holds for the observation (or the deadline passes).
 */
async function driveUntil(launch: TaskLaunch, done: (o: TaskObservation) => boolean, timeoutMs = 30_000): Promise<TaskObservation> {
  let wake: () => void = () => undefined;
  const watcher = runtime.watch((uid) => uid === launch.taskUid && wake());
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const observation = await runtime.ensureRunning(launch);
      if (done(observation)) return observation;
      if (Date.now() > deadline) throw new Error(`not steady after ${timeoutMs} ms: ${JSON.stringify(observation.containers)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    watcher.stop();
  }
}

const byName = (o: TaskObservation, name: string): ContainerObservation => {
  const found = o.containers.find((c) => c.name === name);
  if (!found) throw new Error(`no container ${name} in ${JSON.stringify(o.containers)}`);
  return found;
};
const allRunning = (o: TaskObservation) => o.containers.every((c) => c.lastStatus === 'RUNNING');
const dockerEnv = { ...process.env, DOCKER_HOST: env.dockerHost };

async function exec(containerId: string, command: string[]): Promise<string> {
  const result = await run('docker', ['exec', containerId, ...command], { env: dockerEnv, timeoutMs: 10_000 });
  if (result.code !== 0) throw new Error(`docker exec ${command.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

async function containerLogs(containerId: string): Promise<string> {
  const result = await run('docker', ['logs', containerId], { env: dockerEnv, timeoutMs: 10_000 });
  return result.stdout + result.stderr;
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

const sleeper = ['sh', '-c', 'exec sleep 300'];

afterAll(async () => {
  const containers = await docker.listContainers({ all: true, filters: instanceFilter });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true })));
  const { Volumes: volumes } = await docker.listVolumes({ filters: instanceFilter });
  await Promise.all((volumes ?? []).map((v) => docker.getVolume(v.Name).remove()));
});

describe('DockerRuntime on a real engine', () => {
  const twoContainers = launchOf('pair', {
    containerDefinitions: [
      container({ name: 'main', command: sleeper, stopTimeout: 1 }),
      container({ name: 'sidecar', essential: false, command: sleeper, stopTimeout: 1 }),
    ],
  });

  it('creates and runs every container of a task, labelled with its task and instance', async () => {
    const observation = await driveUntil(twoContainers, allRunning);

    expect(observation.containers.map((c) => c.name)).toEqual(['main', 'sidecar']);
    const listed = await docker.listContainers({ filters: { label: [`${taskLabels.taskUid}=${twoContainers.taskUid}`] } });
    expect(listed).toHaveLength(2);
    for (const c of listed) {
      expect(c.State).toBe('running');
      expect(c.Labels).toMatchObject({
        [taskLabels.taskUid]: twoContainers.taskUid,
        [taskLabels.taskName]: twoContainers.taskName,
        [taskLabels.namespace]: 'runtime-it',
        [taskLabels.cluster]: 'default',
        [taskLabels.containerInstance]: containerInstance,
        [taskLabels.taskDefinition]: 'pair:1',
      });
    }
    expect(listed.map((c) => c.Names[0]).sort()).toEqual([`/${containerName(twoContainers, 'main')}`, `/${containerName(twoContainers, 'sidecar')}`]);
    expect(containerName(twoContainers, 'main')).toMatch(new RegExp(`^berth-runtime-it-${twoContainers.taskName}-[0-9a-f]{8}-main$`));
  });

  it('a restarted agent re-adopts the running task: list() shows it and ensureRunning creates nothing', async () => {
    const before = (await runtime.observe(twoContainers.taskUid))!;
    const restarted = new DockerRuntime({ docker, containerInstance });

    const listed = (await restarted.list()).find((t) => t.taskUid === twoContainers.taskUid);
    expect(listed).toMatchObject({ namespace: 'runtime-it', taskName: twoContainers.taskName });
    expect(listed!.containers.map((c) => [c.name, c.lastStatus, c.runtimeId])).toEqual(before.containers.map((c) => [c.name, 'RUNNING', c.runtimeId]));

    const after = await restarted.ensureRunning(twoContainers);
    expect(after.containers.map((c) => c.runtimeId)).toEqual(before.containers.map((c) => c.runtimeId));
    const listedByEngine = await docker.listContainers({ all: true, filters: { label: [`${taskLabels.taskUid}=${twoContainers.taskUid}`] } });
    expect(listedByEngine).toHaveLength(2);
  });

  it('puts resolved secrets into the environment only: no label, observation or log line carries them', async () => {
    const secret = `s3cr3t-${randomUUID()}`;
    const launch = launchOf(
      'secrets',
      { containerDefinitions: [container({ name: 'app', command: sleeper, environment: [{ name: 'PLAIN', value: 'visible' }] })] },
      { app: { DB_PASSWORD: secret } },
    );
    const observation = await driveUntil(launch, allRunning);
    const id = byName(observation, 'app').runtimeId!;

    expect((await exec(id, ['sh', '-c', 'echo "$DB_PASSWORD"'])).trim()).toBe(secret);
    expect((await exec(id, ['sh', '-c', 'echo "$PLAIN"'])).trim()).toBe('visible');
    const inspection = await docker.getContainer(id).inspect();
    expect(JSON.stringify(inspection.Config.Labels)).not.toContain(secret);
    expect(JSON.stringify(observation)).not.toContain(secret);
    expect(JSON.stringify(await runtime.list())).not.toContain(secret);
    expect(logs.lines().length).toBeGreaterThan(0);
    expect(JSON.stringify(logs.lines())).not.toContain(secret);
  });

  it('masks the secret values the engine echoes when it refuses a container, also for an agent that restarted since', async () => {
    // buildLaunch refuses both values; the runtime must not rely on it. Docker refuses `=LEAK=<value>` at
    // create and runc a NUL byte at start, each quoting the variable, value included.
    const echoedAtCreate = `cr34te-${randomUUID()}`;
    const echoedAtStart = [`st4rt-${randomUUID()}`, `aft3r-nul-${randomUUID()}`];
    const atCreate = launchOf('refused-create', { containerDefinitions: [container({ name: 'app', command: sleeper })] }, { app: { '=LEAK': echoedAtCreate } });
    const atStart = launchOf(
      'refused-start',
      { containerDefinitions: [container({ name: 'app', command: sleeper })] },
      { app: { NUL_VALUE: echoedAtStart.join('\u0000') } },
    );
    const created = byName(await driveUntil(atCreate, (o) => byName(o, 'app').lastStatus === 'STOPPED'), 'app');
    const started = byName(await driveUntil(atStart, (o) => byName(o, 'app').lastStatus === 'STOPPED'), 'app');
    expect(created.reason).toBe('CannotCreateContainerError: (HTTP code 400) bad parameter - invalid environment variable: =LEAK=***** ');
    expect(started.reason).toContain(`environment variable value can't contain null(\\x00): "NUL_VALUE=*****": unknown`);
    // A restarted agent has no launch to take the values from: the container's label names its secret variables.
    const restarted = new DockerRuntime({ docker, containerInstance });
    expect(byName((await restarted.observe(atStart.taskUid))!, 'app').reason).toBe(started.reason);
    const everything = JSON.stringify([created, started, await runtime.list(), await restarted.list(), logs.lines()]);
    for (const value of [echoedAtCreate, ...echoedAtStart]) expect(everything).not.toContain(value);
  });

  it('publishes a dynamic host port on 127.0.0.1, reports it and serves through it', async () => {
    const launch = launchOf('web', {
      containerDefinitions: [
        container({
          name: 'web',
          command: ['sh', '-c', 'mkdir -p /www && echo "hello from berth" > /www/index.html && exec httpd -f -p 8080 -h /www'],
          portMappings: [{ containerPort: 8080, hostPort: 0, protocol: 'tcp' }],
        }),
      ],
    });
    const observation = await driveUntil(launch, allRunning);

    const [binding] = byName(observation, 'web').networkBindings;
    expect(binding).toMatchObject({ bindIP: '127.0.0.1', containerPort: 8080, protocol: 'tcp' });
    expect(binding.hostPort).toBeGreaterThan(0);
    let response = { status: 0, body: '' };
    for (let attempt = 0; attempt < 20 && response.status !== 200; attempt++) {
      response = await httpGet(`http://127.0.0.1:${binding.hostPort}/`).catch(() => ({ status: 0, body: '' }));
      if (response.status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(response).toEqual({ status: 200, body: 'hello from berth\n' });
  });

  it('awsvpc: the task has its own network namespace, shared by its containers, with its ports on 127.0.0.1', async () => {
    const launch = launchOf('vpc', {
      networkMode: 'awsvpc',
      containerDefinitions: [
        container({
          name: 'web',
          command: ['sh', '-c', 'mkdir -p /www && echo "inside the task" > /www/index.html && exec httpd -f -p 8080 -h /www'],
          portMappings: [{ containerPort: 8080, protocol: 'tcp' }],
        }),
        container({
          name: 'probe',
          essential: false,
          command: ['sh', '-c', 'until wget -q -O /tmp/page http://127.0.0.1:8080/; do sleep 0.2; done; cat /tmp/page; exec sleep 300'],
          stopTimeout: 1,
        }),
      ],
    });
    const observation = await driveUntil(launch, allRunning);

    const web = byName(observation, 'web');
    const probe = byName(observation, 'probe');
    expect((await docker.getContainer(probe.runtimeId!).inspect()).HostConfig.NetworkMode).toBe(`container:${web.runtimeId}`);
    await expect(
      waitFor(
        () => containerLogs(probe.runtimeId!),
        (text) => text.includes('inside the task'),
      ),
    ).resolves.toContain('inside the task');
    const [binding] = web.networkBindings;
    expect(binding).toMatchObject({ bindIP: '127.0.0.1', containerPort: 8080 });
    expect(probe.networkBindings).toEqual([]);
    const response = await waitFor(
      () => httpGet(`http://127.0.0.1:${binding.hostPort}/`).catch(() => ({ status: 0, body: '' })),
      (r) => r.status === 200,
    );
    expect(response.body).toBe('inside the task\n');
  });

  it('reports an image that cannot be pulled, and the containers that depended on it', async () => {
    // A registry address on loopback where nothing listens: the engine's pull fails without leaving the machine.
    const launch = launchOf('unpullable', {
      containerDefinitions: [
        { ...container({ name: 'app', command: sleeper }), image: '127.0.0.1:1/berth/absent:1' },
        container({ name: 'sidecar', essential: false, command: sleeper, dependsOn: [{ containerName: 'app', condition: 'START' }] }),
      ],
    });
    const observation = await driveUntil(launch, (o) => o.containers.every((c) => c.lastStatus === 'STOPPED'));

    expect(byName(observation, 'app').reason).toMatch(/^CannotPullContainerError: /);
    expect(byName(observation, 'sidecar').reason).toMatch(/^dependsOn app START can never be met: it never started \(CannotPullContainerError/);
    expect(observation.pullStartedAt).toBeDefined();
    expect(await docker.listContainers({ all: true, filters: { label: [`${taskLabels.taskUid}=${launch.taskUid}`] } })).toEqual([]);
  });

  it('shares a task volume: sidecars read what the main container writes (mountPoints and volumesFrom)', async () => {
    const reader = ['sh', '-c', 'until [ -f /shared/message ]; do sleep 0.1; done; cat /shared/message; exec sleep 300'];
    const launch = launchOf('volumes', {
      volumes: [{ name: 'shared' }],
      containerDefinitions: [
        container({
          name: 'writer',
          command: ['sh', '-c', 'echo "written by writer" > /shared/message && exec sleep 300'],
          stopTimeout: 1,
          mountPoints: [{ sourceVolume: 'shared', containerPath: '/shared', readOnly: false }],
        }),
        container({
          name: 'mounting-reader',
          essential: false,
          command: reader,
          stopTimeout: 1,
          mountPoints: [{ sourceVolume: 'shared', containerPath: '/shared', readOnly: true }],
        }),
        container({
          name: 'volumes-from-reader',
          essential: false,
          command: reader,
          stopTimeout: 1,
          volumesFrom: [{ sourceContainer: 'writer', readOnly: true }],
        }),
      ],
    });
    const observation = await driveUntil(launch, allRunning);

    for (const name of ['mounting-reader', 'volumes-from-reader']) {
      const id = byName(observation, name).runtimeId!;
      await expect(
        waitFor(
          () => containerLogs(id),
          (text) => text.includes('written by writer'),
        ),
      ).resolves.toContain('written by writer');
    }
    const { Volumes: volumes } = await docker.listVolumes({ filters: { label: [`${taskLabels.taskUid}=${launch.taskUid}`] } });
    expect(volumes?.map((v) => v.Name)).toEqual([taskVolumeName(launch, 'shared')]);

    await runtime.stop(launch.taskUid, {}); // no timeouts given: each container's own stopTimeout (1 s)
    await runtime.remove(launch.taskUid);
    expect(await runtime.observe(launch.taskUid)).toBeUndefined();
    const { Volumes: left } = await docker.listVolumes({ filters: { label: [`${taskLabels.taskUid}=${launch.taskUid}`] } });
    expect(left ?? []).toEqual([]);
  });

  it('holds dependents until dependsOn is met (HEALTHY, SUCCESS) and fails those whose condition never can be', async () => {
    const launch = launchOf('ordering', {
      containerDefinitions: [
        container({
          name: 'a',
          command: ['sh', '-c', 'touch /tmp/ready && exec sleep 300'],
          healthCheck: { command: ['CMD-SHELL', 'test -f /tmp/ready'], interval: 5, timeout: 2, retries: 1 },
        }),
        container({ name: 'b', command: sleeper, dependsOn: [{ containerName: 'a', condition: 'HEALTHY' }] }),
        container({ name: 'd', essential: false, command: ['sh', '-c', 'sleep 1; exit 0'] }),
        container({ name: 'c', command: sleeper, dependsOn: [{ containerName: 'd', condition: 'SUCCESS' }] }),
        container({ name: 'e', essential: false, command: ['sh', '-c', 'exit 3'] }),
        container({ name: 'f', essential: false, command: sleeper, dependsOn: [{ containerName: 'e', condition: 'SUCCESS' }] }),
      ],
    });
    const observation = await driveUntil(
      launch,
      (o) => ['b', 'c'].every((n) => byName(o, n).lastStatus === 'RUNNING') && byName(o, 'f').lastStatus === 'STOPPED',
    );

    const a = await docker.getContainer(byName(observation, 'a').runtimeId!).inspect();
    const firstHealthy = a.State.Health!.Log.find((entry) => entry.ExitCode === 0)!;
    expect(Date.parse(byName(observation, 'b').startedAt!)).toBeGreaterThanOrEqual(Date.parse(firstHealthy.End));
    expect(byName(observation, 'a').healthStatus).toBe('HEALTHY');

    const d = byName(observation, 'd');
    expect(d).toMatchObject({ lastStatus: 'STOPPED', exitCode: 0 });
    expect(Date.parse(byName(observation, 'c').startedAt!)).toBeGreaterThanOrEqual(Date.parse(d.finishedAt!));

    const f = byName(observation, 'f');
    expect(f.runtimeId).toBeUndefined();
    expect(f.reason).toBe('dependsOn e SUCCESS can never be met: it exited with code 3');
  });

  it('reports an exited essential container STOPPED with its exit code, and tells the watcher', async () => {
    const launch = launchOf('exits', { containerDefinitions: [container({ name: 'once', command: ['sh', '-c', 'sleep 0.5; exit 7'] })] });
    const changed: string[] = [];
    const watcher = runtime.watch((uid) => changed.push(uid));
    try {
      const observation = await driveUntil(launch, (o) => byName(o, 'once').lastStatus === 'STOPPED');
      expect(byName(observation, 'once')).toMatchObject({ lastStatus: 'STOPPED', exitCode: 7 });
      expect(byName(observation, 'once').finishedAt).toBeDefined();
      await waitFor(
        async () => changed.filter((uid) => uid === launch.taskUid).length,
        (n) => n >= 2,
      ); // start, die
      // ECS never restarts a container: further steps leave it stopped.
      const again = await runtime.ensureRunning(launch);
      expect(byName(again, 'once')).toMatchObject({ lastStatus: 'STOPPED', exitCode: 7, runtimeId: byName(observation, 'once').runtimeId });
    } finally {
      watcher.stop();
    }
  });

  it('stops with SIGTERM, then SIGKILL after stopTimeout', async () => {
    const launch = launchOf('stopping', {
      containerDefinitions: [
        container({ name: 'graceful', command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done'], stopTimeout: 2 }),
        container({ name: 'stubborn', essential: false, command: ['sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done'], stopTimeout: 2 }),
      ],
    });
    await driveUntil(launch, allRunning);

    const started = Date.now();
    await runtime.stop(launch.taskUid, { graceful: 2, stubborn: 2 });
    const elapsed = Date.now() - started;

    const observation = (await runtime.observe(launch.taskUid))!;
    expect(byName(observation, 'graceful')).toMatchObject({ lastStatus: 'STOPPED', exitCode: 0 });
    expect(byName(observation, 'stubborn')).toMatchObject({ lastStatus: 'STOPPED', exitCode: 137 });
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(8000);
    await runtime.stop(launch.taskUid, {}); // already stopped: tolerated
  });

  it('reports health checks HEALTHY and UNHEALTHY', async () => {
    const launch = launchOf('health', {
      containerDefinitions: [
        container({ name: 'fine', command: sleeper, healthCheck: { command: ['CMD', 'true'], interval: 5, timeout: 2, retries: 1 } }),
        container({ name: 'sick', command: sleeper, healthCheck: { command: ['CMD-SHELL', 'exit 1'], interval: 5, timeout: 2, retries: 1 } }),
        container({ name: 'unchecked', command: sleeper }),
      ],
    });
    const observation = await driveUntil(launch, (o) => byName(o, 'fine').healthStatus !== 'UNKNOWN' && byName(o, 'sick').healthStatus !== 'UNKNOWN');

    expect(observation.containers.map((c) => [c.name, c.healthStatus])).toEqual([
      ['fine', 'HEALTHY'],
      ['sick', 'UNHEALTHY'],
      ['unchecked', 'UNKNOWN'],
    ]);
  });

  it('reports the engine version', async () => {
    expect(await runtime.version()).toBe((await docker.version()).Version);
  });
});

async function waitFor<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}
