import { containerInstances, services, tasks as taskType, type ContainerInstance, type Service, type Task, type TaskStatus } from '../../api';
import type { EventRecorder } from '../../runtime/events';
import type { SharedInformer } from '../../runtime/informer';
import type { Manager } from '../../runtime/manager';
import type { ObjectKey } from '../../runtime/object-key';
import type { ReconcileContext, ReconcileResult } from '../../runtime/controller';
import { controllerRevisions } from '../../store/builtin-types';
import { isStoreError, type KubeObject, type ObjectStore } from '../../store/object-store';
import { FirstFitScheduler, placementCandidates, taskRequirements, type Scheduler } from '../placement';
import { specOfTask } from '../taskdefinition/revision-lookup';
import type { ControllerRevision } from '../taskdefinition/revisions';
import { nextTaskStatus, type TaskLifecycleEvent } from './lifecycle';
import { semanticallyEqual } from '../../runtime/semantic-equal';

export interface TaskControllerDeps {
  store: ObjectStore;
  events: EventRecorder;
  tasks: SharedInformer<Task>;
  instances: SharedInformer<ContainerInstance>;
  services: SharedInformer<Service>;
  revisions: SharedInformer<ControllerRevision>;
  scheduler?: Scheduler;
  now?: () => Date;
}

/** How soon a task that fits nowhere is tried again, besides every instance or task change. */
const placementRetryMs = 10_000;

/**
 * The control-plane half of the task lifecycle (the agent owns the rest): a new task is PROVISIONING
 * until the scheduler binds it to a container instance (ECS RunTask / the service scheduler's
 * placement); one that fits nowhere stays PROVISIONING with the reason, which is what capacity
 * scale-out counts as demand. A task whose instance disappears is STOPPED, since no agent is left to
 * stop it; a task stopped before it was placed stops at once.
 *
 * Binding runs with one worker, and bindings this process made are "assumed" until the informer shows
 * them, as kube-scheduler does: otherwise two tasks placed back to back could both take the last slot.
 */
export class TaskReconciler {
  private readonly scheduler: Scheduler;
  private readonly now: () => Date;
  private readonly assumed = new Map<string, string>();

  constructor(private readonly deps: TaskControllerDeps) {
    this.scheduler = deps.scheduler ?? new FirstFitScheduler();
    this.now = deps.now ?? (() => new Date());
  }

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | void> {
    const task = this.deps.tasks.get(key.namespace, key.name);
    if (!task || task.status?.lastStatus === 'STOPPED') return;
    const bound = task.spec.containerInstance;
    if (bound) {
      this.assumed.delete(keyString(task));
      if (this.deps.instances.get(task.metadata.namespace, bound)) return;
      return this.transition(task, [{ type: 'INSTANCE_LOST', reason: `container instance ${bound} is gone` }]);
    }
    if (task.spec.desiredStatus === 'STOPPED') {
      return this.transition(task, [{ type: 'STOP_REQUESTED', stopCode: stopCodeOf(task), reason: 'Task stopped before it was placed' }]);
    }
    return this.place(task, context);
  }

  private async place(task: Task, context: ReconcileContext): Promise<ReconcileResult | void> {
    const spec = specOfTask(this.deps.revisions, task);
    if (!spec) {
      return this.transition(task, [{ type: 'PLACEMENT_FAILED', reason: `task definition ${task.spec.taskDefinition} not found` }], {
        requeueAfterMs: placementRetryMs,
      });
    }
    const namespace = task.metadata.namespace;
    const service = this.serviceOf(task);
    const instances = this.deps.instances.list(namespace).filter((i) => i.spec.cluster === task.spec.cluster);
    const decision = this.scheduler.place({
      requirements: taskRequirements(spec),
      group: task.spec.group,
      placementConstraints: service?.spec.placementConstraints ?? [],
      placementStrategy: service?.spec.placementStrategy ?? [],
      candidates: placementCandidates(instances, this.tasksWithAssumptions(namespace), (t) => specOfTask(this.deps.revisions, t)),
    });
    if ('reason' in decision) {
      context.log.info('task cannot be placed', { reason: decision.reason });
      return this.transition(task, [{ type: 'PLACEMENT_FAILED', reason: decision.reason }], { requeueAfterMs: placementRetryMs });
    }
    await this.deps.store.patch(taskType, namespace, task.metadata.name, { spec: { containerInstance: decision.instance } });
    this.assumed.set(keyString(task), decision.instance);
    context.log.info('task placed', { containerInstance: decision.instance });
    return this.transition({ ...task, spec: { ...task.spec, containerInstance: decision.instance } }, [
      { type: 'PLACED', containerInstance: decision.instance },
    ]);
  }

