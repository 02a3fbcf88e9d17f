/**
 * The baselines: the same Task objects Berth would write, written by a plain client loop with no
 * controller, no cache and no decision in between — what the store itself costs, the floor a
 * control plane cannot beat. Objects and statuses come from Berth's own builders (service task
 * naming, the task lifecycle), so the baseline writes objects of the same shape and size.
 */
import { services, tasks as taskType, type Service, type Task, type TaskStatus } from '../../src/api';
import { buildServiceTask, nextTaskNames } from '../../src/controllers/service/service-tasks';
import { stopTask } from '../../src/controllers/service/task-actions';
import { nextTaskStatus } from '../../src/ecs/task-lifecycle';
import type { ObjectStore } from '../../src/store/object-store';
import { tasksPerInstance } from './objects';
import { forEachConcurrently } from './pool';

/** Task statuses as an agent on a simulated instance reports them: PENDING with the container pulling, then RUNNING. */
function simulatedStatuses(
  containerInstance: string,
  runtimeId: string,
): { pending: TaskStatus; running: TaskStatus; stopped: (from: TaskStatus) => TaskStatus } {
  const now = new Date();
  const observed = (lastStatus: 'PENDING' | 'RUNNING' | 'STOPPED') => ({
    type: 'CONTAINERS_OBSERVED' as const,
    essential: ['app'],
    healthChecked: [],
    containers: [
      {
        name: 'app',
        lastStatus,
        healthStatus: 'UNKNOWN' as const,
        networkBindings: [],
        ...(lastStatus === 'PENDING' ? {} : { runtimeId }),
        ...(lastStatus === 'STOPPED' ? { exitCode: 0 } : {}),
      },
    ],
  });
  const placed = nextTaskStatus(undefined, { type: 'PLACED', containerInstance }, now).status;
  const pending = nextTaskStatus(placed, observed('PENDING'), now).status;
  const running = nextTaskStatus(pending, observed('RUNNING'), now).status;
  const stopped = (from: TaskStatus) => {
    let status = nextTaskStatus(from, { type: 'STOP_REQUESTED', stopCode: 'ServiceSchedulerInitiated', reason: 'bench' }, now).status;
    status = nextTaskStatus(status, observed('STOPPED'), now).status;
    return nextTaskStatus(status, { type: 'CONTAINERS_STOPPED' }, now).status;
  };
  return { pending, running, stopped };
}

/** A Service object for the baseline's tasks to belong to (no controller runs in a baseline's namespace). */
export async function createBaselineService(store: ObjectStore, namespace: string, name: string): Promise<Service> {
  return store.create<Service>(services, {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'Service',
    metadata: { namespace, name },
    spec: { cluster: 'baseline', taskDefinition: 'app:1', desiredCount: 0 },
  } as unknown as Service);
}

export interface PlainLoopOptions {
  store: ObjectStore;
  service: Service;
  /** Deployment id the tasks are started by; a second deployment gives a second set of names. */
  deploymentId: string;
  count: number;
  /** Requests in flight at once: one task's writes are sequential, `concurrency` tasks go at a time. */
  concurrency: number;
  signal: AbortSignal;
  /** Called as each task reaches RUNNING. */
  onRunning?: (done: number) => void;
}

/**
 * Creates `count` tasks and brings each to RUNNING with the writes the control plane's path needs at
 * the least: create, bind (spec.containerInstance), status PENDING, status RUNNING. Resolves with
 * the tasks as last written.
 */
export async function startTasksByPlainLoop(options: PlainLoopOptions): Promise<Task[]> {
  const { store, service, deploymentId, count } = options;
  const names = nextTaskNames(service, deploymentId, [], count);
  const written: Task[] = [];
  await forEachConcurrently(names, options.concurrency, options.signal, async (name, index) => {
    const instance = `instance-${Math.floor(index / tasksPerInstance)}`;
    const statuses = simulatedStatuses(instance, `${name}-app`);
    await store.create(taskType, buildServiceTask(service, deploymentId, 'app:1', name));
    const bound = await store.patch<Task>(taskType, service.metadata.namespace, name, { spec: { containerInstance: instance } });
    const pending = await store.updateStatus(taskType, { ...bound, status: statuses.pending });
    written.push(await store.updateStatus(taskType, { ...pending, status: statuses.running }));
    options.onRunning?.(written.length);
  });
  return written;
}

/** Stops tasks with the writes a stop needs at the least: the StopTask patch, then status STOPPED (a merge patch: no read in between). */
export async function stopTasksByPlainLoop(store: ObjectStore, running: Task[], concurrency: number, signal: AbortSignal): Promise<void> {
  await forEachConcurrently(running, concurrency, signal, async (task) => {
    await stopTask(store, task, 'bench');
    const { stopped } = simulatedStatuses(task.spec.containerInstance ?? '', '');
    await store.patch(taskType, task.metadata.namespace, task.metadata.name, { status: stopped(task.status!) }, 'status');
  });
}
