import {
  containerInstances,
  serviceLabel,
  services as serviceType,
  tasks as taskType,
  type ContainerInstance,
  type Service,
  type ServiceStatus,
  type Task,
} from '../../api';
import type { ReconcileContext, ReconcileResult } from '../../runtime/controller';
import type { EventRecorder } from '../../runtime/events';
import { Expectations } from '../../runtime/expectations';
import { MutationCache } from '../../runtime/mutation-cache';
import type { SharedInformer } from '../../runtime/informer';
import type { Manager } from '../../runtime/manager';
import { formatKey, keyOf, type ObjectKey } from '../../runtime/object-key';
import { semanticallyEqual } from '../../runtime/semantic-equal';
import { isStoreError, type ObjectStore } from '../../store/object-store';
import { withFinalizer, withoutFinalizer } from '../shared/finalizers';
import { setConditions, type DesiredCondition } from '../../ecs/conditions';
import { memberOfAccepts, tasksByInstance } from '../placement';
import { reservesResources } from '../../ecs/resources';
import { InstanceIndex, ServiceIndex, TaskIndex } from '../../ecs/indexes';
import { indexRevisions, revisionsOfFamily } from '../taskdefinition/indexes';
import { revisionSpec } from '../../ecs/revisions/revision-lookup';
import { resolveForService, type Resolution } from '../../ecs/revisions/revision-state';
import { parseTaskDefinitionRef, type ControllerRevision } from '../../ecs/revisions/revisions';
import { controllerRevisions } from '../../store/builtin-types';
import { decideDeployments, deploymentIdGenerator, isFailedLaunch, type DaemonInstanceTasks, type DeploymentEffect, type StopTasksEffect } from './deployment';
import { serviceMetrics, type ServiceMetrics } from './metrics';
import { observeService } from './observe';
import { serviceSelector, taskPhase, tasksOfService } from './service-tasks';
import { chooseTasksToStop, ServiceTaskWriter } from './task-actions';

export const serviceFinalizer = 'berth.dev/service';

export interface ServiceControllerDeps {
  store: ObjectStore;
  events: EventRecorder;
  services: SharedInformer<Service>;
  tasks: SharedInformer<Task>;
  instances: SharedInformer<ContainerInstance>;
  revisions: SharedInformer<ControllerRevision>;
  expectations?: Expectations;
  metrics?: ServiceMetrics;
  now?: () => Date;
}

/** How long a service's task changes are gathered before it is reconciled. */
const taskBatchMs = 50;

/** While a rollout moves, look again this often even without events: a safety net, every change also arrives as an event. */
const progressResyncMs = 30_000;

/**
 * The ECS service scheduler. Each reconcile reads the service and its tasks (an index, not a scan),
 * asks the deployment machine what to do (`deployment/`), writes status, and only then carries the
 * effects out — create tasks under deterministic names, ask tasks to stop — so that a decision whose
 * status write conflicted is simply made again, and its Events are never recorded twice. What a
 * reconcile wrote is remembered as expectations until the cache shows it; until then the service is
 * not acted on again. Deleting a Service stops its tasks (each with its containers' stopTimeout)
 * before the finalizer lets it go.
 */
export class ServiceReconciler {
  private readonly now: () => Date;
  private readonly expectations: Expectations;
  private readonly writer: ServiceTaskWriter;
  private readonly taskIndex: TaskIndex;
  private readonly instanceIndex: InstanceIndex;
  /** Services as this controller last wrote them: a reconcile that runs before the watch shows its own status write starts from it. */
  private readonly services: MutationCache<Service>;

