import {
  containerInstances as instanceType,
  stopReasonAnnotation,
  tasks as taskType,
  type ContainerInstance,
  type Service,
  type Task,
  type TaskDefinitionSpec,
} from '../api';
import { isAdmitted, remainingResources } from '../ecs/resources';
import { nextTaskStatus, type TaskEvent } from '../ecs/task-lifecycle';
import { revisionSpec, specOfTask } from '../ecs/revisions/revision-lookup';
import { parseTaskDefinitionRef, revisionName, type ControllerRevision } from '../ecs/revisions/revisions';
import type { TaskIndex } from '../ecs/indexes';
import type { Clock, TimerHandle } from '../runtime/clock';
import { Controller, type ReconcileContext, type ReconcileResult } from '../runtime/controller';
import type { EventRecorder } from '../runtime/events';
import type { SharedInformer } from '../runtime/informer';
import type { Logger } from '../runtime/logger';
import type { RuntimeMetrics } from '../runtime/metrics';
import type { MutationCache } from '../runtime/mutation-cache';
import type { ObjectKey } from '../runtime/object-key';
import { semanticallyEqual } from '../runtime/semantic-equal';
import { controllerRevisions } from '../store/builtin-types';
import { isStoreError, type KubeObject, type ObjectStore } from '../store/object-store';
import { InstanceLease } from './instance-lease';
import { UsageReporter } from './usage-reporter';
import { buildLaunch, LaunchError } from './launch';
import { referencesOf } from '../ecs/revisions/references';
import type { ReferencedObjects } from '../runtime/referenced-objects';
import { essentialContainers, type TaskObservation, type TaskRuntime } from './task-runtime';

/** What every instance agent of one process shares: the store, the caches, the clock. */
export interface AgentContext {
  store: ObjectStore;
  events: EventRecorder;
  clock: Clock;
  log: Logger;
  metrics: RuntimeMetrics;
  identity: string;
  tasks: SharedInformer<Task>;
  taskIndex: TaskIndex;
  /** Tasks as the agents last wrote them, so a reconcile never starts from a status older than its own write. */
  taskWrites: MutationCache<Task>;
  revisions: SharedInformer<ControllerRevision>;
  instances: SharedInformer<ContainerInstance>;
  /** Only the Secrets and ConfigMaps the tasks being launched reference are watched. */
  secrets: ReferencedObjects<KubeObject>;
  configMaps: ReferencedObjects<KubeObject>;
  publishAddress: string;
  /** Resolves when every cache the agents read has synced; false when stopping first. */
  cachesSynced(): Promise<boolean>;
  statusReportIntervalMs: number;
  /** Services, for whether their tasks' usage is reported (usage-reporter.ts). */
  services: SharedInformer<Service>;
  /** How often RUNNING tasks of auto-scaled services report their usage. */
  metricsPeriodMs: number;
  leaseRenewIntervalMs: number;
  leaseDurationSeconds: number;
}

/** Concurrent task steps per instance: a slow pull of one task does not hold the instance's other tasks. */
const workersPerInstance = 2;

/**
 * Where an agent runs tasks: a container instance (its tasks are those bound and admitted to it), or a
 * cluster's Fargate pool (its tasks are the cluster's admitted FARGATE tasks, with no instance at all).
 */
export interface AgentSeat {
  namespace: string;
  /** The instance's name; the pool's, for logs. */
  name: string;
  /** The instance whose status it reports (and whose Lease it renews, unless `heartbeat` is false); none for Fargate. */
  instance?: ContainerInstance;
  /** false for a Node's instance: the kubelet's heartbeat (the Node's readiness) says whether it is connected. */
  heartbeat?: boolean;
  /** Whether `task` is this seat's to run (or to finish stopping). */
  runs(task: Task): boolean;
  /** The tasks assigned to the seat, from the cache: what a (re)started agent steps at once. */
  assigned(): Task[];
  /** Why the seat cannot run the task at all (a Fargate size that does not exist), checked before any container is made. */
  launchProblem?(spec: TaskDefinitionSpec): string | undefined;
  /**
   * Fargate's ephemeral storage: what a running task may have written, and how often to look. A task
   * over it is stopped, as kubelet evicts a pod over its ephemeral-storage limit.
   */
  ephemeralStorage?: { limitBytes(spec: TaskDefinitionSpec): number; checkIntervalMs: number };
}

