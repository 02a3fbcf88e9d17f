import {
  clusters,
  containerInstances,
  services,
  tasks as taskType,
  type Cluster,
  type ContainerInstance,
  type Service,
  type Task,
  type TaskStatus,
} from '../../api';
import type { ReconcileContext, ReconcileResult } from '../../runtime/controller';
import type { EventRecorder } from '../../runtime/events';
import type { SharedInformer } from '../../runtime/informer';
import type { Manager } from '../../runtime/manager';
import { keyOf, type ObjectKey } from '../../runtime/object-key';
import { semanticallyEqual } from '../../runtime/semantic-equal';
import { controllerRevisions } from '../../store/builtin-types';
import { isStoreError, type ObjectStore } from '../../store/object-store';
import { type Scheduler } from '../placement';
import { isAdmitted } from '../../ecs/resources';
import { TaskIndex } from '../../ecs/indexes';
import { indexRevisions } from '../taskdefinition/indexes';
import type { ControllerRevision } from '../../ecs/revisions/revisions';
import { watchTaskMetrics } from './task-metrics';
import { placementMetrics } from './placement-metrics';
import { ClusterBinder } from './binder';
import { defaultDisconnectedInstanceGraceMs, disconnectedInstanceVerdict } from './disconnected-instance';
import { nextTaskStatus, type TaskLifecycleEvent } from '../../ecs/task-lifecycle';

export interface TaskControllerDeps {
  store: ObjectStore;
  events: EventRecorder;
  tasks: SharedInformer<Task>;
  instances: SharedInformer<ContainerInstance>;
  /** How long the tasks of a disconnected instance wait for its agent before they are stopped (disconnected-instance.ts). */
  disconnectedInstanceGraceMs?: number;
  now?: () => Date;
}

/** How soon to look again at a task whose instance the cache misses but the API server still has. */
const instanceCacheLagRetryMs = 5_000;

/**
 * The control-plane half of the task lifecycle that is not placement (the binder places, the agent
 * runs): a task stopped before anything runs it is STOPPED at once, and a task whose container
 * instance is gone is STOPPED, since no agent is left to stop it. "Gone" is asked of the API server,
 * never concluded from a cache miss alone: a cache that lags must not stop healthy tasks. A task whose
 * instance has been disconnected for longer than the grace is STOPPED too, so its service replaces it.
 */
export class TaskReconciler {
  private readonly now: () => Date;
  private readonly disconnectedInstanceGraceMs: number;

  constructor(private readonly deps: TaskControllerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.disconnectedInstanceGraceMs = deps.disconnectedInstanceGraceMs ?? defaultDisconnectedInstanceGraceMs;
  }

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | void> {
    const task = this.deps.tasks.get(key.namespace, key.name);
    if (!task || task.status?.lastStatus === 'STOPPED') return;
    const bound = task.spec.containerInstance;
    const instance = bound ? this.deps.instances.get(task.metadata.namespace, bound) : undefined;
    if (bound && !instance) {
      const live = await this.deps.store.get<ContainerInstance>(containerInstances, task.metadata.namespace, bound);
      if (live) {
        context.log.debug('container instance not in the cache yet', { containerInstance: bound });
        return { requeueAfterMs: instanceCacheLagRetryMs };
      }
      return this.transition(task, [{ type: 'INSTANCE_LOST', reason: `container instance ${bound} is gone` }]);
    }
    // Nothing runs a task that was never admitted to an instance: stopping it is the control plane's job.
    if (task.spec.desiredStatus === 'STOPPED' && !isAdmitted(task)) {
      const reason = bound ? 'Task stopped before it was admitted to its instance' : 'Task stopped before it was placed';
      return this.transition(task, [{ type: 'STOP_REQUESTED', stopCode: stopCodeOf(task), reason }]);
    }
    // Only what was admitted there can be stranded there. A task bound but never admitted (a DAEMON task, a
    // StartTask) waits for the agent instead: stopping it would have its DAEMON service bind a new one to the
    // same instance, stopped at once in turn, over and over.
    if (instance && isAdmitted(task)) {
      const verdict = disconnectedInstanceVerdict(instance, this.disconnectedInstanceGraceMs, this.now().getTime());
      if (verdict.evict) return this.transition(task, [{ type: 'INSTANCE_LOST', reason: verdict.reason }]);
      if (verdict.recheckAfterMs !== undefined) return { requeueAfterMs: verdict.recheckAfterMs };
    }
  }

