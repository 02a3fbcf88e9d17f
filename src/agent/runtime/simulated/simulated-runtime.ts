/**
 * A TaskRuntime that runs no containers: each container moves PENDING → PULLED → CREATED → RUNNING on
 * the injected clock, turns HEALTHY when it has a health check, and fails when told to. For scale tests
 * and benchmarks of everything above the runtime, which sees the same observations, dependency order
 * and change notifications as from the Docker runtime. What a task uses is what the test says (the `usage` option).
 */
import { realClock, type Clock, type TimerHandle } from '../../../runtime/clock';
import type { ContainerObservation, NetworkBinding, TaskLaunch, TaskObservation, TaskRuntime, CumulativeUsage } from '../../task-runtime';
import { startOrder, stoppedBeforeStartReason, stopWaves } from '../container-order';
import { evaluateGate } from '../dependency-gate';
import { taskLayout, type TaskLayout } from '../task-layout';
import { seededRandom } from '../../../runtime/seeded-random';

export interface SimulatedRuntimeOptions {
  /** The ContainerInstance simulated; it prefixes runtime ids, so ids stay unique across simulated instances. */
  containerInstance: string;
  /** Drives every delay; a FakeClock makes a simulated hour take milliseconds. Default: real time. */
  clock?: Clock;
  /** Time an image pull takes. Default 100 ms. */
  pullMs?: number;
  /** Time from create to running. Default 100 ms. */
  startMs?: number;
  /** Time from running to healthy, for containers with a health check. Default 1000 ms. */
  healthyMs?: number;
  /** Time a container that others wait on with COMPLETE or SUCCESS runs before it exits 0. Default 1000 ms. */
  completeMs?: number;
  /** Probability (0..1) that a container exits with code 1 as soon as it starts. Default 0. */
  failureRate?: number;
  /** Seed of the failure draws, so a run can be repeated exactly. Default 1. */
  seed?: number;
  /** Containers whose image matches exit with code 1 as soon as they start. Default: images containing "fail". */
  failingImage?: RegExp;
  /** First dynamic host port handed out. Default 32768, where Docker's own range starts. */
  firstDynamicPort?: number;
  /**
   * What a task uses, as rates: CPU units (1024 a vCPU) and MiB. Asked at every usage() read; the CPU rate
   * given is taken to have held since the previous read (since the task's first container started RUNNING,
   * at the first read), so a constant rate gives exactly cpuUnits / 1024 × the nanoseconds elapsed, and a
   * test may change the load between reads. Default: no statistics (usage() is undefined).
   */
  usage?: (taskUid: string, launch: TaskLaunch) => { cpuUnits: number; memoryMiB: number } | undefined;
}

/** Host mode binds on the instance itself, as the Docker runtime reports it. */
const anyAddress = '0.0.0.0';
const lastDynamicPort = 60999;

interface SimulatedTask {
  launch: TaskLaunch;
  layout: TaskLayout;
  containers: Map<string, ContainerObservation>;
  /** Containers with a transition scheduled; ensureRunning leaves them alone until it fires. */
  busy: Set<string>;
  timers: Set<TimerHandle>;
  stopRequested: boolean;
  pullStartedAt?: string;
  pullStoppedAt?: string;
  /** The CPU time usage() last reported, and when: the next read adds to it. */
  cpuRead?: { nanoseconds: number; at: number };
}

export class SimulatedRuntime implements TaskRuntime {
  private readonly containerInstance: string;
  private readonly clock: Clock;
  private readonly pullMs: number;
  private readonly startMs: number;
  private readonly healthyMs: number;
  private readonly completeMs: number;
  private readonly failureRate: number;
  private readonly failingImage: RegExp;
  private readonly random: () => number;
  private readonly firstDynamicPort: number;
  private readonly usageRate: SimulatedRuntimeOptions['usage'];
  private nextDynamicPort: number;
  private nextRuntimeId = 1;
  private readonly tasks = new Map<string, SimulatedTask>();
  private readonly listeners = new Set<(taskUid: string) => void>();

  constructor(options: SimulatedRuntimeOptions) {
    this.containerInstance = options.containerInstance;
    this.clock = options.clock ?? realClock;
    this.pullMs = options.pullMs ?? 100;
    this.startMs = options.startMs ?? 100;
    this.healthyMs = options.healthyMs ?? 1000;
    this.completeMs = options.completeMs ?? 1000;
    this.failureRate = options.failureRate ?? 0;
    this.failingImage = options.failingImage ?? /fail/;
    this.random = seededRandom(options.seed ?? 1);
    this.firstDynamicPort = options.firstDynamicPort ?? 32768;
    this.nextDynamicPort = this.firstDynamicPort;
    this.usageRate = options.usage;
  }