  private tasksWithAssumptions(namespace: string | undefined): Task[] {
    return this.deps.tasks.list(namespace).map((task) => {
      const assumed = task.spec.containerInstance ? undefined : this.assumed.get(keyString(task));
      return assumed ? { ...task, spec: { ...task.spec, containerInstance: assumed } } : task;
    });
  }

  private serviceOf(task: Task): Service | undefined {
    const group = task.spec.group ?? '';
    return group.startsWith('service:') ? this.deps.services.get(task.metadata.namespace, group.slice('service:'.length)) : undefined;
  }

  private async transition(task: Task, events: TaskLifecycleEvent[], result?: ReconcileResult): Promise<ReconcileResult | void> {
    let status: TaskStatus | undefined = task.status;
    const now = this.now();
    for (const event of events) {
      const next = nextTaskStatus(status, event, now);
      status = next.status;
      for (const effect of next.effects) {
        if (effect.type === 'recordEvent') await this.deps.events.event(task, effect.kind, effect.reason, effect.message);
      }
    }
    if (semanticallyEqual(status, task.status)) return result;
    const latest = this.deps.tasks.get(task.metadata.namespace, task.metadata.name) ?? task;
    try {
      await this.deps.store.updateStatus(taskType, { ...latest, status });
    } catch (error) {
      if (!isStoreError(error, 'NotFound')) throw error;
    }
    return result;
  }
}

function keyString(task: KubeObject): string {
  return `${task.metadata.namespace}/${task.metadata.name}`;
}

function stopCodeOf(task: Task): 'UserInitiated' | 'ServiceSchedulerInitiated' {
  return task.spec.group?.startsWith('service:') ? 'ServiceSchedulerInitiated' : 'UserInitiated';
}

export function addTaskController(manager: Manager, options: { namespace?: string; scheduler?: Scheduler } = {}): void {
  const deps: TaskControllerDeps = {
    store: manager.store,
    events: manager.events,
    tasks: manager.informerFor<Task>(taskType, options.namespace),
    instances: manager.informerFor<ContainerInstance>(containerInstances, options.namespace),
    services: manager.informerFor<Service>(services, options.namespace),
    revisions: manager.informerFor<ControllerRevision>(controllerRevisions, options.namespace),
    scheduler: options.scheduler,
  };
  const reconciler = new TaskReconciler(deps);
  const unplacedOfCluster = (instance: ContainerInstance): ObjectKey[] =>
    deps.tasks
      .list(instance.metadata.namespace)
      .filter((t) => t.spec.cluster === instance.spec.cluster && (!t.spec.containerInstance || t.spec.containerInstance === instance.metadata.name))
      .map((t) => ({ namespace: t.metadata.namespace, name: t.metadata.name }));
  const waitingTasks = (task: Task): ObjectKey[] => [
    { namespace: task.metadata.namespace, name: task.metadata.name },
    // A task that stops frees resources: the tasks still waiting in its cluster may fit now.
    ...(task.status?.lastStatus === 'STOPPED'
      ? deps.tasks
          .list(task.metadata.namespace)
          .filter((t) => t.spec.cluster === task.spec.cluster && !t.spec.containerInstance)
          .map((t) => ({ namespace: t.metadata.namespace, name: t.metadata.name }))
      : []),
  ];
  manager
    .addController({ name: 'task', reconcile: (key, context) => reconciler.reconcile(key, context) })
    .watch(deps.tasks, waitingTasks)
    .watch(deps.instances, unplacedOfCluster);
}
