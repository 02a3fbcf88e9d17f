import {
  stopReasonAnnotation,
  tasks as taskType,
  containerInstances as instanceType,
  type ContainerInstance,
  type Task,
  type TaskDefinitionSpec,
} from '../api';
import { nextTaskStatus, type TaskEvent } from '../controllers/task/lifecycle';
import { remainingResources } from '../controllers/placement';
import { controllerRevisions, configMaps, secrets } from '../store/builtin-types';
import type { ControllerRevision } from '../controllers/taskdefinition/revisions';
import { revisionSpec, specOfTask } from '../controllers/taskdefinition/revision-lookup';
import type { Clock } from '../runtime/clock';
import { realClock } from '../runtime/clock';
import { Controller, type ReconcileContext, type ReconcileResult } from '../runtime/controller';
import type { SharedInformer } from '../runtime/informer';
import type { Logger } from '../runtime/logger';
import type { Manager } from '../runtime/manager';
import type { ObjectKey } from '../runtime/object-key';
import { isStoreError, type KubeObject, type ObjectStore } from '../store/object-store';
import { buildLaunch, LaunchError } from './launch';
import { essentialContainers, type TaskObservation, type TaskRuntime } from './task-runtime';
import { semanticallyEqual } from '../runtime/semantic-equal';

/**
 * Runs the in-process agents of one operator process: one TaskRuntime per container instance it
 * hosts (a slice of the local Docker engine, or a simulated engine). Like the ECS agent, it runs the
 * tasks bound to its instances, reports their state in Task status, heartbeats the instances, and
 * cleans up containers whose Task is gone. A restarted agent re-adopts what the engine runs: the
 * runtime finds containers by their task labels, so nothing is started twice.
 */

export interface AgentHostOptions {
  manager: Manager;
  /** Address container ports are published on. */
  publishAddress?: string;
  heartbeatIntervalMs?: number;
  /** How often to look for containers whose Task is gone. */
  sweepIntervalMs?: number;
  clock?: Clock;
  namespace?: string;
}

interface HostedInstance {
  namespace: string;
  name: string;
  runtime: TaskRuntime;
  /** Asked once: the engine does not change under a running agent. */
  engineVersion?: string;
  stopWatching: () => void;
}

export class AgentHost {
  private readonly instances = new Map<string, HostedInstance>();
  private readonly store: ObjectStore;
  private readonly tasks: SharedInformer<Task>;
  private readonly revisions: SharedInformer<ControllerRevision>;
  private readonly secrets: SharedInformer<KubeObject>;
  private readonly configMaps: SharedInformer<KubeObject>;
  private readonly containerInstances: SharedInformer<ContainerInstance>;
  private readonly controller: Controller;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly publishAddress: string;
  private timers: ReturnType<typeof setInterval>[] = [];

  constructor(private readonly options: AgentHostOptions) {
    const { manager, namespace } = options;
    this.store = manager.store;
    this.clock = options.clock ?? realClock;
    this.log = manager.logger.child({ component: 'agent' });
    this.publishAddress = options.publishAddress ?? '127.0.0.1';
    this.tasks = manager.informerFor<Task>(taskType, namespace);
    this.revisions = manager.informerFor<ControllerRevision>(controllerRevisions, namespace);
    this.secrets = manager.informerFor(secrets, namespace);
    this.configMaps = manager.informerFor(configMaps, namespace);
    this.containerInstances = manager.informerFor<ContainerInstance>(instanceType, namespace);
    this.controller = manager
      .addController({ name: 'agent', workers: 4, reconcile: (key, context) => this.reconcile(key, context) })
      .watch(this.tasks, (task) => (this.hosts(task) ? { namespace: task.metadata.namespace, name: task.metadata.name } : undefined));
  }

  /** Starts serving an instance (the InstanceProvider's launch). */
  async attach(instance: { namespace: string; name: string }, runtime: TaskRuntime): Promise<void> {
    const id = instanceId(instance.namespace, instance.name);
    if (this.instances.has(id)) return;
    const watcher = runtime.watch((taskUid) => this.enqueueByUid(taskUid));
    this.instances.set(id, { ...instance, runtime, stopWatching: () => watcher.stop() });
    this.log.info('agent attached', { namespace: instance.namespace, name: instance.name });
    if (this.timers.length === 0) this.startTimers();
    // Re-adopt: whatever the engine runs for this instance gets reconciled at once.
    for (const observed of await runtime.list()) this.enqueueByUid(observed.taskUid);
    for (const task of this.tasks.list(instance.namespace)) {
      if (task.spec.containerInstance === instance.name) this.controller.enqueue({ namespace: task.metadata.namespace, name: task.metadata.name });
    }
    await this.heartbeat(this.instances.get(id)!);
  }