  constructor(private readonly deps: ServiceControllerDeps) {
    this.services = new MutationCache(deps.services);
    this.now = deps.now ?? (() => new Date());
    this.expectations = deps.expectations ?? new Expectations();
    this.writer = new ServiceTaskWriter(deps.store, deps.events, this.expectations, deps.tasks);
    this.taskIndex = new TaskIndex(deps.tasks);
    this.instanceIndex = new InstanceIndex(deps.instances);
    deps.tasks.addEventHandler(this.expectationObserver());
  }

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | void> {
    const owner = formatKey(key);
    const service = this.services.get(key.namespace, key.name);
    if (!service) {
      this.deps.metrics?.forget(key.namespace ?? '', key.name);
      this.expectations.forget(owner);
      this.services.forget(key.namespace, key.name);
      return;
    }
    if (!this.expectations.satisfied(owner)) {
      context.log.debug('waiting for the cache to show earlier writes');
      return { requeueAfterMs: this.expectations.remainingMs(owner) };
    }
    const tasks = tasksOfService(service, this.taskIndex.ofService(key.namespace, key.name));
    if (service.metadata.deletionTimestamp) return this.finalize(service, tasks, context);
    if (!service.metadata.finalizers?.includes(serviceFinalizer)) {
      const written = await this.deps.store.update(serviceType, withFinalizer(service, serviceFinalizer));
      this.services.mutated(written);
      return;
    }

    const revision = this.resolveRevision(service);
    if (!revision.ok) {
      await this.writeStatus(service, tasks, { ...service.status }, [
        { type: 'Ready', status: 'False', reason: revision.reason, message: revision.message, observedGeneration: service.metadata.generation },
      ]);
      return;
    }

    const now = this.now();
    const grace = service.spec.healthCheckGracePeriodSeconds ?? 0;
    const observation = observeService(tasks, {
      now,
      gracePeriodSeconds: grace,
      counted: service.status?.countedFailedTasks,
      draining: (instance) => this.isDraining(service.metadata.namespace, instance),
    });
    const decision = decideDeployments({
      serviceName: service.metadata.name,
      spec: service.spec,
      taskDefinition: revision.taskDefinition,
      deployments: service.status?.deployments,
      observed: observation.deployments,
      ...(service.spec.schedulingStrategy === 'DAEMON' ? { instances: this.daemonInstances(service, revision.taskDefinition, tasks, now, grace) } : {}),
      deploymentId: deploymentIdGenerator(service.metadata.uid!),
      now,
    });
    const conditions = decision.effects.flatMap((effect) => (effect.type === 'setCondition' ? [effect.condition] : []));
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
    const written = await this.writeStatus(
      service,
      tasks,
      {
        ...service.status,
        desiredCount: decision.desiredCount,
        deployments: decision.deployments,
        taskDefinition: primary?.taskDefinition ?? revision.taskDefinition,
        countedFailedTasks: observation.countedFailedTasks,
      },
      conditions,
    );

    // The decision is recorded: now its Events, then its effects (a conflict above retried before either).
    for (const effect of decision.effects) {
      if (effect.type === 'recordEvent') await this.deps.events.event(written, effect.kind, effect.reason, effect.message);
    }
    for (const effect of decision.effects) await this.execute(written, tasks, effect, now, grace);
    await this.writer.pruneStoppedTasks(written, tasks, new Set(observation.countedFailedTasks), (task) => isFailedLaunch(task.status));
    if (steady) return this.graceRequeue(tasks, now, grace);
    return { requeueAfterMs: Math.min(progressResyncMs, this.graceRequeue(tasks, now, grace)?.requeueAfterMs ?? progressResyncMs) };
  }

  /** A task failing its health checks turns unhealthy when its grace period ends, with no event to say so: look again then. */
  private graceRequeue(tasks: Task[], now: Date, grace: number): ReconcileResult | undefined {
    let soonest: number | undefined;
    for (const task of tasks) {
      const status = task.status;
      if (status?.healthStatus !== 'UNHEALTHY' || taskPhase(task, now, grace) !== 'starting') continue;
      const since = Date.parse(status.startedAt ?? status.pullStoppedAt ?? status.createdAt ?? now.toISOString());
      const remaining = since + grace * 1000 - now.getTime();
      soonest = soonest === undefined ? remaining : Math.min(soonest, remaining);
    }
    return soonest === undefined ? undefined : { requeueAfterMs: Math.max(1, soonest) };
  }

