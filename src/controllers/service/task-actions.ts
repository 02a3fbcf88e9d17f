import { stopReasonAnnotation, tasks as taskType, type Service, type Task } from '../../api';
import { isStoreError, type ObjectStore } from '../../store/object-store';
import { buildServiceTask, daemonTaskName, nextTaskNames, taskPhase, type TaskPhase } from './service-tasks';

/**
 * The service controller's executor for task effects: creating tasks under deterministic names and
 * asking tasks to stop. Both are idempotent: AlreadyExists means an earlier attempt (perhaps by a
 * previous process) already did it; stopping a task that is already stopping changes nothing.
 */

export async function startReplicaTasks(
  store: ObjectStore,
  service: Service,
  deploymentId: string,
  taskDefinition: string,
  count: number,
  existing: Task[],
): Promise<number> {
  let created = 0;
  for (const name of nextTaskNames(service, deploymentId, existing, count)) {
    if (await createIgnoringExisting(store, buildServiceTask(service, deploymentId, taskDefinition, name))) created++;
  }
  return created;
}

export async function startDaemonTask(store: ObjectStore, service: Service, deploymentId: string, taskDefinition: string, instance: string): Promise<boolean> {
  return createIgnoringExisting(store, buildServiceTask(service, deploymentId, taskDefinition, daemonTaskName(service, deploymentId, instance), instance));
}

async function createIgnoringExisting(store: ObjectStore, task: Task): Promise<boolean> {
  try {
    await store.create(taskType, task);
    return true;
  } catch (error) {
    if (isStoreError(error, 'AlreadyExists')) return false;
    throw error;
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

/** ECS StopTask as the service scheduler does it: desiredStatus STOPPED, with the reason for the task's stoppedReason. */
export async function stopTask(store: ObjectStore, task: Task, reason: string): Promise<void> {
  try {
    await store.patch(taskType, task.metadata.namespace, task.metadata.name, {
      metadata: { annotations: { [stopReasonAnnotation]: reason } },
      spec: { desiredStatus: 'STOPPED' },
    });
  } catch (error) {
    if (!isStoreError(error, 'NotFound')) throw error;
  }
}

/** Stopped tasks stay readable (ECS shows them for a while); beyond this many per service the oldest go. */
export const retainedStoppedTasks = 10;

export async function pruneStoppedTasks(store: ObjectStore, tasks: Task[]): Promise<void> {
  const stopped = tasks
    .filter((task) => task.status?.lastStatus === 'STOPPED')
    .sort((a, b) => (b.status?.stoppedAt ?? '').localeCompare(a.status?.stoppedAt ?? ''));
  for (const task of stopped.slice(retainedStoppedTasks)) {
    await store.delete(taskType, task.metadata.namespace, task.metadata.name).catch((error: unknown) => {
      if (!isStoreError(error, 'NotFound')) throw error;
    });
  }
}