  private async transition(task: Task, events: TaskLifecycleEvent[]): Promise<void> {
    let status: TaskStatus | undefined = task.status;
    const now = this.now();
    for (const event of events) {
      const next = nextTaskStatus(status, event, now);
      status = next.status;
      for (const effect of next.effects) {
        if (effect.type === 'recordEvent') await this.deps.events.event(task, effect.kind, effect.reason, effect.message);
      }
    }
    if (semanticallyEqual(status, task.status)) return;
    try {
      await this.deps.store.updateStatus(taskType, { ...task, status });
    } catch (error) {
      if (!isStoreError(error, 'NotFound')) throw error;
    }
  }
}

function stopCodeOf(task: Task): 'UserInitiated' | 'ServiceSchedulerInitiated' {
  return task.spec.group?.startsWith('service:') ? 'ServiceSchedulerInitiated' : 'UserInitiated';
}

/** What about an instance placement cares for: whether and how much it can take. */
function instanceChangedForPlacement(old: ContainerInstance, next: ContainerInstance): boolean {
  return (
    old.spec.status !== next.spec.status ||
    old.metadata.deletionTimestamp !== next.metadata.deletionTimestamp ||
    old.status?.status !== next.status?.status ||
    old.status?.agentConnected !== next.status?.agentConnected ||
    !semanticallyEqual(old.spec.registeredResources, next.spec.registeredResources) ||
    !semanticallyEqual(old.spec.attributes, next.spec.attributes)
  );
}

/**
 * The task controller (one key per task) and the binder (one key per cluster). The binder looks at a
 * cluster when a task there awaits placement, when a task there stops (it frees room), when an
 * instance there changes what it can take, and when the cluster is made or deleted; the task controller when a task or its instance changes.
 */
export function addTaskController(manager: Manager, options: { namespace?: string; scheduler?: Scheduler; disconnectedInstanceGraceMs?: number } = {}): void {
  const tasks = manager.informerFor<Task>(taskType, options.namespace);
  const instances = manager.informerFor<ContainerInstance>(containerInstances, options.namespace);
  const reconciler = new TaskReconciler({
    store: manager.store,
    events: manager.events,
    tasks,
    instances,
    disconnectedInstanceGraceMs: options.disconnectedInstanceGraceMs,
  });
  const revisions = manager.informerFor<ControllerRevision>(controllerRevisions, options.namespace);
  indexRevisions(revisions);
  const clusterInformer = manager.informerFor<Cluster>(clusters, options.namespace);
  const binder = new ClusterBinder({
    store: manager.store,
    events: manager.events,
    tasks,
    instances,
    services: manager.informerFor<Service>(services, options.namespace),
    clusters: clusterInformer,
    revisions,
    scheduler: options.scheduler,
    metrics: placementMetrics(manager.registry),
  });
  manager.onControllersStart(() => watchTaskMetrics(manager.registry, tasks));
  const taskIndex = new TaskIndex(tasks);
  const clusterOf = (object: { metadata: { namespace?: string }; spec: { cluster: string } }): ObjectKey => ({
    namespace: object.metadata.namespace,
    name: object.spec.cluster,
  });
  const anyoneWaiting = (object: { metadata: { namespace?: string }; spec: { cluster: string } }) =>
    taskIndex.anyAwaitingPlacementIn(object.metadata.namespace, object.spec.cluster);

  manager
    .addController({ name: 'task', workers: 4, reconcile: (key, context) => reconciler.reconcile(key, context) })
    // Its decisions read the spec (desiredStatus, the instance) and admission, never the status the agents write.
    .watch(tasks, keyOf, {
      update: (old, next) => old.metadata.generation !== next.metadata.generation || isAdmitted(old) !== isAdmitted(next),
    })
    // Deletion and disconnection: the two things about an instance that can stop its tasks.
    .watch(instances, (instance) => taskIndex.onInstance(instance.metadata.namespace, instance.metadata.name).map((t) => keyOf(t)), {
      update: (old, next) => old.metadata.deletionTimestamp !== next.metadata.deletionTimestamp || old.status?.agentConnected !== next.status?.agentConnected,
    });
  manager
    .addController({ name: 'scheduler', workers: 2, reconcile: (key, context) => binder.reconcile(key, context) })
    // New tasks arrive in bursts: gathered over 100 ms, they are placed in one batch against one view of the cluster.
    // An unadmitted task always counts, deleted too (the index no longer holds it then): what waits, and the
    // metric of what waits, change with it. A stopped one frees room, which matters only if something waits.
    .watch(tasks, (task) => (!isAdmitted(task) || (task.status?.lastStatus === 'STOPPED' && anyoneWaiting(task)) ? clusterOf(task) : undefined), {
      delayMs: 100,
    })
    .watch(instances, (instance) => (anyoneWaiting(instance) ? clusterOf(instance) : undefined), { update: instanceChangedForPlacement })
    // A cluster made or deleted: a made one places what already waits for it; a deleted one's metric series go.
    .watch(clusterInformer, keyOf, { update: () => false });
}
