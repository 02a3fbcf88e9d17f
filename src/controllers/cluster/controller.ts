import { clusters, containerInstances, services, tasks, type Cluster, type ClusterStatus, type ContainerInstance, type Service, type Task } from '../../api';
import type { ReconcileContext, ReconcileResult } from '../../runtime/controller';
import { MutationCache } from '../../runtime/mutation-cache';
import { settleAll } from '../../runtime/concurrency';
import { Expectations } from '../../runtime/expectations';
import type { EventRecorder } from '../../runtime/events';
import type { SharedInformer } from '../../runtime/informer';
import type { Manager } from '../../runtime/manager';
import { formatKey, keyOf, type ObjectKey } from '../../runtime/object-key';
import { isStoreError, KubeObject, ObjectStore, ResourceType } from '../../store/object-store';
import { DesiredCondition, setConditions } from '../../ecs/conditions';
import { withFinalizer, withoutFinalizer } from '../shared/finalizers';
import { EcsScheduler, taskPlacement, tasksByInstance, type Scheduler } from '../placement';
import { isAdmitted } from '../../ecs/resources';
import { controllerRevisions } from '../../store/builtin-types';
import { specOfTask } from '../../ecs/revisions/revision-lookup';
import type { ControllerRevision } from '../../ecs/revisions/revisions';
import { InstanceIndex, ServiceIndex, TaskIndex } from '../../ecs/indexes';
import { clusterCounts, deletingCondition, readyCondition, type ClusterContents, type PlannedChange } from './cluster-status';
import { noopInstanceProviders, type InstanceProviders } from '../../ecs/instance-provider';
import { LaunchedInstances } from '../../ecs/launched-instances';
import {
  capacityProviderMetrics,
  decideScaling,
  groupDemand,
  instancesByState,
  isScalingNodeGroup,
  waitingTasksByGroup,
  type CapacityProviderMetrics,
  type ScalingDecision,
  type ScalingNodeGroup,
  type ScalingStatus,
} from './scaling';
import {
  desiredSizeOf,
  drainedInstance,
  isLaunchedBy,
  isManagedNodeGroup,
  planNodeGroupInstances,
  planRetiredInstances,
  providerAttribute,
  reactivatedInstance,
  type ManagedNodeGroup,
  type RetirementCause,
  type TasksByInstance,
} from './node-group-plan';
import { semanticallyEqual } from '../../runtime/semantic-equal';
import { nodeCordonedAnnotation } from '../../ecs/pods';
import { machineDeletionAnnotation, planScaleTarget } from './scale-target-plan';
import { noScaleTargets, type ScaleTargetRef, type ScaleTargets } from './scale-targets';

export const clusterFinalizer = 'berth.dev/cluster';

export interface ClusterControllerDeps {
  store: ObjectStore;
  events: EventRecorder;
  clusters: SharedInformer<Cluster>;
  containerInstances: SharedInformer<ContainerInstance>;
  tasks: SharedInformer<Task>;
  services: SharedInformer<Service>;
  /** Task definition revisions: what a waiting task needs, for managed scaling. */
  revisions: SharedInformer<ControllerRevision>;
  providers: InstanceProviders;
  /** What adds and removes the Nodes of managed groups of Nodes; none outside Kubernetes. */
  scaleTargets?: ScaleTargets;
  /** Whether groups of Nodes are served (their Nodes mirrored): false under berth local, whose store has no Nodes. */
  nodesServed?: boolean;
  /** Whether a waiting task could run on a new instance of a group; first-fit by default. */
  scheduler?: Scheduler;
  metrics?: CapacityProviderMetrics;
  /** How often a change of task counts alone is written to a cluster's status. Default 5 s. */
  taskCountsReportIntervalMs?: number;
  now?: () => Date;
}

/** Instance writes in flight per reconcile. */
const writeConcurrency = 16;

const drainCauses: Record<RetirementCause, string> = {
  'scale-in': 'to scale in',
  'node-group-removed': 'as its node group was removed',
  'cluster-deleted': 'as the cluster is being deleted',
};

