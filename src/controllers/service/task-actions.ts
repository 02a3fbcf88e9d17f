import { stopReasonAnnotation, tasks as taskType, type Service, type Task } from '../../api';
import { settleAll } from '../../runtime/concurrency';
import type { EventRecorder } from '../../runtime/events';
import type { Expectations } from '../../runtime/expectations';
import type { SharedInformer } from '../../runtime/informer';
import { formatKey, keyOf } from '../../runtime/object-key';
import { isStoreError, type ObjectStore } from '../../store/object-store';
import { healthCheckFailureReason } from './deployment';
import { buildServiceTask, daemonTaskName, nextTaskNames, taskPhase, type TaskPhase } from './service-tasks';

/**
 * The service controller's executor for task effects: creating tasks under deterministic names,
 * asking tasks to stop, removing old STOPPED ones. Each write is first recorded as an expectation, so
 * the next reconcile does not act again on what this one did before the cache shows it; a write that
 * fails drops its expectation. Events report outcomes: how many tasks were really started or stopped.
 */

/** Writes in flight per reconcile: enough to keep the API server busy, few enough to stay polite. */
const writeConcurrency = 16;

const tasksWord = (n: number) => (n === 1 ? '1 task' : `${n} tasks`);

export class ServiceTaskWriter {
  constructor(
    private readonly store: ObjectStore,
    private readonly events: EventRecorder,
    private readonly expectations: Expectations,
    /** The informer the expectations are lowered from. */
    private readonly cache: SharedInformer<Task>,
  ) {}

  /**
   * A write whose outcome the cache already shows (its event came before the write returned), or one
   * that changed nothing (no event will come): waiting for it would hold the service for the whole TTL.
   */
  private settleIfShown(owner: string, name: string, shown: (cached: Task | undefined) => boolean, namespace: string | undefined): void {
    if (shown(this.cache.get(namespace, name))) this.expectations.observed(owner, name);
  }

  /** REPLICA: `count` new tasks of a deployment, at the lowest free ordinals. Resolves with how many were created. */
  async startReplicaTasks(service: Service, deploymentId: string, taskDefinition: string, count: number, existing: Task[]): Promise<number> {
    const tasks = nextTaskNames(service, deploymentId, existing, count).map((name) => buildServiceTask(service, deploymentId, taskDefinition, name));
    return this.create(service, deploymentId, taskDefinition, tasks);
  }

  /** DAEMON: one task of a deployment on each of `instances`. */
  async startDaemonTasks(service: Service, deploymentId: string, taskDefinition: string, instances: string[]): Promise<number> {
    const tasks = instances.map((instance) =>
      buildServiceTask(service, deploymentId, taskDefinition, daemonTaskName(service, deploymentId, instance), instance),
    );
    return this.create(service, deploymentId, taskDefinition, tasks);
  }

  /** ECS StopTask as the service scheduler does it, for each of `tasks`; one Event for those really asked. */
  async stopTasks(service: Service, tasks: Task[], reason: string, what: string): Promise<number> {
    const owner = formatKey(keyOf(service));
    this.expectations.expect(
      owner,
      'update',
      tasks.map((t) => t.metadata.name),
    );
    const results = await settleAll(tasks, writeConcurrency, (task) => stopTask(this.store, task, reason));
    let stopped = 0;
    results.forEach((result, i) => {
      const { name, namespace } = tasks[i].metadata;
      if (result.status === 'fulfilled' && result.value) {
        stopped++;
        const written = result.value;
        this.settleIfShown(owner, name, (cached) => cached?.metadata.resourceVersion === written.metadata.resourceVersion, namespace);
      } else this.expectations.observed(owner, name);
    });
    if (stopped > 0) {
      const unhealthy = reason === healthCheckFailureReason;
      const message = `service ${service.metadata.name} has stopped ${tasksWord(stopped)} ${what}: ${reason}.`;
      await this.events.event(service, unhealthy ? 'Warning' : 'Normal', unhealthy ? 'TasksUnhealthy' : 'TasksStopped', message);
    }
    throwFirstFailure(results);
    return stopped;
  }