  async ensureRunning(launch: TaskLaunch): Promise<TaskObservation> {
    const task = this.taskFor(launch);
    if (task.stopRequested) return snapshot(task);
    for (const name of startOrder(task.layout)) {
      const container = task.containers.get(name)!;
      if (task.busy.has(name)) continue;
      if (container.lastStatus === 'PENDING') {
        this.pull(task, name);
        continue;
      }
      if (container.lastStatus !== 'PULLED') continue;
      const gate = evaluateGate(
        task.layout.containers.find((c) => c.name === name)!,
        task.layout,
        (n) => task.containers.get(n),
      );
      if (gate.kind === 'failed') this.update(task, name, { lastStatus: 'STOPPED', reason: gate.reason });
      if (gate.kind === 'open') this.create(task, name);
    }
    return snapshot(task);
  }

  async stop(taskUid: string, _stopTimeouts: Record<string, number | undefined>): Promise<void> {
    const task = this.tasks.get(taskUid);
    if (!task) return;
    task.stopRequested = true;
    this.cancelTimers(task);
    const now = this.isoNow();
    for (const wave of stopWaves(task.layout, [...task.containers.keys()])) {
      for (const name of wave) {
        const container = task.containers.get(name)!;
        if (container.lastStatus === 'RUNNING') {
          this.update(task, name, { lastStatus: 'STOPPED', exitCode: 0, finishedAt: now, networkBindings: [] });
        } else if (container.lastStatus !== 'STOPPED') {
          this.update(task, name, { lastStatus: 'STOPPED', reason: stoppedBeforeStartReason });
        }
      }
    }
  }

  async remove(taskUid: string): Promise<void> {
    const task = this.tasks.get(taskUid);
    if (!task) return;
    this.cancelTimers(task);
    this.tasks.delete(taskUid);
    this.notify(taskUid);
  }

  async observe(taskUid: string): Promise<TaskObservation | undefined> {
    const task = this.tasks.get(taskUid);
    return task && snapshot(task);
  }

  async list(): Promise<TaskObservation[]> {
    return [...this.tasks.values()].map(snapshot);
  }

  watch(onChange: (taskUid: string) => void): { stop(): void } {
    const listener = (taskUid: string): void => onChange(taskUid);
    this.listeners.add(listener);
    return { stop: () => this.listeners.delete(listener) };
  }

  async version(): Promise<string> {
    return 'simulated';
  }

  /** Simulated containers write nothing. */
  async ephemeralStorageUsed(): Promise<number> {
    return 0;
  }

  /** The `usage` option's rates integrated over the clock while a container of the task is RUNNING. */
  async usage(taskUid: string): Promise<CumulativeUsage | undefined> {
    const task = this.tasks.get(taskUid);
    const rate = task && this.usageRate?.(taskUid, task.launch);
    const running = task ? [...task.containers.values()].filter((c) => c.lastStatus === 'RUNNING') : [];
    if (!task || !rate || running.length === 0) return undefined;
    const now = this.clock.now();
    const since = task.cpuRead?.at ?? Math.min(...running.map((c) => Date.parse(c.startedAt!)));
    // 512 units for 60 s: 512 / 1024 × 60,000 ms × 1e6 ns/ms = 30e9 ns, half a vCPU for the minute.
    const nanoseconds = (task.cpuRead?.nanoseconds ?? 0) + (rate.cpuUnits / 1024) * (now - since) * 1e6;
    task.cpuRead = { nanoseconds, at: now };
    return { cpuNanoseconds: nanoseconds, memoryBytes: rate.memoryMiB * 2 ** 20, readAt: now };
  }

  private taskFor(launch: TaskLaunch): SimulatedTask {
    let task = this.tasks.get(launch.taskUid);
    if (!task) {
      const layout = taskLayout(launch.spec);
      const containers = new Map(
        layout.containers.map((c): [string, ContainerObservation] => [
          c.name,
          { name: c.name, lastStatus: 'PENDING', healthStatus: 'UNKNOWN', networkBindings: [] },
        ]),
      );
      task = { launch, layout, containers, busy: new Set(), timers: new Set(), stopRequested: false };
      this.tasks.set(launch.taskUid, task);
    }
    return task;
  }

  /** Images are pulled as soon as the task arrives, whatever the dependencies: only create and start wait. */
  private pull(task: SimulatedTask, name: string): void {
    task.pullStartedAt ??= this.isoNow();
    this.after(task, name, this.pullMs, () => {
      task.pullStoppedAt = this.isoNow();
      this.update(task, name, { lastStatus: 'PULLED' });
    });
  }