/**
 * Keeps each managed node group of a Cluster at its desired size in ContainerInstances the cluster
 * owns, launching and terminating their hosts through the group's InstanceProvider, and reports the
 * cluster's counts. Self-managed instances register themselves and are never created or deleted here.
 * Deleting a Cluster drains all its instances and waits, behind a finalizer, until every launched
 * instance is empty and deleted and every self-managed one has deregistered.
 */
export class ClusterReconciler {
  private readonly now: () => Date;
  private readonly launched: LaunchedInstances;
  private readonly clusters: MutationCache<Cluster>;
  private readonly taskIndex: TaskIndex;
  private readonly serviceIndex: ServiceIndex;
  private readonly instanceIndex: InstanceIndex;
  /** When each cluster's status was last written, to hold task counts to one write per report interval. */
  private readonly lastWrite = new Map<string, number>();
  /** Instances created or deleted that the informer does not show yet. */
  private readonly expectations = new Expectations();

  private readonly scheduler: Scheduler;

  constructor(private readonly deps: ClusterControllerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.scheduler = deps.scheduler ?? new EcsScheduler();
    this.launched = new LaunchedInstances((instance) => deps.providers[instance.spec.attributes?.[providerAttribute] === 'simulated' ? 'simulated' : 'local']);
    this.clusters = new MutationCache(deps.clusters);
    this.taskIndex = new TaskIndex(deps.tasks);
    this.serviceIndex = new ServiceIndex(deps.services);
    this.instanceIndex = new InstanceIndex(deps.containerInstances);
    const observed = (change: 'add' | 'delete') => (instance: ContainerInstance) =>
      this.expectations.observed(formatKey({ namespace: instance.metadata.namespace, name: instance.spec.cluster }), instance.metadata.name, change);
    deps.containerInstances.addEventHandler({ onAdd: observed('add'), onDelete: observed('delete') });
  }

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | void> {
    if (!this.expectations.satisfied(formatKey(key))) return { requeueAfterMs: this.expectations.remainingMs(formatKey(key)) };
    const cluster = this.clusters.get(key.namespace, key.name);
    if (!cluster) {
      await this.launched.sync(formatKey(key), []);
      this.lastWrite.delete(formatKey(key));
      this.deps.metrics?.forget(key.namespace ?? '', key.name);
      return;
    }
    const contents = this.contentsOf(cluster);
    const launched = contents.instances.filter((instance) => isLaunchedBy(instance, cluster));
    await this.launched.sync(formatKey(key), launched);
    if (cluster.metadata.deletionTimestamp) return this.finalize(cluster, contents, launched, context);
    if (!cluster.metadata.finalizers?.includes(clusterFinalizer)) {
      // The update wakes this controller again, with the finalizer in the cache.
      const written = await this.deps.store.update(clusters, withFinalizer(cluster, clusterFinalizer));
      this.clusters.mutated(written);
      return;
    }

    const onInstances = tasksByInstance(contents.tasks);
    // Managed termination protection ignores DAEMON tasks, as ECS does: every instance runs one, so they
    // would keep every instance, and their service stops them on an instance that drains anyway.
    const protectedBy = tasksByInstance(contents.tasks, (task) => !this.isDaemonTask(task));
    const managedGroups = (cluster.spec.nodeGroups ?? []).filter(isManagedNodeGroup);
    // A managed group's instances: those the cluster launched, or for a group of Nodes the Nodes' mirrors.
    const mirrors = contents.instances.filter((instance) => instance.spec.nodeName !== undefined);
    const nodeGroups = new Set(managedGroups.filter((group) => group.nodes !== undefined).map((group) => group.name));
    const ofGroup = (name: string) => (nodeGroups.has(name) ? mirrors : launched).filter((instance) => instance.spec.nodeGroup === name);
    const scaling = this.decideScaling(cluster, managedGroups.filter(isScalingNodeGroup), contents.tasks, onInstances, ofGroup);
    const scaled = await this.writeScalingDecisions(cluster, scaling, context);
    if (!scaled) return { requeue: true };
    const current = scaled.cluster;
    const desired = (group: ManagedNodeGroup) => scaling.get(group.name)?.status.desiredSize ?? desiredSizeOf(group);
    const changes: PlannedChange[] = managedGroups.map((group) => ({
      subject: `node group ${group.name}`,
      plan: group.nodes?.scaleTarget
        ? planScaleTarget(group, `${group.nodes.scaleTarget.kind} ${group.nodes.scaleTarget.name}`, ofGroup(group.name), protectedBy, desired(group))
        : planNodeGroupInstances(current, group, ofGroup(group.name), protectedBy, desired(group)),
    }));
    const wanted = new Set(managedGroups.map((group) => group.name));
    const orphaned = launched.filter((instance) => !wanted.has(instance.spec.nodeGroup ?? ''));
    if (orphaned.length > 0) changes.push({ subject: 'removed node groups', plan: planRetiredInstances(orphaned, 'node-group-removed', onInstances) });

    let retryAfterMs: number | undefined;
    for (const [i, change] of changes.entries()) {
      const target = managedGroups[i]?.nodes?.scaleTarget;
      if (!target) await this.carryOut(current, change, context);
      else if (!(await this.carryOutOnScaleTarget(current, { ...target, namespace: current.metadata.namespace! }, change, context))) retryAfterMs = 30_000;
    }
    const unserved = this.deps.nodesServed ? [] : (current.spec.nodeGroups ?? []).filter((group) => group.nodes !== undefined).map((group) => group.name);
    const written = await this.writeStatus(current, contents, readyCondition(current.metadata.generation, changes, unserved), scaling);
    return soonest([written?.requeueAfterMs, retryAfterMs, ...[...scaling.values()].map((decision) => decision.requeueAfterMs)]);
  }