  /**
   * `family` follows the family's latest ACTIVE revision; `family:N` is pinned. A deregistered
   * (INACTIVE) revision is refused for a new deployment, but a service already running it keeps it.
   */
  private resolveRevision(service: Service): Resolution {
    const namespace = service.metadata.namespace;
    const { family } = parseTaskDefinitionRef(service.spec.taskDefinition);
    return resolveForService(revisionsOfFamily(this.deps.revisions, namespace, family), namespace, service.spec.taskDefinition, service.status?.taskDefinition);
  }

  /** DRAINING, deregistering or INACTIVE: the service's tasks there are replaced elsewhere. */
  private isDraining(namespace: string | undefined, name: string): boolean {
    const instance = this.deps.instances.get(namespace, name);
    return instance !== undefined && isLeaving(instance);
  }

  /**
   * The instances a DAEMON service runs on: every one not leaving whose memberOf constraints (the
   * service's and its task definition's) accept it, judged with the instance's other tasks.
   */
  private daemonInstances(service: Service, taskDefinition: string, tasks: Task[], now: Date, grace: number): DaemonInstanceTasks[] {
    const namespace = service.metadata.namespace;
    const instances = this.instanceIndex.inCluster(namespace, service.spec.cluster);
    const onInstance = tasksByInstance(tasks);
    const constraints = [
      ...(service.spec.placementConstraints ?? []),
      ...(revisionSpec(this.deps.revisions, namespace, taskDefinition)?.placementConstraints ?? []),
    ];
    const ownGroup = `service:${service.metadata.name}`;
    const accepts = (instance: ContainerInstance) => {
      if (!constraints.some((c) => c.type === 'memberOf')) return true;
      const others = this.taskIndex.onInstance(namespace, instance.metadata.name).filter((t) => t.spec.group !== ownGroup && reservesResources(t));
      return memberOfAccepts(constraints, instance, others);
    };
    return instances.map((instance) => ({
      instance: instance.metadata.name,
      eligible: !isLeaving(instance) && accepts(instance),
      tasks: (onInstance.get(instance.metadata.name) ?? []).flatMap((t) => {
        const phase = taskPhase(t, now, grace);
        return phase === 'stopped' ? [] : [{ deploymentId: t.spec.startedBy ?? '', health: phase }];
      }),
    }));
  }

  private async execute(service: Service, tasks: Task[], effect: DeploymentEffect, now: Date, grace: number): Promise<void> {
    switch (effect.type) {
      case 'startTasks':
        if (effect.instances) await this.writer.startDaemonTasks(service, effect.deploymentId, effect.taskDefinition, effect.instances);
        else await this.writer.startReplicaTasks(service, effect.deploymentId, effect.taskDefinition, effect.count, tasks);
        return;
      case 'stopTasks': {
        const what = effect.deploymentId
          ? `of ${tasks.find((t) => t.spec.startedBy === effect.deploymentId)?.spec.taskDefinition ?? 'an older revision'} (deployment ${effect.deploymentId})`
          : 'on draining container instances';
        await this.writer.stopTasks(service, this.tasksToStop(service, tasks, effect, now, grace), effect.reason, what);
        return;
      }
      case 'recordEvent':
      case 'setCondition':
        return;
    }
  }

  private tasksToStop(service: Service, tasks: Task[], effect: StopTasksEffect, now: Date, grace: number): Task[] {
    const ofDeployment = effect.deploymentId === undefined ? tasks : tasks.filter((t) => t.spec.startedBy === effect.deploymentId);
    if ('instances' in effect.select) {
      const instances = new Set(effect.select.instances);
      return ofDeployment.filter((t) => instances.has(t.spec.containerInstance ?? '') && !['stopping', 'stopped'].includes(taskPhase(t, now, grace)));
    }
    const { health, count, draining } = effect.select;
    const onDraining = (t: Task) => t.spec.containerInstance !== undefined && this.isDraining(service.metadata.namespace, t.spec.containerInstance);
    return chooseTasksToStop(
      ofDeployment.filter((t) => taskPhase(t, now, grace) === health && onDraining(t) === draining),
      count,
      now,
      grace,
    );
  }

