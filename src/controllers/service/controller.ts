import {
  containerInstances,
  serviceLabel,
  services as serviceType,
  taskDefinitions,
  tasks as taskType,
  type ContainerInstance,
  type Service,
  type ServiceStatus,
  type Task,
  type TaskDefinition,
} from '../../api';
import type { EventRecorder } from '../../runtime/events';
import type { SharedInformer } from '../../runtime/informer';
import type { Manager } from '../../runtime/manager';
import type { ObjectKey } from '../../runtime/object-key';
import type { ReconcileContext, ReconcileResult } from '../../runtime/controller';
import { isStoreError, type ObjectStore } from '../../store/object-store';
import { setConditions, type DesiredCondition } from '../shared/conditions';
import { familyOf, parseTaskDefinitionRef } from '../taskdefinition/revisions';
import {
  decideDeployments,
  deploymentIdGenerator,
  isFailedLaunch,
  type DaemonInstanceTasks,
  type DeploymentEffect,
  type DeploymentObservation,
  type StopTasksEffect,
} from './deployment';
import { emptyTally } from './deployment/rolling';
import { serviceMetrics, type ServiceMetrics } from './metrics';
import { serviceSelector, taskPhase, tasksOfService } from './service-tasks';
import { chooseTasksToStop, pruneStoppedTasks, startDaemonTask, startReplicaTasks, stopTask } from './task-actions';
import { semanticallyEqual } from '../../runtime/semantic-equal';

export const serviceFinalizer = 'berth.dev/service';

export interface ServiceControllerDeps {
  store: ObjectStore;
  events: EventRecorder;
  services: SharedInformer<Service>;
  tasks: SharedInformer<Task>;
  taskDefinitions: SharedInformer<TaskDefinition>;
  instances: SharedInformer<ContainerInstance>;
  metrics?: ServiceMetrics;
  now?: () => Date;
}

/** While a rollout moves, look again this often even without events (grace periods end silently). */
const progressRequeueMs = 2_000;

/**
 * The ECS service scheduler. Each reconcile reads the service, its tasks and (for DAEMON) the
 * cluster's instances, asks the deployment machine what to do (`deployment/`), carries the effects
 * out — create tasks under deterministic names, ask tasks to stop — and writes status. Deleting a
 * Service stops its tasks (each with its containers' stopTimeout) before the finalizer lets it go.
 */
export class ServiceReconciler {
  private readonly now: () => Date;