  /**
   * Managed scaling, one decision per group whose managedScaling is ENABLED, from the group's stored
   * status entry, its instances and the tasks placed on it and waiting for it.
   */
  private decideScaling(
    cluster: Cluster,
    groups: ScalingNodeGroup[],
    clusterTasks: readonly Task[],
    onInstances: TasksByInstance,
    ofGroup: (name: string) => ContainerInstance[],
  ): Map<string, ScalingDecision> {
    const now = this.now();
    const specOf = (task: Task) => specOfTask(this.deps.revisions, task);
    const constraintsOf = (task: Task) => taskPlacement(task, this.serviceOf(task), specOf(task)).placementConstraints;
    const waiting = waitingTasksByGroup(cluster, groups, clusterTasks, { specOf, constraintsOf, scheduler: this.scheduler, instancesOf: ofGroup });
    const stored = new Map((cluster.status?.nodeGroups ?? []).map((entry) => [entry.name, entry]));
    const decisions = new Map<string, ScalingDecision>();
    for (const group of groups) {
      const { managedScaling: settings, scaling: bounds } = group;
      const instances = ofGroup(group.name);
      decisions.set(
        group.name,
        decideScaling({
          nodeGroup: group.name,
          settings: {
            targetCapacity: settings.targetCapacity,
            bounds: {
              minSize: bounds.minSize,
              maxSize: bounds.maxSize,
              minimumScalingStepSize: settings.minimumScalingStepSize,
              maximumScalingStepSize: settings.maximumScalingStepSize,
            },
            scaleInCooldownSeconds: settings.scaleInCooldownSeconds,
          },
          startingSize: desiredSizeOf(group),
          stored: stored.get(group.name),
          demand: groupDemand(group, instances, onInstances, waiting.get(group.name) ?? [], { specOf, isDaemonTask: (task) => this.isDaemonTask(task) }, now),
          now,
        }),
      );
    }
    this.deps.metrics?.observe(
      cluster.metadata.namespace ?? '',
      cluster.metadata.name,
      groups.map((group) => ({
        capacityProvider: group.name,
        reservation: decisions.get(group.name)!.status.capacityProviderReservation ?? 100,
        instances: instancesByState(group, ofGroup(group.name), now),
        desiredSize: decisions.get(group.name)!.status.desiredSize ?? group.scaling.minSize,
        maxSize: group.scaling.maxSize,
      })),
    );
    return decisions;
  }