  /** Deleting a service: stop every task, wait for STOPPED, then remove the tasks and let the Service go. */
  private async finalize(service: Service, tasks: Task[], context: ReconcileContext): Promise<ReconcileResult | void> {
    if (!service.metadata.finalizers?.includes(serviceFinalizer)) return;
    const reason = `service ${service.metadata.name} deleted`;
    // An unplaced task has nothing to wait for: the task controller stops it at once.
    const toStop = tasks.filter((t) => t.status?.lastStatus !== 'STOPPED' && t.spec.desiredStatus !== 'STOPPED');
    if (toStop.length > 0) await this.writer.stopTasks(service, toStop, reason, 'as the service is deleted');
    const running = tasks.filter((t) => t.status?.lastStatus !== 'STOPPED' && t.spec.containerInstance);
    if (running.length > 0) {
      context.log.info('waiting for tasks to stop before deleting the service', { tasks: running.length });
      return;
    }
    for (const task of tasks) {
      await this.deps.store.delete(taskType, task.metadata.namespace, task.metadata.name).catch((error: unknown) => {
        if (!isStoreError(error, 'NotFound')) throw error;
      });
    }
    this.deps.metrics?.forget(service.metadata.namespace!, service.metadata.name);
    await this.deps.store.update(serviceType, withoutFinalizer(service, serviceFinalizer));
  }

  /** Writes status when it changed; resolves with the service as stored now. */
  private async writeStatus(service: Service, tasks: Task[], fields: ServiceStatus, conditions: DesiredCondition[]): Promise<Service> {
    const counted = tasks.filter((t) => t.status?.lastStatus !== 'STOPPED');
    const next: ServiceStatus = {
      ...fields,
      runningCount: counted.filter((t) => t.status?.lastStatus === 'RUNNING').length,
      pendingCount: counted.filter((t) => ['PROVISIONING', 'PENDING', 'ACTIVATING', undefined].includes(t.status?.lastStatus)).length,
      selector: serviceSelector(service),
      observedGeneration: service.metadata.generation,
      conditions: setConditions(service.status?.conditions, conditions, this.now()),
    };
    if (next.countedFailedTasks?.length === 0) delete next.countedFailedTasks;
    this.deps.metrics?.observe(service, next);
    if (semanticallyEqual(next, service.status)) return service;
    const written = await this.deps.store.updateStatus(serviceType, { ...service, status: next });
    this.services.mutated(written);
    return written;
  }

  /** Lowers expectations as the cache catches up: a task added, asked to stop, or gone. */
  private expectationObserver() {
    const ownerOf = (task: Task) => {
      const service = task.metadata.labels?.[serviceLabel];
      return service ? formatKey({ namespace: task.metadata.namespace, name: service }) : undefined;
    };
    return {
      onAdd: (task: Task) => {
        const owner = ownerOf(task);
        if (owner) this.expectations.observed(owner, task.metadata.name, 'add');
      },
      onUpdate: (_old: Task, task: Task) => {
        const owner = ownerOf(task);
        if (owner && task.spec.desiredStatus === 'STOPPED') this.expectations.observed(owner, task.metadata.name, 'update');
      },
      onDelete: (task: Task) => {
        const owner = ownerOf(task);
        if (owner) this.expectations.observed(owner, task.metadata.name);
      },
    };
  }
}

function isLeaving(instance: ContainerInstance): boolean {
  return instance.spec.status === 'DRAINING' || instance.metadata.deletionTimestamp !== undefined || instance.status?.status === 'INACTIVE';
}

/**
 * What about a task its service can react to: everything but a usage report, the one write a period each RUNNING
 * task of an auto-scaled service gets, which the auto scaler reads and the service scheduler never does (500
 * such tasks at a 1-minute period would be 8 reconciles a second for nothing). A resync (same resourceVersion)
 * passes: it is the periodic reconcile, not a change.
 */