/** The seat of one container instance. */
export function instanceSeat(context: Pick<AgentContext, 'taskIndex'>, instance: ContainerInstance, heartbeat = true): AgentSeat {
  const { namespace, name } = instance.metadata;
  return {
    namespace: namespace!,
    name,
    instance,
    heartbeat,
    runs: (task) => task.spec.containerInstance === name && isAdmitted(task),
    assigned: () => context.taskIndex.onInstance(namespace, name),
  };
}

/**
 * The agent of one container instance, as the ECS agent is one per host (or of one cluster's Fargate
 * pool): its own work queue and workers, so a slow image pull or a long stopTimeout on one instance never
 * delays another; for an instance, its heartbeat Lease and its status (what is left on it, what runs
 * there), written only when it changed and at most once per report interval.
 */
export class InstanceAgent {
  private readonly controller: Controller;
  private readonly lease: InstanceLease | undefined;
  private readonly usage: UsageReporter;
  private readonly stopWatching: () => void;
  private engineVersion: string | undefined;
  private reportTimer: TimerHandle | undefined;
  private lastReportMs = -Infinity;
  private stopped = false;

  constructor(
    private readonly context: AgentContext,
    readonly seat: AgentSeat,
    readonly runtime: TaskRuntime,
  ) {
    const { name } = seat;
    this.controller = new Controller({
      name: 'agent',
      workers: workersPerInstance,
      clock: context.clock,
      logger: context.log.child({ containerInstance: name }),
      metrics: context.metrics,
      reconcile: (key, reconcileContext) => this.reconcile(key, reconcileContext),
    });
    this.lease =
      seat.instance && seat.heartbeat !== false
        ? new InstanceLease(seat.instance, {
            store: context.store,
            clock: context.clock,
            log: context.log,
            holder: context.identity,
            engineAnswers: () => runtime.version(),
            renewIntervalMs: context.leaseRenewIntervalMs,
            durationSeconds: context.leaseDurationSeconds,
          })
        : undefined;
    this.usage = new UsageReporter({
      store: context.store,
      clock: context.clock,
      log: context.log.child({ containerInstance: name }),
      runtime,
      services: context.services,
      tasks: () => seat.assigned(),
      periodMs: context.metricsPeriodMs,
    });
    const watcher = runtime.watch((taskUid) => {
      const task = context.taskIndex.withUid(taskUid);
      // A container whose Task is gone is an orphan: the sweep removes it.
      if (task) this.enqueue(task.metadata.name);
    });
    this.stopWatching = () => watcher.stop();
    void this.run().catch((error: Error) => context.log.error('agent failed', { containerInstance: name, error: error.message }));
  }

  get namespace(): string {
    return this.seat.namespace;
  }

  get name(): string {
    return this.seat.name;
  }

  enqueue(taskName: string): void {
    this.controller.enqueue({ namespace: this.namespace, name: taskName });
    this.scheduleReport();
  }

  /**
   * Stops serving the instance: no more steps, no more heartbeats. Steps in flight get `drainTimeoutMs`
   * to finish; one stuck in the engine (a pull that never ends) is abandoned, not waited for. Containers
   * stay unless the caller removes them.
   */
  async stop(drainTimeoutMs = 10_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopWatching();
    this.lease?.stop();
    this.usage.stop();
    if (this.reportTimer) this.context.clock.clearTimeout(this.reportTimer);
    await this.controller.stop(drainTimeoutMs);
  }

  private async run(): Promise<void> {
    if (!(await this.context.cachesSynced()) || this.stopped) return;
    const started = this.controller.start();
    await this.lease?.start();
    // Re-adopt: whatever the engine runs for this instance, and every task bound to it, gets a step at once.
    for (const observed of await this.runtime.list()) {
      const task = this.context.taskIndex.withUid(observed.taskUid);
      if (task) this.enqueue(task.metadata.name);
    }
    for (const task of this.seat.assigned()) this.enqueue(task.metadata.name);
    this.scheduleReport();
    this.usage.start();
    await started;
  }