  /**
   * A scaling decision is written to status before any instance is launched or drained for it, and its
   * Event recorded after: the size lives in status only, so acting on a decision that was never stored
   * would leave instances the next reconcile reads as surplus. A conflict returns undefined: the
   * reconcile is made again from the newer object, without having acted or spoken.
   */
  private async writeScalingDecisions(
    cluster: Cluster,
    scaling: ReadonlyMap<string, ScalingDecision>,
    context: ReconcileContext,
  ): Promise<{ cluster: Cluster } | undefined> {
    const stored = new Map((cluster.status?.nodeGroups ?? []).map((entry) => [entry.name, entry]));
    const decided = (status: ScalingStatus) => ({
      desiredSize: status.desiredSize,
      lowReservationSince: status.lowReservationSince,
      lastScalingDecision: status.lastScalingDecision,
    });
    const changed = [...scaling].filter(([name, decision]) => {
      const entry = stored.get(name);
      return !entry || !semanticallyEqual(decided(decision.status), decided(entry));
    });
    if (changed.length === 0) return { cluster };
    const status = { ...cluster.status, nodeGroups: nodeGroupEntries(cluster, scaling) };
    let written: Cluster;
    try {
      written = await this.deps.store.updateStatus(clusters, { ...cluster, status });
    } catch (error) {
      if (isStoreError(error, 'Conflict')) return undefined;
      throw error;
    }
    this.clusters.mutated(written);
    for (const [, decision] of changed) {
      for (const effect of decision.effects) {
        context.log.info('managed scaling', { message: effect.message });
        await this.deps.events.event(written, effect.kind, effect.reason, effect.message);
      }
    }
    return { cluster: written };
  }

  private isDaemonTask(task: Task): boolean {
    return this.serviceOf(task)?.spec.schedulingStrategy === 'DAEMON';
  }

  private serviceOf(task: Task): Service | undefined {
    const group = task.spec.group ?? '';
    return group.startsWith('service:') ? this.deps.services.get(task.metadata.namespace, group.slice('service:'.length)) : undefined;
  }

  private async finalize(
    cluster: Cluster,
    contents: ClusterContents,
    launched: ContainerInstance[],
    context: ReconcileContext,
  ): Promise<ReconcileResult | void> {
    if (!cluster.metadata.finalizers?.includes(clusterFinalizer)) return;
    if (contents.instances.length === 0) {
      context.log.info('every instance is gone, releasing the cluster');
      await this.deps.store.update(clusters, withoutFinalizer(cluster, clusterFinalizer));
      return;
    }
    const change: PlannedChange = { subject: 'launched instances', plan: planRetiredInstances(launched, 'cluster-deleted', tasksByInstance(contents.tasks)) };
    await this.carryOut(cluster, change, context);
    // Self-managed hosts are drained so nothing new lands, but only their agents (or a user) deregister them.
    const selfManaged = contents.instances.filter((instance) => !isLaunchedBy(instance, cluster) && !instance.metadata.deletionTimestamp);
    for (const instance of selfManaged) {
      if (instance.spec.status !== 'DRAINING') await this.drain(cluster, instance, 'cluster-deleted', context);
    }
    return this.writeStatus(cluster, contents, deletingCondition(cluster.metadata.generation, [change], selfManaged));
  }