  /** Stops serving an instance (the InstanceProvider's terminate); its containers are removed. */
  async detach(instance: { namespace: string; name: string }): Promise<void> {
    const id = instanceId(instance.namespace, instance.name);
    const hosted = this.instances.get(id);
    if (!hosted) return;
    this.instances.delete(id);
    hosted.stopWatching();
    for (const observed of await hosted.runtime.list()) await hosted.runtime.remove(observed.taskUid);
    if (this.instances.size === 0) this.stopTimers();
  }

  /** Stops reporting; with `removeContainers` (berth local, whose store dies with it) also removes every task's containers. */
  async stop(options: { removeContainers?: boolean } = {}): Promise<void> {
    this.stopTimers();
    for (const hosted of [...this.instances.values()]) {
      if (options.removeContainers) await this.detach(hosted);
      else hosted.stopWatching();
    }
  }

  private hosts(task: Task): HostedInstance | undefined {
    return task.spec.containerInstance ? this.instances.get(instanceId(task.metadata.namespace!, task.spec.containerInstance)) : undefined;
  }

  private enqueueByUid(taskUid: string): void {
    const task = this.tasks.list().find((t) => t.metadata.uid === taskUid);
    // A container whose Task is gone is an orphan: the sweep removes it.
    if (task) this.controller.enqueue({ namespace: task.metadata.namespace, name: task.metadata.name });
  }

  private async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | void> {
    const task = this.tasks.get(key.namespace, key.name);
    if (!task) return;
    const hosted = this.hosts(task);
    if (!hosted || task.status?.lastStatus === 'STOPPED') return;
    const uid = task.metadata.uid!;
    const events: TaskEvent[] = [];
    if (task.status?.lastStatus === undefined || task.status.lastStatus === 'PROVISIONING')
      events.push({ type: 'PLACED', containerInstance: task.spec.containerInstance! });

    if (task.spec.desiredStatus === 'STOPPED') {
      const byService = task.spec.group?.startsWith('service:') ?? false;
      const reason = task.metadata.annotations?.[stopReasonAnnotation] ?? (byService ? 'Task stopped by the service scheduler' : 'Task stopped by user');
      if (isStopping(task.status?.lastStatus)) {
        // Already reported STOPPING (an earlier pass, or a process that died mid-stop): finish the stop.
        await hosted.runtime.stop(uid, this.stopTimeouts(task));
        events.push(...(await this.observedAfterStop(task, hosted)), { type: 'CONTAINERS_STOPPED' });
      } else {
        events.push({ type: 'STOP_REQUESTED', stopCode: byService ? 'ServiceSchedulerInitiated' : 'UserInitiated', reason });
      }
    } else {
      const observation = await this.runStep(task, hosted, context);
      events.push('failure' in observation ? { type: 'LAUNCH_FAILED', reason: observation.failure } : this.observed(task, observation));
    }
    return this.apply(task, hosted, events, context);
  }

  /** One runtime step, or why the task cannot start at all. */
  private async runStep(task: Task, hosted: HostedInstance, context: ReconcileContext): Promise<TaskObservation | { failure: string }> {
    const spec = this.revisionSpec(task);
    if (!spec) return { failure: `task definition ${task.spec.taskDefinition} not found` };
    try {
      const launch = buildLaunch(
        task,
        spec,
        { secret: (n) => this.secrets.get(task.metadata.namespace, n), configMap: (n) => this.configMaps.get(task.metadata.namespace, n) },
        this.publishAddress,
      );
      return await hosted.runtime.ensureRunning(launch);
    } catch (error) {
      if (error instanceof LaunchError) return { failure: error.message };
      context.log.warn('runtime step failed', { error: (error as Error).message });
      throw error;
    }
  }

  private async apply(task: Task, hosted: HostedInstance, events: TaskEvent[], context: ReconcileContext): Promise<ReconcileResult | void> {
    let stored = task;
    let status = task.status;
    const now = new Date(this.clock.now());
    const queue = [...events];
    for (let event = queue.shift(); event; event = queue.shift()) {
      const next = nextTaskStatus(status, event, now);
      status = next.status;
      for (const effect of next.effects) {
        if (effect.type === 'stopContainers') {
          // Say STOPPING before waiting out the containers' stopTimeout, as ECS shows a task that is stopping.
          stored = await this.writeStatus(stored, status, context);
          await hosted.runtime.stop(task.metadata.uid!, this.stopTimeouts(task));
          if (!queue.some((e) => e.type === 'CONTAINERS_STOPPED')) queue.push(...(await this.observedAfterStop(task, hosted)), { type: 'CONTAINERS_STOPPED' });
        }
        // removeContainers is left to the sweep: a STOPPED task's containers stay, with their logs, until its Task is deleted.
        if (effect.type === 'recordEvent') await this.options.manager.events.event(task, effect.kind, effect.reason, effect.message);
      }
    }
    await this.writeStatus(stored, status, context);
    // A health check can turn healthy without an event reaching us in time: look again soon while activating.
    return status?.lastStatus === 'ACTIVATING' || status?.lastStatus === 'PENDING' ? { requeueAfterMs: 1000 } : undefined;
  }