  private create(task: SimulatedTask, name: string): void {
    this.update(task, name, { lastStatus: 'CREATED', runtimeId: `simulated-${this.containerInstance}-${this.nextRuntimeId++}` });
    this.after(task, name, this.startMs, () => this.start(task, name));
  }

  private start(task: SimulatedTask, name: string): void {
    const now = this.isoNow();
    const definition = task.launch.spec.containerDefinitions.find((c) => c.name === name)!;
    // Drawn for every start, failing or not, so one seed gives one sequence of outcomes.
    const unlucky = this.random() < this.failureRate;
    this.update(task, name, { lastStatus: 'RUNNING', startedAt: now, networkBindings: this.bindings(task, name) });

    if (this.failingImage.test(definition.image) || unlucky) {
      const reason = unlucky ? 'simulated failure' : `image ${definition.image} matches the simulated failure pattern`;
      this.update(task, name, { lastStatus: 'STOPPED', exitCode: 1, reason, finishedAt: now, networkBindings: [] });
      return;
    }
    if (definition.healthCheck) this.after(task, name, this.healthyMs, () => this.update(task, name, { healthStatus: 'HEALTHY' }));
    const awaitedToFinish = task.layout.containers.some((c) =>
      c.dependencies.some((d) => d.containerName === name && (d.condition === 'COMPLETE' || d.condition === 'SUCCESS')),
    );
    if (awaitedToFinish) {
      this.after(task, name, this.completeMs, () =>
        this.update(task, name, { lastStatus: 'STOPPED', exitCode: 0, finishedAt: this.isoNow(), networkBindings: [] }),
      );
    }
  }

  /** As the Docker runtime publishes: static host ports as given, dynamic ones from a counter; awsvpc always dynamic. */
  private bindings(task: SimulatedTask, name: string): NetworkBinding[] {
    const { launch, layout } = task;
    const mappings = launch.spec.containerDefinitions.find((c) => c.name === name)!.portMappings ?? [];
    return mappings.flatMap((mapping): NetworkBinding[] => {
      const base = { containerPort: mapping.containerPort, protocol: mapping.protocol };
      switch (layout.networkMode) {
        case 'none':
          return [];
        case 'host':
          return [{ ...base, bindIP: anyAddress, hostPort: mapping.containerPort }];
        case 'bridge':
          return [{ ...base, bindIP: launch.publishAddress, hostPort: mapping.hostPort || this.dynamicPort() }];
        case 'awsvpc':
          return [{ ...base, bindIP: launch.publishAddress, hostPort: this.dynamicPort() }];
      }
    });
  }

  private dynamicPort(): number {
    const port = this.nextDynamicPort;
    this.nextDynamicPort = port >= lastDynamicPort ? this.firstDynamicPort : port + 1;
    return port;
  }

  private after(task: SimulatedTask, name: string, ms: number, transition: () => void): void {
    task.busy.add(name);
    const timer = this.clock.setTimeout(() => {
      task.timers.delete(timer);
      task.busy.delete(name);
      transition();
    }, ms);
    task.timers.add(timer);
  }

  private cancelTimers(task: SimulatedTask): void {
    for (const timer of task.timers) this.clock.clearTimeout(timer);
    task.timers.clear();
    task.busy.clear();
  }

  private update(task: SimulatedTask, name: string, change: Partial<ContainerObservation>): void {
    task.containers.set(name, { ...task.containers.get(name)!, ...change });
    this.notify(task.launch.taskUid);
  }

  /** Asynchronously, so a listener that calls back into the runtime never runs inside one of its transitions. */
  private notify(taskUid: string): void {
    queueMicrotask(() => this.listeners.forEach((listener) => listener(taskUid)));
  }

  private isoNow(): string {
    return new Date(this.clock.now()).toISOString();
  }
}

function snapshot(task: SimulatedTask): TaskObservation {
  return {
    taskUid: task.launch.taskUid,
    namespace: task.launch.namespace,
    taskName: task.launch.taskName,
    containers: task.layout.containers.map((c) => {
      const container = task.containers.get(c.name)!;
      return { ...container, networkBindings: container.networkBindings.map((b) => ({ ...b })) };
    }),
    ...(task.pullStartedAt !== undefined && { pullStartedAt: task.pullStartedAt }),
    ...(task.pullStoppedAt !== undefined && { pullStoppedAt: task.pullStoppedAt }),
  };
}