  private async carryOut(cluster: Cluster, { plan }: PlannedChange, context: ReconcileContext): Promise<void> {
    for (const instance of plan.drain) await this.drain(cluster, instance, plan.cause, context);
    for (const instance of plan.reactivate) {
      await this.deps.store.update(containerInstances, reactivatedInstance(instance));
      context.log.info('reactivated instance', { instance: instance.metadata.name });
      await this.deps.events.event(
        cluster,
        'Normal',
        'InstanceReactivated',
        `node group ${instance.spec.nodeGroup}: ${instance.metadata.name} is wanted again, back to ACTIVE`,
      );
    }
    const owner = formatKey(keyOf(cluster));
    this.expectations.expect(
      owner,
      'delete',
      plan.delete.map((i) => i.metadata.name),
    );
    const deleted = await settleAll(plan.delete, writeConcurrency, async (instance) => {
      await this.deps.store.delete(containerInstances, instance.metadata.namespace, instance.metadata.name, { preconditionUid: instance.metadata.uid });
      context.log.info('terminated instance', { instance: instance.metadata.name });
      await this.deps.events.event(cluster, 'Normal', 'InstanceTerminated', `node group ${instance.spec.nodeGroup}: terminated ${instance.metadata.name}`);
    });
    // A write that failed, or whose outcome the cache already shows, lets go of its expectation.
    const cached = (instance: ContainerInstance) => this.deps.containerInstances.get(instance.metadata.namespace, instance.metadata.name);
    deleted.forEach((result, i) => {
      const instance = plan.delete[i];
      if (result.status === 'rejected' && (!isStoreError(result.reason, 'NotFound') || !cached(instance)))
        this.expectations.observed(owner, instance.metadata.name);
    });
    // Until the informer shows what was created, the next reconcile would see too few instances: expect them.
    this.expectations.expect(
      owner,
      'add',
      plan.create.map((i) => i.metadata.name),
    );
    const created = await settleAll(plan.create, writeConcurrency, async (instance) => {
      const stored = await this.deps.store.create(containerInstances, instance);
      await this.launched.launch(owner, stored);
      context.log.info('launched instance', { instance: stored.metadata.name });
      await this.deps.events.event(cluster, 'Normal', 'InstanceLaunched', `node group ${stored.spec.nodeGroup}: launched ${stored.metadata.name} to scale out`);
    });
    created.forEach((result, i) => {
      // AlreadyExists: an earlier attempt made it, and the informer will show it (then this reconcile's sync launches it).
      const instance = plan.create[i];
      if (result.status === 'rejected' && (!isStoreError(result.reason, 'AlreadyExists') || cached(instance)))
        this.expectations.observed(owner, instance.metadata.name);
    });
    for (const result of [...deleted, ...created]) {
      if (result.status === 'rejected' && !isStoreError(result.reason, 'NotFound') && !isStoreError(result.reason, 'AlreadyExists')) throw result.reason;
    }
  }

  /**
   * Carries out a plan for a group of Nodes (scale-target-plan.ts): drains and reactivates as for launched
   * instances; for each Node to remove, marks its Machine for deletion and then the mirror as leaving; and
   * last sets the target's replicas. A Node whose Machine cannot be named keeps its place in replicas, so
   * the infrastructure never picks a Node Berth did not choose. False when the scale target cannot be
   * reached (its message then stands in the plan, for the Ready condition).
   */
  private async carryOutOnScaleTarget(cluster: Cluster, target: ScaleTargetRef, change: PlannedChange, context: ReconcileContext): Promise<boolean> {
    const { plan } = change;
    const scaleTargets = this.deps.scaleTargets ?? noScaleTargets;
    await this.carryOut(cluster, { ...change, plan: { ...plan, create: [], delete: [], scaleTarget: undefined } }, context);
    let unmarked = 0;
    for (const instance of plan.delete) {
      const nodeName = instance.spec.nodeName!;
      if (!(await scaleTargets.markMachineForDeletion(nodeName))) {
        unmarked++;
        await this.deps.events.event(
          cluster,
          'Warning',
          'NodeNotRemovable',
          `node group ${instance.spec.nodeGroup}: Node ${nodeName} is empty and drained, but names no Cluster API Machine (annotation cluster.x-k8s.io/machine): ${target.kind} ${target.name} keeps it`,
        );
        continue;
      }
      await this.deps.store.patch(containerInstances, instance.metadata.namespace, instance.metadata.name, {
        metadata: { annotations: { [machineDeletionAnnotation]: this.now().toISOString() } },
      });
      context.log.info('marked machine for deletion', { instance: instance.metadata.name, node: nodeName });
      await this.deps.events.event(
        cluster,
        'Normal',
        'InstanceTerminating',
        `node group ${instance.spec.nodeGroup}: Node ${nodeName} is empty and drained; its Machine is marked for deletion`,
      );
    }
    const wanted = plan.scaleTarget!.replicas + unmarked;
    try {
      const replicas = await scaleTargets.replicas(target);
      if (replicas !== wanted) {
        await scaleTargets.setReplicas(target, wanted);
        context.log.info('scaled the node group', { target: `${target.kind}/${target.name}`, from: replicas, to: wanted });
        await this.deps.events.event(
          cluster,
          'Normal',
          'NodeGroupResized',
          `${change.subject}: ${target.kind} ${target.name} replicas ${replicas} → ${wanted}`,
        );
      }
      return true;
    } catch (error) {
      const message = `${target.kind} ${target.name} cannot be scaled: ${(error as Error).message}`;
      plan.scaleTarget = { ...plan.scaleTarget!, problem: message };
      await this.deps.events.event(cluster, 'Warning', 'ScaleTargetUnavailable', `${change.subject}: ${message}`);
      return false;
    }
  }