  /** Writes `status` when it differs from what `task` holds; returns the task as stored now. */
  private async writeStatus(task: Task, status: Task['status'], context: ReconcileContext): Promise<Task> {
    if (semanticallyEqual(status, task.status)) return task;
    try {
      const written = await this.store.updateStatus(taskType, { ...task, status });
      context.log.debug('task status', { lastStatus: status?.lastStatus, healthStatus: status?.healthStatus });
      return written;
    } catch (error) {
      if (!isStoreError(error, 'NotFound')) throw error;
      return task;
    }
  }

  /** The containers as the stop left them (exit codes, STOPPED), so a STOPPED task's status reports them and not their last running state. */
  private async observedAfterStop(task: Task, hosted: HostedInstance): Promise<TaskEvent[]> {
    const observation = await hosted.runtime.observe(task.metadata.uid!);
    return observation ? [this.observed(task, observation)] : [];
  }

  /** What the runtime shows, with what the lifecycle needs from the task definition to judge it. */
  private observed(task: Task, observation: TaskObservation): TaskEvent {
    const spec = this.revisionSpec(task);
    return {
      type: 'CONTAINERS_OBSERVED',
      essential: spec ? essentialContainers(spec).map((c) => c.name) : [],
      healthChecked: (spec?.containerDefinitions ?? []).filter((c) => c.healthCheck).map((c) => c.name),
      containers: observation.containers,
      ...(observation.pullStartedAt ? { pullStartedAt: observation.pullStartedAt } : {}),
      ...(observation.pullStoppedAt ? { pullStoppedAt: observation.pullStoppedAt } : {}),
    };
  }

  private revisionSpec(task: Task): TaskDefinitionSpec | undefined {
    return revisionSpec(this.revisions, task.metadata.namespace, task.spec.taskDefinition);
  }

  private stopTimeouts(task: Task): Record<string, number | undefined> {
    const spec = this.revisionSpec(task);
    return Object.fromEntries((spec?.containerDefinitions ?? []).map((c) => [c.name, c.stopTimeout]));
  }

  private startTimers(): void {
    const heartbeatMs = this.options.heartbeatIntervalMs ?? 10_000;
    const sweepMs = this.options.sweepIntervalMs ?? 30_000;
    this.timers = [setInterval(() => void this.heartbeatAll(), heartbeatMs), setInterval(() => void this.sweepAll(), sweepMs)];
    for (const timer of this.timers) timer.unref();
  }

  private stopTimers(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  private async heartbeatAll(): Promise<void> {
    for (const hosted of this.instances.values())
      await this.heartbeat(hosted).catch((error: Error) => this.log.warn('heartbeat failed', { name: hosted.name, error: error.message }));
  }

  /** Reports the instance as connected, with what is left on it and what runs there. */
  private async heartbeat(hosted: HostedInstance): Promise<void> {
    const instance =
      this.containerInstances.get(hosted.namespace, hosted.name) ?? (await this.store.get<ContainerInstance>(instanceType, hosted.namespace, hosted.name));
    if (!instance) return;
    const onIt = this.tasks.list(hosted.namespace).filter((t) => t.spec.containerInstance === hosted.name);
    const status = {
      ...instance.status,
      status: instance.spec.status ?? 'ACTIVE',
      agentConnected: true,
      lastHeartbeatTime: new Date(this.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      remainingResources: remainingResources(instance, onIt, (t) => specOfTask(this.revisions, t)),
      runningTasksCount: onIt.filter((t) => t.status?.lastStatus === 'RUNNING').length,
      pendingTasksCount: onIt.filter((t) => ['PROVISIONING', 'PENDING', 'ACTIVATING'].includes(t.status?.lastStatus ?? 'PROVISIONING')).length,
      versionInfo: { agentVersion: 'berth-0.1.0', dockerVersion: (hosted.engineVersion ??= await hosted.runtime.version()) },
      observedGeneration: instance.metadata.generation,
    };
    await this.store.updateStatus(instanceType, { ...instance, status }).catch((error: unknown) => {
      if (!isStoreError(error, 'Conflict') && !isStoreError(error, 'NotFound')) throw error;
    });
  }

  private async sweepAll(): Promise<void> {
    // Before the first list completes every container would look orphaned.
    if (!this.tasks.hasSynced()) return;
    for (const hosted of this.instances.values()) {
      const known = new Set(this.tasks.list(hosted.namespace).map((t) => t.metadata.uid));
      for (const observed of await hosted.runtime.list()) {
        if (known.has(observed.taskUid)) continue;
        this.log.info('removing orphaned containers', { taskUid: observed.taskUid, task: observed.taskName });
        await hosted.runtime.stop(observed.taskUid, {});
        await hosted.runtime.remove(observed.taskUid);
      }
    }
  }
}

function isStopping(lastStatus: string | undefined): boolean {
  return lastStatus === 'DEACTIVATING' || lastStatus === 'STOPPING' || lastStatus === 'DEPROVISIONING';
}

function instanceId(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