  /** Removes STOPPED tasks beyond the newest `retainedStoppedTasks`, never one whose failure is not counted yet. */
  async pruneStoppedTasks(service: Service, tasks: Task[], counted: ReadonlySet<string>, isFailedLaunch: (task: Task) => boolean): Promise<void> {
    const stopped = tasks
      .filter((task) => task.status?.lastStatus === 'STOPPED' && !task.metadata.deletionTimestamp)
      .sort((a, b) => (b.status?.stoppedAt ?? '').localeCompare(a.status?.stoppedAt ?? ''));
    const removable = stopped.slice(retainedStoppedTasks).filter((task) => !isFailedLaunch(task) || counted.has(task.metadata.uid!));
    if (removable.length === 0) return;
    const owner = formatKey(keyOf(service));
    this.expectations.expect(
      owner,
      'delete',
      removable.map((t) => t.metadata.name),
    );
    const results = await settleAll(removable, writeConcurrency, async (task) => {
      await this.store.delete(taskType, task.metadata.namespace, task.metadata.name, { preconditionUid: task.metadata.uid });
    });
    results.forEach((result, i) => {
      const { name, namespace } = removable[i].metadata;
      // NotFound: already gone; the informer's delete will say so, unless it already has.
      if (result.status === 'rejected' && !isStoreError(result.reason, 'NotFound')) this.expectations.observed(owner, name);
      else if (result.status === 'rejected') this.settleIfShown(owner, name, (cached) => cached === undefined, namespace);
    });
    throwFirstFailure(results, ['NotFound']);
  }

  private async create(service: Service, deploymentId: string, taskDefinition: string, tasks: Task[]): Promise<number> {
    const owner = formatKey(keyOf(service));
    this.expectations.expect(
      owner,
      'add',
      tasks.map((t) => t.metadata.name),
    );
    const results = await settleAll(tasks, writeConcurrency, (task) => this.store.create(taskType, task));
    let created = 0;
    results.forEach((result, i) => {
      const { name, namespace } = tasks[i].metadata;
      if (result.status === 'fulfilled') created++;
      // AlreadyExists: the task is there (an earlier attempt made it) and the informer will show it, unless it already has.
      else if (!isStoreError(result.reason, 'AlreadyExists')) this.expectations.observed(owner, name);
      else this.settleIfShown(owner, name, (cached) => cached !== undefined, namespace);
    });
    if (created > 0) {
      const message = `service ${service.metadata.name} has started ${tasksWord(created)} of ${taskDefinition} (deployment ${deploymentId}).`;
      await this.events.event(service, 'Normal', 'TasksStarted', message);
    }
    throwFirstFailure(results, ['AlreadyExists']);
    return created;
  }
}

/** A write failed for another reason than the expected ones: the reconcile fails and is retried with backoff. */
function throwFirstFailure(results: PromiseSettledResult<unknown>[], tolerated: ('AlreadyExists' | 'NotFound')[] = []): void {
  for (const result of results) {
    if (result.status === 'rejected' && !tolerated.some((reason) => isStoreError(result.reason, reason))) throw result.reason;
  }
}

/** Which tasks to stop first: those that help least (unhealthy, then still starting, then healthy), newest first among equals. */
const stopPreference: Record<TaskPhase, number> = { unhealthy: 0, starting: 1, healthy: 2, stopping: 3, stopped: 4 };

export function chooseTasksToStop(candidates: Task[], count: number, now: Date, gracePeriodSeconds: number): Task[] {
  return candidates
    .filter((task) => {
      const phase = taskPhase(task, now, gracePeriodSeconds);
      return phase !== 'stopping' && phase !== 'stopped';
    })
    .sort((a, b) => {
      const byPhase = stopPreference[taskPhase(a, now, gracePeriodSeconds)] - stopPreference[taskPhase(b, now, gracePeriodSeconds)];
      return byPhase !== 0 ? byPhase : (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '');
    })
    .slice(0, count);
}

/** ECS StopTask: desiredStatus STOPPED, with the reason for the task's stoppedReason. Resolves with the task as stored, undefined when it is gone. */
export async function stopTask(store: ObjectStore, task: Task, reason: string): Promise<Task | undefined> {
  try {
    return await store.patch<Task>(taskType, task.metadata.namespace, task.metadata.name, {
      metadata: { annotations: { [stopReasonAnnotation]: reason } },
      spec: { desiredStatus: 'STOPPED' },
    });
  } catch (error) {
    if (isStoreError(error, 'NotFound')) return undefined;
    throw error;
  }
}

/** Stopped tasks stay readable (ECS shows them for a while); beyond this many per service the oldest go. */
export const retainedStoppedTasks = 10;