  private async drain(cluster: Cluster, instance: ContainerInstance, cause: RetirementCause, context: ReconcileContext): Promise<void> {
    await this.deps.store.update(containerInstances, drainedInstance(instance, cause));
    context.log.info('draining instance', { instance: instance.metadata.name, cause });
    await this.deps.events.event(
      cluster,
      'Normal',
      'InstanceDraining',
      `node group ${instance.spec.nodeGroup}: draining ${instance.metadata.name} ${drainCauses[cause]}`,
    );
  }

  private contentsOf(cluster: Cluster): ClusterContents {
    const { namespace, name } = cluster.metadata;
    return {
      instances: this.instanceIndex.inCluster(namespace, name),
      services: this.serviceIndex.inCluster(namespace, name),
      tasks: this.taskIndex.inCluster(namespace, name),
    };
  }

  /**
   * Writes status when it changed. Task counts change with every task that starts or stops; a change
   * of nothing but them is written at most once per report interval, as kubelet holds node status to
   * its report frequency:
   *   e.g. interval 5 s, 1,000 tasks starting over 20 s: 5 writes, not 2,000.
   */
  private async writeStatus(
    cluster: Cluster,
    contents: ClusterContents,
    ready: DesiredCondition,
    scaling: ReadonlyMap<string, ScalingDecision> = new Map(),
  ): Promise<ReconcileResult | void> {
    const key = formatKey(keyOf(cluster));
    const current = cluster.status ?? {};
    const next = {
      ...current,
      ...clusterCounts(cluster, contents, scalingStatuses(scaling)),
      observedGeneration: cluster.metadata.generation,
      conditions: setConditions(current.conditions, [ready], this.now()),
    };
    if (semanticallyEqual(next, current)) return;
    const onlyTaskCounts = semanticallyEqual(withoutTaskCounts(next), withoutTaskCounts(current));
    const intervalMs = this.deps.taskCountsReportIntervalMs ?? 5_000;
    const sinceLastMs = this.now().getTime() - (this.lastWrite.get(key) ?? -Infinity);
    if (onlyTaskCounts && sinceLastMs < intervalMs) return { requeueAfterMs: intervalMs - sinceLastMs };
    const written = await this.deps.store.updateStatus(clusters, { ...cluster, status: next });
    this.clusters.mutated(written);
    this.lastWrite.set(key, this.now().getTime());
  }
}

/** The managed-scaling fields of each scaling group's status entry. */
function scalingStatuses(scaling: ReadonlyMap<string, ScalingDecision>): Map<string, ScalingStatus> {
  return new Map([...scaling].map(([name, decision]) => [name, decision.status]));
}