export function taskChangedForService(old: Task, next: Task): boolean {
  if (old.metadata.resourceVersion === next.metadata.resourceVersion) return true;
  return !semanticallyEqual(withoutUsage(old), withoutUsage(next));
}

function withoutUsage(task: Task): unknown {
  // managedFields: a status patch from the API server stamps its manager's entry with the time of the write.
  const { resourceVersion: _version, managedFields: _fields, ...metadata } = task.metadata as Task['metadata'] & { managedFields?: unknown };
  const { usage: _usage, ...status } = task.status ?? {};
  return { ...task, metadata, status };
}

/** What about an instance a service can react to: whether it takes tasks. Heartbeat fields are not. */
function instanceChangedForServices(old: ContainerInstance, next: ContainerInstance): boolean {
  return isLeaving(old) !== isLeaving(next) || old.status?.agentConnected !== next.status?.agentConnected;
}

export function addServiceController(manager: Manager, namespace?: string): void {
  const deps: ServiceControllerDeps = {
    store: manager.store,
    events: manager.events,
    services: manager.informerFor<Service>(serviceType, namespace),
    tasks: manager.informerFor<Task>(taskType, namespace),
    instances: manager.informerFor<ContainerInstance>(containerInstances, namespace),
    revisions: manager.informerFor<ControllerRevision>(controllerRevisions, namespace),
    metrics: serviceMetrics(manager.registry),
  };
  indexRevisions(deps.revisions);
  const reconciler = new ServiceReconciler(deps);
  const serviceIndex = new ServiceIndex(deps.services);
  const taskIndex = new TaskIndex(deps.tasks);
  const keys = (list: Service[]) => list.map((s) => keyOf(s));
  // DAEMON services follow every instance of their cluster; a REPLICA service cares about the instances its tasks are on.
  const concernedBy = (instance: ContainerInstance): ObjectKey[] => {
    const daemons = serviceIndex.inCluster(instance.metadata.namespace, instance.spec.cluster).filter((s) => s.spec.schedulingStrategy === 'DAEMON');
    const owners = new Set(taskIndex.onInstance(instance.metadata.namespace, instance.metadata.name).map((t) => t.metadata.labels?.[serviceLabel]));
    owners.delete(undefined);
    return [...keys(daemons), ...[...owners].map((name) => ({ namespace: instance.metadata.namespace, name: name! }))];
  };
  manager
    // Sixteen workers, because a reconcile spends most of its time waiting on the API server (status,
    // task and Event writes, a few ms each), not on the CPU. Under churn each spec change brings about
    // five reconciles of its service (the change, then its task created, bound, PENDING, RUNNING): 20
    // changes/s over 500 services is ~100 reconciles/s, and at ~30 ms of round trips each, 4 workers
    // (~130/s at best) ran near saturation, so a change waited behind others (p99 358 ms from watch
    // event to first write, against 36 ms for a trivial controller); with 16 the queue stays empty
    // (p99 5–112 ms, below the trivial controller's in the same runs). See BENCHMARKS.md, run E.
    .addController({ name: 'service', workers: 16, reconcile: (key, context) => reconciler.reconcile(key, context) })
    .watch(deps.services)
    // A service's tasks change in bursts (a rollout starts or stops many at once): batched over 50 ms.
    .watch(
      deps.tasks,
      (task) => {
        const owner = task.metadata.labels?.[serviceLabel];
        return owner ? { namespace: task.metadata.namespace, name: owner } : undefined;
      },
      { delayMs: taskBatchMs, update: taskChangedForService },
    )
    // A revision registered or deregistered changes what a service following its family runs.
    .watch(deps.revisions, (revision) => (revision.data?.family ? keys(serviceIndex.ofFamily(revision.metadata.namespace, revision.data.family)) : []))
    .watch(deps.instances, concernedBy, { update: instanceChangedForServices });
}