  private async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | void> {
    const task = this.context.taskWrites.get(key.namespace, key.name);
    if (task?.status?.lastStatus === 'STOPPED') {
      this.releaseReferences(task);
      if (this.seat.runs(task) && task.status.stopCode === 'TerminationNotice') await this.removeStaleContainers(task, context);
    }
    if (!task || !this.seat.runs(task) || task.status?.lastStatus === 'STOPPED') return;
    const uid = task.metadata.uid!;
    const events: TaskEvent[] = [];
    if (task.status?.lastStatus === undefined || task.status.lastStatus === 'PROVISIONING') {
      events.push({ type: 'PLACED', ...(this.seat.instance ? { containerInstance: this.name } : {}) });
    }

    if (task.spec.desiredStatus === 'STOPPED') {
      const byService = task.spec.group?.startsWith('service:') ?? false;
      const reason = task.metadata.annotations?.[stopReasonAnnotation] ?? (byService ? 'Task stopped by the service scheduler' : 'Task stopped by user');
      if (isStopping(task.status?.lastStatus)) {
        // Already reported STOPPING (an earlier pass, or a process that died mid-stop): finish the stop.
        await this.runtime.stop(uid, await this.stopTimeouts(task));
        events.push(...(await this.observedAfterStop(task)), { type: 'CONTAINERS_STOPPED' });
      } else {
        events.push({ type: 'STOP_REQUESTED', stopCode: byService ? 'ServiceSchedulerInitiated' : 'UserInitiated', reason });
      }
    } else {
      const spec = await this.specOf(task);
      if (spec === 'not-yet') return { requeueAfterMs: 1_000 };
      if (spec && !this.referencesKnown(task, spec)) return { requeueAfterMs: 250 };
      const problem = spec && this.seat.launchProblem?.(spec);
      const observation = !spec
        ? { failure: `task definition ${task.spec.taskDefinition} not found` }
        : problem
          ? { failure: problem }
          : await this.runStep(task, spec, context);
      events.push('failure' in observation ? { type: 'LAUNCH_FAILED', reason: observation.failure } : this.observed(spec, observation));
      const overLimit = spec && task.status?.lastStatus === 'RUNNING' ? await this.ephemeralStorageExceeded(uid, spec) : undefined;
      if (overLimit) events.push({ type: 'STOP_REQUESTED', stopCode: 'TerminationNotice', reason: overLimit });
    }
    const result = await this.apply(task, events, context);
    const storage = this.seat.ephemeralStorage;
    return result ?? (storage && task.spec.desiredStatus === 'RUNNING' ? { requeueAfterMs: storage.checkIntervalMs } : undefined);
  }

  /**
   * Why the task must stop for what it wrote, or undefined while within its ephemeral storage.
   *   e.g. sizeInGiB 21: 21 × 2^30 = 22,548,578,304 bytes; a task at 22,548,578,305 is stopped.
   */
  private async ephemeralStorageExceeded(taskUid: string, spec: TaskDefinitionSpec): Promise<string | undefined> {
    const storage = this.seat.ephemeralStorage;
    if (!storage) return undefined;
    const limit = storage.limitBytes(spec);
    const used = await this.runtime.ephemeralStorageUsed(taskUid);
    if (used <= limit) return undefined;
    return `Task stopped because its containers wrote ${used} bytes, over its ephemeral storage of ${limit} bytes (ephemeralStorage.sizeInGiB)`;
  }

  /**
   * The revision spec the task runs (`buildLaunch` applies the task's overrides). A revision missing from the cache is asked of the API server before it
   * counts as missing: after a restart the cache may simply not have it yet, and a launch failure
   * would stop a healthy task and count against the service's circuit breaker.
   */
  private async specOf(task: Task): Promise<TaskDefinitionSpec | undefined | 'not-yet'> {
    const cached = revisionSpec(this.context.revisions, task.metadata.namespace, task.spec.taskDefinition);
    if (cached) return cached;
    const { family, revision } = parseTaskDefinitionRef(task.spec.taskDefinition);
    if (revision === undefined) return undefined;
    const stored = await this.context.store.get<ControllerRevision>(controllerRevisions, task.metadata.namespace, revisionName(family, revision));
    return stored?.data.family === family ? 'not-yet' : undefined;
  }

  /**
   * A task the control plane stopped while this agent was away (its instance disconnected, the
   * TerminationNotice stop) may still have containers running here: nobody stopped them, and the
   * service has replaced the task elsewhere. They are stopped and removed when the agent is back, as the
   * ECS agent stops the tasks the backend no longer wants; their status was never observed, so no
   * logs are kept for it. Containers the agent stopped itself have all exited and are left to the sweep.
   */
  private async removeStaleContainers(task: Task, context: ReconcileContext): Promise<void> {
    const uid = task.metadata.uid!;
    const observed = await this.runtime.observe(uid);
    if (!observed || observed.containers.every((c) => c.lastStatus === 'STOPPED')) return;
    context.log.info('stopping the containers of a task stopped while the agent was away', { stoppedReason: task.status?.stoppedReason });
    await this.runtime.stop(uid, await this.stopTimeouts(task));
    await this.runtime.remove(uid);
  }