/** The node group entries with the scaling decisions in, everything else as stored (what clusterCounts writes later). */
function nodeGroupEntries(cluster: Cluster, scaling: ReadonlyMap<string, ScalingDecision>): NonNullable<Cluster['status']>['nodeGroups'] {
  const stored = new Map((cluster.status?.nodeGroups ?? []).map((entry) => [entry.name, entry]));
  return (cluster.spec.nodeGroups ?? []).map((group) => ({ ...stored.get(group.name), name: group.name, ...scaling.get(group.name)?.status }));
}

/**
 * Status with what changes with every task set aside: the task counts, and each node group's
 * reservation and instances needed (the decisions they lead to are written at once, by writeScalingDecisions).
 */
function withoutTaskCounts(status: ClusterStatus): ClusterStatus {
  return {
    ...status,
    runningTasksCount: 0,
    pendingTasksCount: 0,
    nodeGroups: status.nodeGroups?.map(({ capacityProviderReservation: _reservation, instancesNeeded: _needed, ...entry }) => entry),
  };
}

function soonest(delays: (number | undefined)[]): ReconcileResult | undefined {
  const set = delays.filter((delay): delay is number => delay !== undefined);
  return set.length > 0 ? { requeueAfterMs: Math.min(...set) } : undefined;
}

/**
 * Wires the reconciler to the manager's shared informers: Clusters, ContainerInstances, Tasks and
 * Services, each of the last three mapped to the Cluster its spec.cluster names. `providers` start
 * and stop the hosts of managed instances; the default starts nothing.
 */
export function addClusterController(
  manager: Manager,
  namespace?: string,
  providers: InstanceProviders = noopInstanceProviders,
  options: Pick<ClusterControllerDeps, 'taskCountsReportIntervalMs' | 'scheduler' | 'scaleTargets' | 'nodesServed'> = {},
): void {
  const informer = <T extends KubeObject>(type: ResourceType) => manager.informerFor<T>(type, namespace);
  const deps: ClusterControllerDeps = {
    store: manager.store,
    events: manager.events,
    clusters: informer<Cluster>(clusters),
    containerInstances: informer<ContainerInstance>(containerInstances),
    tasks: informer<Task>(tasks),
    services: informer<Service>(services),
    revisions: informer<ControllerRevision>(controllerRevisions),
    providers,
    metrics: capacityProviderMetrics(manager.registry),
    ...options,
  };
  const reconciler = new ClusterReconciler(deps);
  const clusterOf = (object: KubeObject & { spec: { cluster: string } }): ObjectKey => ({ namespace: object.metadata.namespace, name: object.spec.cluster });
  manager
    .addController({ name: 'cluster', reconcile: (key, context) => reconciler.reconcile(key, context) })
    .watch(deps.clusters)
    // What an instance's agent reports (what is left, what runs) is not the cluster's business; its registration is.
    .watch(deps.containerInstances, clusterOf, {
      update: (old, next) =>
        old.metadata.generation !== next.metadata.generation ||
        old.metadata.deletionTimestamp !== next.metadata.deletionTimestamp ||
        old.status?.status !== next.status?.status ||
        // A Node's mirror shows its Node cordoned: scale-in may now name it for removal.
        old.metadata.annotations?.[nodeCordonedAnnotation] !== next.metadata.annotations?.[nodeCordonedAnnotation],
    })
    // Tasks matter to a cluster as they start, stop, wait or land on an instance (its counts, termination
    // protection, the demand managed scaling meets); a second's batching turns a rollout's thousands of
    // task changes into a few reconciles.
    .watch(deps.tasks, clusterOf, {
      update: (old, next) =>
        old.status?.lastStatus !== next.status?.lastStatus ||
        old.spec.containerInstance !== next.spec.containerInstance ||
        old.spec.desiredStatus !== next.spec.desiredStatus ||
        isAdmitted(old) !== isAdmitted(next),
      delayMs: 1_000,
    })
    .watch(deps.services, clusterOf);
}