  constructor(private readonly deps: ServiceControllerDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | void> {
    const service = this.deps.services.get(key.namespace, key.name);
    if (!service) {
      this.deps.metrics?.forget(key.namespace ?? '', key.name);
      return;
    }
    const tasks = tasksOfService(service, this.deps.tasks.list(key.namespace));
    if (service.metadata.deletionTimestamp) return this.finalize(service, tasks, context);
    if (!service.metadata.finalizers?.includes(serviceFinalizer)) {
      await this.deps.store.update(serviceType, {
        ...service,
        metadata: { ...service.metadata, finalizers: [...(service.metadata.finalizers ?? []), serviceFinalizer] },
      });
      return;
    }

    const revision = this.resolveRevision(service);
    if ('problem' in revision) {
      await this.writeStatus(service, tasks, { ...service.status }, [
        { type: 'Ready', status: 'False', reason: 'TaskDefinitionNotFound', message: revision.problem, observedGeneration: service.metadata.generation },
      ]);
      return { requeueAfterMs: 10_000 };
    }

    const now = this.now();
    const grace = service.spec.healthCheckGracePeriodSeconds ?? 0;
    const decision = decideDeployments({
      serviceName: service.metadata.name,
      spec: service.spec,
      taskDefinition: revision.taskDefinition,
      deployments: service.status?.deployments,
      observed: observeDeployments(tasks, now, grace),
      ...(service.spec.schedulingStrategy === 'DAEMON' ? { instances: this.daemonInstances(service, tasks, now, grace) } : {}),
      deploymentId: deploymentIdGenerator(service.metadata.uid!),
      now,
    });
    const conditions: DesiredCondition[] = [];
    for (const effect of decision.effects) {
      const condition = await this.execute(service, tasks, effect, now, grace);
      if (condition) conditions.push(condition);
    }
    await pruneStoppedTasks(this.deps.store, tasks);

    const primary = decision.deployments.find((d) => d.status === 'PRIMARY');
    const steady = primary?.rolloutState === 'COMPLETED' && decision.deployments.every((d) => d === primary || d.status === 'INACTIVE');
    conditions.push(
      steady
        ? {
            type: 'Ready',
            status: 'True',
            reason: 'SteadyState',
            message: `service ${service.metadata.name} has reached a steady state`,
            observedGeneration: service.metadata.generation,
          }
        : {
            type: 'Ready',
            status: 'False',
            reason: 'Deploying',
            message: `rolling out ${primary?.taskDefinition ?? revision.taskDefinition}`,
            observedGeneration: service.metadata.generation,
          },
    );
    await this.writeStatus(
      service,
      tasks,
      {
        ...service.status,
        desiredCount: decision.desiredCount,
        deployments: decision.deployments,
        taskDefinition: primary?.taskDefinition ?? revision.taskDefinition,
      },
      conditions,
    );
    return steady ? undefined : { requeueAfterMs: progressRequeueMs };
  }

  /** `family` follows the family's latest ACTIVE revision; `family:N` is pinned. */
  private resolveRevision(service: Service): { taskDefinition: string } | { problem: string } {
    const { family, revision } = parseTaskDefinitionRef(service.spec.taskDefinition);
    if (revision !== undefined) return { taskDefinition: `${family}:${revision}` };
    const registered = this.deps.taskDefinitions
      .list(service.metadata.namespace)
      .find((td) => familyOf(td) === family && td.status?.status === 'ACTIVE' && td.status.revision !== undefined);
    return registered ? { taskDefinition: `${family}:${registered.status!.revision}` } : { problem: `no ACTIVE revision of task definition family ${family}` };
  }

  private daemonInstances(service: Service, tasks: Task[], now: Date, grace: number): DaemonInstanceTasks[] {
    const instances = this.deps.instances.list(service.metadata.namespace).filter((i) => i.spec.cluster === service.spec.cluster);
    return instances.map((instance) => ({
      instance: instance.metadata.name,
      // Placement constraints beyond ACTIVE come with the placement engine; until then every ACTIVE instance qualifies.
      eligible: (instance.spec.status ?? 'ACTIVE') === 'ACTIVE' && !instance.metadata.deletionTimestamp && instance.status?.status !== 'INACTIVE',
      tasks: tasks
        .filter((t) => t.spec.containerInstance === instance.metadata.name)
        .flatMap((t) => {
          const phase = taskPhase(t, now, grace);
          return phase === 'stopped' ? [] : [{ deploymentId: t.spec.startedBy ?? '', health: phase }];
        }),
    }));
  }

  private async execute(service: Service, tasks: Task[], effect: DeploymentEffect, now: Date, grace: number): Promise<DesiredCondition | undefined> {
    switch (effect.type) {
      case 'startTasks':
        if (effect.instances) {
          for (const instance of effect.instances) await startDaemonTask(this.deps.store, service, effect.deploymentId, effect.taskDefinition, instance);
        } else {
          await startReplicaTasks(this.deps.store, service, effect.deploymentId, effect.taskDefinition, effect.count, tasks);
        }
        return undefined;
      case 'stopTasks':
        for (const task of this.tasksToStop(tasks, effect, now, grace)) await stopTask(this.deps.store, task, effect.reason);
        return undefined;
      case 'recordEvent':
        await this.deps.events.event(service, effect.kind, effect.reason, effect.message);
        return undefined;
      case 'setCondition':
        return effect.condition;
    }
  }

  private tasksToStop(tasks: Task[], effect: StopTasksEffect, now: Date, grace: number): Task[] {
    const ofDeployment = tasks.filter((t) => t.spec.startedBy === effect.deploymentId);
    if ('instances' in effect.select) {
      const instances = new Set(effect.select.instances);
      return ofDeployment.filter((t) => instances.has(t.spec.containerInstance ?? '') && !['stopping', 'stopped'].includes(taskPhase(t, now, grace)));
    }
    const { health, count } = effect.select;
    return chooseTasksToStop(
      ofDeployment.filter((t) => taskPhase(t, now, grace) === health),
      count,
      now,
      grace,
    );
  }

  /** Deleting a service: stop every task, wait for STOPPED, then remove the tasks and let the Service go. */
  private async finalize(service: Service, tasks: Task[], context: ReconcileContext): Promise<ReconcileResult | void> {
    if (!service.metadata.finalizers?.includes(serviceFinalizer)) return;
    const running = tasks.filter((t) => t.status?.lastStatus !== 'STOPPED' && t.spec.containerInstance);
    for (const task of running) {
      if (task.spec.desiredStatus !== 'STOPPED') await stopTask(this.deps.store, task, `service ${service.metadata.name} deleted`);
    }
    // An unplaced task has nothing to wait for; the task controller stops it at once.
    for (const task of tasks.filter((t) => !t.spec.containerInstance && t.spec.desiredStatus !== 'STOPPED')) {
      await stopTask(this.deps.store, task, `service ${service.metadata.name} deleted`);
    }
    if (running.length > 0) {
      context.log.info('waiting for tasks to stop before deleting the service', { tasks: running.length });
      return { requeueAfterMs: progressRequeueMs };
    }
    for (const task of tasks) {
      await this.deps.store.delete(taskType, task.metadata.namespace, task.metadata.name).catch((error: unknown) => {
        if (!isStoreError(error, 'NotFound')) throw error;
      });
    }
    this.deps.metrics?.forget(service.metadata.namespace!, service.metadata.name);
    await this.deps.store.update(serviceType, {
      ...service,
      metadata: { ...service.metadata, finalizers: service.metadata.finalizers.filter((f) => f !== serviceFinalizer) },
    });
  }

  private async writeStatus(service: Service, tasks: Task[], fields: ServiceStatus, conditions: DesiredCondition[]): Promise<void> {
    const counted = tasks.filter((t) => t.status?.lastStatus !== 'STOPPED');
    const next: ServiceStatus = {
      ...fields,
      runningCount: counted.filter((t) => t.status?.lastStatus === 'RUNNING').length,
      pendingCount: counted.filter((t) => ['PROVISIONING', 'PENDING', 'ACTIVATING', undefined].includes(t.status?.lastStatus)).length,
      selector: serviceSelector(service),
      observedGeneration: service.metadata.generation,
      conditions: setConditions(service.status?.conditions, conditions, this.now()),
    };
    this.deps.metrics?.observe(service, next);
    if (semanticallyEqual(next, service.status)) return;
    await this.deps.store.updateStatus(serviceType, { ...service, status: next });
  }
}

/** The service's tasks grouped by deployment (their `startedBy`), counted the way the rolling arithmetic needs. */
function observeDeployments(tasks: Task[], now: Date, grace: number): DeploymentObservation[] {
  const byDeployment = new Map<string, DeploymentObservation>();
  for (const task of tasks) {
    const id = task.spec.startedBy ?? '';
    const entry = byDeployment.get(id) ?? { deploymentId: id, taskDefinition: task.spec.taskDefinition, tasks: { ...emptyTally }, failedLaunches: 0 };
    byDeployment.set(id, entry);
    const phase = taskPhase(task, now, grace);
    if (phase === 'stopped') {
      if (isFailedLaunch(task.status)) entry.failedLaunches++;
    } else entry.tasks[phase]++;
  }
  return [...byDeployment.values()];
}

export function addServiceController(manager: Manager, namespace?: string): void {
  const deps: ServiceControllerDeps = {
    store: manager.store,
    events: manager.events,
    services: manager.informerFor<Service>(serviceType, namespace),
    tasks: manager.informerFor<Task>(taskType, namespace),
    taskDefinitions: manager.informerFor<TaskDefinition>(taskDefinitions, namespace),
    instances: manager.informerFor<ContainerInstance>(containerInstances, namespace),
    metrics: serviceMetrics(manager.registry),
  };
  const reconciler = new ServiceReconciler(deps);
  const ofCluster = (instance: ContainerInstance): ObjectKey[] =>
    deps.services
      .list(instance.metadata.namespace)
      .filter((s) => s.spec.cluster === instance.spec.cluster)
      .map((s) => ({ namespace: s.metadata.namespace, name: s.metadata.name }));
  const ofFamily = (td: TaskDefinition): ObjectKey[] =>
    deps.services
      .list(td.metadata.namespace)
      .filter((s) => parseTaskDefinitionRef(s.spec.taskDefinition).family === familyOf(td))
      .map((s) => ({ namespace: s.metadata.namespace, name: s.metadata.name }));
  manager
    .addController({ name: 'service', workers: 2, reconcile: (key, context) => reconciler.reconcile(key, context) })
    .watch(deps.services)
    .watch(deps.tasks, (task) => {
      const owner = task.metadata.labels?.[serviceLabel];
      return owner ? { namespace: task.metadata.namespace, name: owner } : undefined;
    })
    .watch(deps.taskDefinitions, ofFamily)
    .watch(deps.instances, ofCluster);
}