  private releaseReferences(task: Task): void {
    this.context.secrets.setReferences(referenceOwner(task), []);
    this.context.configMaps.setReferences(referenceOwner(task), []);
  }

  /**
   * Follows the Secrets and ConfigMaps the task's spec names (released when the task is gone), and
   * says whether each is known yet: one whose watch is still starting is not missing, and must not
   * fail the launch.
   */
  private referencesKnown(task: Task, spec: TaskDefinitionSpec): boolean {
    const namespace = task.metadata.namespace!;
    const references = referencesOf(spec);
    const named = (kind: 'Secret' | 'ConfigMap') => references.filter((r) => r.kind === kind).map((r) => ({ namespace, name: r.name }));
    const owner = referenceOwner(task);
    this.context.secrets.setReferences(owner, named('Secret'));
    this.context.configMaps.setReferences(owner, named('ConfigMap'));
    return references.every(
      (r) => r.kind === 'ServiceAccount' || (r.kind === 'Secret' ? this.context.secrets : this.context.configMaps).lookup(namespace, r.name),
    );
  }

  /** One runtime step, or why the task cannot start at all. */
  private async runStep(task: Task, spec: TaskDefinitionSpec, context: ReconcileContext): Promise<TaskObservation | { failure: string }> {
    try {
      const namespace = task.metadata.namespace!;
      const launch = buildLaunch(
        task,
        spec,
        { secret: (n) => this.context.secrets.lookup(namespace, n)?.object, configMap: (n) => this.context.configMaps.lookup(namespace, n)?.object },
        this.context.publishAddress,
      );
      return await this.runtime.ensureRunning(launch);
    } catch (error) {
      if (error instanceof LaunchError) return { failure: error.message };
      context.log.warn('runtime step failed', { error: (error as Error).message });
      throw error;
    }
  }

  private async apply(task: Task, events: TaskEvent[], context: ReconcileContext): Promise<ReconcileResult | void> {
    let stored = task;
    let status = task.status;
    const now = new Date(this.context.clock.now());
    const queue = [...events];
    for (let event = queue.shift(); event; event = queue.shift()) {
      const next = nextTaskStatus(status, event, now);
      status = next.status;
      for (const effect of next.effects) {
        if (effect.type === 'stopContainers') {
          // Say STOPPING before waiting out the containers' stopTimeout, as ECS shows a task that is stopping.
          stored = await this.writeStatus(stored, status, context);
          await this.runtime.stop(task.metadata.uid!, await this.stopTimeouts(task));
          if (!queue.some((e) => e.type === 'CONTAINERS_STOPPED')) queue.push(...(await this.observedAfterStop(task)), { type: 'CONTAINERS_STOPPED' });
        }
        // removeContainers is left to the sweep: a STOPPED task's containers stay, with their logs, until its Task is deleted.
        // Not waited for, as client-go's recorder is not: the status write must not queue behind an Event
        // (the recorder keeps each object's events in order, and never rejects).
        if (effect.type === 'recordEvent') void this.context.events.event(task, effect.kind, effect.reason, effect.message);
      }
    }
    await this.writeStatus(stored, status, context);
    // A health check can turn healthy without an event reaching us in time: look again soon while activating.
    return status?.lastStatus === 'ACTIVATING' || status?.lastStatus === 'PENDING' ? { requeueAfterMs: 1000 } : undefined;
  }

  /** Writes `status` when it differs in a way worth a write from what `task` holds; returns the task as stored now. */
  private async writeStatus(task: Task, status: Task['status'], context: ReconcileContext): Promise<Task> {
    if (!worthWriting(task.status, status)) return task;
    try {
      const written = await this.context.store.updateStatus(taskType, { ...task, status });
      this.context.taskWrites.mutated(written);
      context.log.debug('task status', { lastStatus: status?.lastStatus, healthStatus: status?.healthStatus });
      this.scheduleReport();
      return written;
    } catch (error) {
      if (!isStoreError(error, 'NotFound')) throw error;
      return task;
    }
  }

  /** The containers as the stop left them (exit codes, STOPPED), so a STOPPED task's status reports them and not their last running state. */
  private async observedAfterStop(task: Task): Promise<TaskEvent[]> {
    const observation = await this.runtime.observe(task.metadata.uid!);
    const spec = revisionSpec(this.context.revisions, task.metadata.namespace, task.spec.taskDefinition);
    return observation ? [this.observed(spec, observation)] : [];
  }

