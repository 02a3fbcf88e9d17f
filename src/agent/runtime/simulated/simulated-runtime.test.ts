import { FakeClock, settle } from '../../../runtime/clock';
import type { ContainerObservation, TaskObservation } from '../../task-runtime';
import { taskLaunch, taskSpec } from '../testing';
import { SimulatedRuntime, type SimulatedRuntimeOptions } from './simulated-runtime';

const healthCheck = { command: ['CMD-SHELL', 'true'], interval: 5, timeout: 2, retries: 1 };

function setup(options: Partial<SimulatedRuntimeOptions> = {}) {
  const clock = new FakeClock();
  const runtime = new SimulatedRuntime({ containerInstance: 'sim-1', clock, pullMs: 100, startMs: 200, healthyMs: 1000, completeMs: 500, ...options });
  const changes: string[] = [];
  runtime.watch((uid) => changes.push(uid));
  return { clock, runtime, changes };
}

const container = (o: TaskObservation, name: string): ContainerObservation => o.containers.find((c) => c.name === name)!;
const statuses = (o: TaskObservation) => Object.fromEntries(o.containers.map((c) => [c.name, c.lastStatus]));

describe('SimulatedRuntime', () => {
  it('moves a container PENDING → PULLED → CREATED → RUNNING after the configured delays, and reports changes', async () => {
    const { clock, runtime, changes } = setup();
    const launch = taskLaunch(taskSpec([{ name: 'app' }]));

    expect(statuses(await runtime.ensureRunning(launch))).toEqual({ app: 'PENDING' });
    await clock.advance(99);
    expect(statuses((await runtime.observe(launch.taskUid))!)).toEqual({ app: 'PENDING' });
    await clock.advance(1);
    expect(statuses((await runtime.observe(launch.taskUid))!)).toEqual({ app: 'PULLED' });
    expect(changes).toEqual(['uid-1']);

    const created = container(await runtime.ensureRunning(launch), 'app');
    expect(created).toMatchObject({ lastStatus: 'CREATED', runtimeId: 'simulated-sim-1-1' });
    await clock.advance(200);
    const running = container((await runtime.observe(launch.taskUid))!, 'app');
    expect(running).toMatchObject({ lastStatus: 'RUNNING', healthStatus: 'UNKNOWN', startedAt: new Date(clock.now()).toISOString() });
    expect((await runtime.observe(launch.taskUid))!.pullStoppedAt).toBeDefined();
  });

  it('turns containers with a health check HEALTHY after healthyMs', async () => {
    const { clock, runtime } = setup();
    const launch = taskLaunch(taskSpec([{ name: 'app', healthCheck }]));
    expect(container(await drive(runtime, clock, launch, 400), 'app')).toMatchObject({ lastStatus: 'RUNNING', healthStatus: 'UNKNOWN' });
    expect(container(await drive(runtime, clock, launch, 1000), 'app').healthStatus).toBe('HEALTHY');
  });

  it('allocates dynamic host ports from a counter and keeps static ones', async () => {
    const { clock, runtime } = setup({ firstDynamicPort: 40000 });
    const spec = taskSpec([
      {
        name: 'app',
        portMappings: [
          { containerPort: 80, protocol: 'tcp' },
          { containerPort: 81, hostPort: 8081, protocol: 'tcp' },
        ],
      },
    ]);
    const first = taskLaunch(spec);
    const second = taskLaunch(spec, { taskUid: 'uid-2', taskName: 'web-2' });
    await runUntilSteady(runtime, clock, first);
    await runUntilSteady(runtime, clock, second);

    expect(container((await runtime.observe('uid-1'))!, 'app').networkBindings).toEqual([
      { bindIP: '127.0.0.1', containerPort: 80, hostPort: 40000, protocol: 'tcp' },
      { bindIP: '127.0.0.1', containerPort: 81, hostPort: 8081, protocol: 'tcp' },
    ]);
    expect(container((await runtime.observe('uid-2'))!, 'app').networkBindings[0].hostPort).toBe(40001);
  });

  it('starts dependents only once their dependencies meet the condition', async () => {
    const { clock, runtime } = setup();
    const launch = taskLaunch(
      taskSpec([
        { name: 'init', essential: false },
        { name: 'db', healthCheck },
        {
          name: 'app',
          dependsOn: [
            { containerName: 'init', condition: 'SUCCESS' },
            { containerName: 'db', condition: 'HEALTHY' },
          ],
        },
      ]),
    );
    // pulled at 100 ms, init and db running at 300 ms, init exits 0 at 800 ms, db healthy at 1300 ms.
    expect(statuses(await drive(runtime, clock, launch, 400))).toEqual({ init: 'RUNNING', db: 'RUNNING', app: 'PULLED' });
    expect(statuses(await drive(runtime, clock, launch, 500))).toEqual({ init: 'STOPPED', db: 'RUNNING', app: 'PULLED' });
    const final = await drive(runtime, clock, launch, 700);
    expect(statuses(final)).toEqual({ init: 'STOPPED', db: 'RUNNING', app: 'RUNNING' });
    expect(container(final, 'init').exitCode).toBe(0);
    expect(Date.parse(container(final, 'app').startedAt!)).toBeGreaterThanOrEqual(Date.parse(container(final, 'init').finishedAt!) + 500);
  });

  it('fails containers whose image matches the failure pattern right after start, and their dependents with a reason', async () => {
    const { clock, runtime } = setup();
    const launch = taskLaunch(
      taskSpec([
        { name: 'migrate', image: 'registry.example/fail-migrations:1', essential: false },
        { name: 'app', dependsOn: [{ containerName: 'migrate', condition: 'SUCCESS' }] },
      ]),
    );
    const final = await runUntilSteady(runtime, clock, launch);

    expect(container(final, 'migrate')).toMatchObject({ lastStatus: 'STOPPED', exitCode: 1 });
    expect(container(final, 'migrate').startedAt).toBeDefined();
    expect(container(final, 'app')).toMatchObject({
      lastStatus: 'STOPPED',
      reason: 'dependsOn migrate SUCCESS can never be met: it exited with code 1',
    });
    expect(container(final, 'app').runtimeId).toBeUndefined();
  });

  it('fails containers with the configured probability, the same ones for the same seed', async () => {
    const outcomes = async (seed: number): Promise<number[]> => {
      const { clock, runtime } = setup({ failureRate: 0.5, seed });
      const exitCodes: number[] = [];
      for (let i = 0; i < 40; i++) {
        const launch = taskLaunch(taskSpec([{ name: 'app' }]), { taskUid: `uid-${i}` });
        const final = await runUntilSteady(runtime, clock, launch);
        exitCodes.push(container(final, 'app').exitCode ?? -1);
      }
      return exitCodes;
    };
    const first = await outcomes(7);
    expect(await outcomes(7)).toEqual(first);
    const failures = first.filter((code) => code === 1).length;
    expect(failures).toBeGreaterThan(8);
    expect(failures).toBeLessThan(32);
    expect(await outcomes(8)).not.toEqual(first);
  });

  it('stops every container, and those that never started with a reason; stopped tasks do not start again', async () => {
    const { clock, runtime } = setup();
    const launch = taskLaunch(taskSpec([{ name: 'app' }, { name: 'late', dependsOn: [{ containerName: 'app', condition: 'COMPLETE' }] }]));
    expect(statuses(await drive(runtime, clock, launch, 400))).toEqual({ app: 'RUNNING', late: 'PULLED' });
    await runtime.stop(launch.taskUid, {});

    const stopped = (await runtime.observe(launch.taskUid))!;
    expect(container(stopped, 'app')).toMatchObject({ lastStatus: 'STOPPED', exitCode: 0 });
    expect(container(stopped, 'late')).toMatchObject({ lastStatus: 'STOPPED', reason: 'TaskStopped: the task stopped before the container started' });
    await clock.advance(10_000);
    expect(statuses(await runtime.ensureRunning(launch))).toEqual({ app: 'STOPPED', late: 'STOPPED' });

    await runtime.remove(launch.taskUid);
    expect(await runtime.observe(launch.taskUid)).toBeUndefined();
    expect(await runtime.list()).toEqual([]);
  });

  it('lists every task it holds', async () => {
    const { clock, runtime } = setup();
    await runUntilSteady(runtime, clock, taskLaunch(taskSpec([{ name: 'a' }])));
    await runUntilSteady(runtime, clock, taskLaunch(taskSpec([{ name: 'b' }]), { taskUid: 'uid-2', taskName: 'web-2' }));
    expect((await runtime.list()).map((t) => [t.taskUid, t.taskName, statuses(t)])).toEqual([
      ['uid-1', 'web-1', { a: 'RUNNING' }],
      ['uid-2', 'web-2', { b: 'RUNNING' }],
    ]);
    expect(await runtime.version()).toBe('simulated');
  });

  it('reports the usage the test gives as a rate, CPU integrated over the clock from when the task runs', async () => {
    let load = { cpuUnits: 512, memoryMiB: 96 };
    const asked: [string, string][] = [];
    const { clock, runtime } = setup({
      usage: (uid, launch) => {
        asked.push([uid, launch.taskName]);
        return load;
      },
    });
    const launch = taskLaunch(taskSpec([{ name: 'app' }, { name: 'sidecar', essential: false }]));
    await runtime.ensureRunning(launch);
    expect(await runtime.usage(launch.taskUid)).toBeUndefined(); // nothing RUNNING yet
    await runUntilSteady(runtime, clock, launch);
    const started = Date.parse(container((await runtime.observe(launch.taskUid))!, 'app').startedAt!);

    await clock.advance(60_000);
    const first = (await runtime.usage(launch.taskUid))!;
    // Half a vCPU since the containers started: 512 / 1024 × elapsed ms × 1e6 ns/ms.
    expect(first).toEqual({ cpuNanoseconds: 0.5 * (clock.now() - started) * 1e6, memoryBytes: 96 * 2 ** 20, readAt: clock.now() });
    expect(asked).toContainEqual(['uid-1', 'web-1']);

    await clock.advance(60_000);
    const second = (await runtime.usage(launch.taskUid))!;
    // 30e9 ns in 60 s: 30e9 / 60e9 × 1024 = 512 units, the rate given.
    expect(second.cpuNanoseconds - first.cpuNanoseconds).toBe(30e9);

    load = { cpuUnits: 2048, memoryMiB: 200 };
    await clock.advance(60_000);
    const third = (await runtime.usage(launch.taskUid))!;
    // Two vCPUs since the last read: 2048 / 1024 × 60e9 ns = 120e9 ns, nothing counted again before it.
    expect(third.cpuNanoseconds - second.cpuNanoseconds).toBe(120e9);
    expect(third.memoryBytes).toBe(200 * 2 ** 20);

    await runtime.stop(launch.taskUid, {});
    expect(await runtime.usage(launch.taskUid)).toBeUndefined();
    expect(await runtime.usage('no-such-task')).toBeUndefined();
  });

  it('reads no usage unless the test gives one', async () => {
    const { clock, runtime } = setup();
    const launch = taskLaunch(taskSpec([{ name: 'app' }]));
    await runUntilSteady(runtime, clock, launch);
    expect(await runtime.usage(launch.taskUid)).toBeUndefined();

    const idle = setup({ usage: () => undefined });
    await runUntilSteady(idle.runtime, idle.clock, launch);
    expect(await idle.runtime.usage(launch.taskUid)).toBeUndefined();
  });
});

/** Advances the clock by `ms` in 100 ms steps, calling ensureRunning at each, as an agent would on every change. */
async function drive(runtime: SimulatedRuntime, clock: FakeClock, launch: ReturnType<typeof taskLaunch>, ms: number): Promise<TaskObservation> {
  for (let elapsed = 0; elapsed < ms; elapsed += 100) {
    await runtime.ensureRunning(launch);
    await clock.advance(100);
  }
  return runtime.ensureRunning(launch);
}

/** Calls ensureRunning and advances the clock by small steps until nothing changes any more. */
async function runUntilSteady(runtime: SimulatedRuntime, clock: FakeClock, launch: ReturnType<typeof taskLaunch>): Promise<TaskObservation> {
  let previous = '';
  for (let i = 0; i < 100; i++) {
    const observation = await runtime.ensureRunning(launch);
    const current = JSON.stringify(observation.containers);
    if (current === previous && clock.pendingTimers() === 0) return observation;
    previous = current;
    await clock.advance(100);
    await settle();
  }
  throw new Error('simulated task never settled');
}