  /** What the runtime shows, with what the lifecycle needs from the task definition to judge it. */
  private observed(spec: TaskDefinitionSpec | undefined, observation: TaskObservation): TaskEvent {
    return {
      type: 'CONTAINERS_OBSERVED',
      essential: spec ? essentialContainers(spec).map((c) => c.name) : [],
      healthChecked: (spec?.containerDefinitions ?? []).filter((c) => c.healthCheck).map((c) => c.name),
      containers: observation.containers,
      ...(observation.pullStartedAt ? { pullStartedAt: observation.pullStartedAt } : {}),
      ...(observation.pullStoppedAt ? { pullStoppedAt: observation.pullStoppedAt } : {}),
    };
  }

  private async stopTimeouts(task: Task): Promise<Record<string, number | undefined>> {
    const spec = await this.specOf(task);
    const containers = spec === 'not-yet' ? [] : (spec?.containerDefinitions ?? []);
    return Object.fromEntries(containers.map((c) => [c.name, c.stopTimeout]));
  }

  /**
   * The instance's status changes as tasks come and go; it is written at most once per report
   * interval, and only when it differs from what is stored.
   *   e.g. interval 10 s, 40 tasks bound within 3 s: one write at the first change, one 10 s later.
   */
  private scheduleReport(): void {
    if (this.stopped || this.reportTimer) return;
    const delayMs = Math.max(0, this.lastReportMs + this.context.statusReportIntervalMs - this.context.clock.now());
    this.reportTimer = this.context.clock.setTimeout(() => {
      this.reportTimer = undefined;
      this.lastReportMs = this.context.clock.now();
      void this.report().catch((error: Error) => this.context.log.warn('instance status report failed', { instance: this.name, error: error.message }));
    }, delayMs);
  }

  private async report(): Promise<void> {
    const instance = this.seat.instance && this.context.instances.get(this.namespace, this.name);
    if (!instance || this.stopped) return;
    const onIt = this.context.taskIndex.onInstance(this.namespace, this.name);
    const report = {
      remainingResources: remainingResources(instance, onIt, (t) => specOfTask(this.context.revisions, t)),
      runningTasksCount: onIt.filter((t) => t.status?.lastStatus === 'RUNNING').length,
      pendingTasksCount: onIt.filter((t) => ['PROVISIONING', 'PENDING', 'ACTIVATING'].includes(t.status?.lastStatus ?? 'PROVISIONING')).length,
      versionInfo: { agentVersion: 'berth-0.1.0', dockerVersion: (this.engineVersion ??= await this.runtime.version()) },
    };
    const current = instance.status ?? {};
    const unchanged = (Object.keys(report) as (keyof typeof report)[]).every((field) => semanticallyEqual(report[field], current[field]));
    if (unchanged) return;
    // A merge patch of the agent's own fields: the instance controller writes the others, and neither waits for the other's resourceVersion.
    await this.context.store.patch(instanceType, this.namespace, this.name, { status: report }, 'status').catch((error: unknown) => {
      if (!isStoreError(error, 'NotFound')) throw error;
    });
  }
}

/**
 * A task's containers pass PULLED and CREATED on their way to RUNNING within one task status
 * (PENDING): those steps, and the pull timestamps, are shown with the task's next change rather than
 * each in a write of its own. Anything a user or the service scheduler acts on — the task's status,
 * health, stop, a container's exit, health or ports — is written at once.
 *   e.g. PENDING (containers PENDING) → PULLED → CREATED → RUNNING: writes PENDING, then RUNNING.
 */
export function worthWriting(current: Task['status'], next: Task['status']): boolean {
  if (semanticallyEqual(current, next)) return false;
  if (!current || !next) return true;
  const visible = (status: NonNullable<Task['status']>) => ({
    ...status,
    pullStartedAt: undefined,
    pullStoppedAt: undefined,
    containers: status.containers?.map((c) => ({ ...c, lastStatus: c.lastStatus === 'STOPPED' ? 'STOPPED' : undefined, runtimeId: undefined })),
  });
  return !semanticallyEqual(visible(current), visible(next));
}

/** Who holds a task's references: the task, by uid (released once it has STOPPED or is gone). */
export function referenceOwner(task: Task): string {
  return `task:${task.metadata.uid}`;
}

function isStopping(lastStatus: string | undefined): boolean {
  return lastStatus === 'DEACTIVATING' || lastStatus === 'STOPPING' || lastStatus === 'DEPROVISIONING';
}
