import { clusters, containerInstances, services, tasks, type Cluster, type ContainerInstance, type Service, type Task } from '../../api';
import type { ReconcileContext, ReconcileResult } from '../../runtime/controller';
import { MutationCache } from '../../runtime/mutation-cache';
import { settleAll } from '../../runtime/concurrency';
import { Expectations } from '../../runtime/expectations';
import type { EventRecorder } from '../../runtime/events';
import type { SharedInformer } from '../../runtime/informer';
import type { Manager } from '../../runtime/manager';
import { formatKey, keyOf, type ObjectKey } from '../../runtime/object-key';
import { isStoreError, KubeObject, ObjectStore, ResourceType } from '../../store/object-store';
import { DesiredCondition, setConditions } from '../shared/conditions';
import { withFinalizer, withoutFinalizer } from '../shared/finalizers';
import { tasksByInstance } from '../placement';
import { InstanceIndex, ServiceIndex, TaskIndex } from '../shared/indexes';
import { clusterCounts, deletingCondition, readyCondition, type ClusterContents, type PlannedChange } from './cluster-status';
import { noopInstanceProviders, type InstanceProviders } from './instance-provider';
import { LaunchedInstances } from './launched-instances';
import {
  drainedInstance,
  isLaunchedBy,
  isManagedNodeGroup,
  planNodeGroupInstances,
  planRetiredInstances,
  reactivatedInstance,
  type RetirementCause,
} from './node-group-plan';
import { semanticallyEqual } from '../../runtime/semantic-equal';

export const clusterFinalizer = 'berth.dev/cluster';

export interface ClusterControllerDeps {
  store: ObjectStore;
  events: EventRecorder;
  clusters: SharedInformer<Cluster>;
  containerInstances: SharedInformer<ContainerInstance>;
  tasks: SharedInformer<Task>;
  services: SharedInformer<Service>;
  providers: InstanceProviders;
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

  constructor(private readonly deps: ClusterControllerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.launched = new LaunchedInstances(deps.providers);
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
    const managedGroups = (cluster.spec.nodeGroups ?? []).filter(isManagedNodeGroup);
    const changes: PlannedChange[] = managedGroups.map((group) => ({
      subject: `node group ${group.name}`,
      plan: planNodeGroupInstances(
        cluster,
        group,
        launched.filter((instance) => instance.spec.nodeGroup === group.name),
        onInstances,
      ),
    }));
    const wanted = new Set(managedGroups.map((group) => group.name));
    const orphaned = launched.filter((instance) => !wanted.has(instance.spec.nodeGroup ?? ''));
    if (orphaned.length > 0) changes.push({ subject: 'removed node groups', plan: planRetiredInstances(orphaned, 'node-group-removed', onInstances) });

    for (const change of changes) await this.carryOut(cluster, change, context);
    return this.writeStatus(cluster, contents, readyCondition(cluster.metadata.generation, changes));
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
  private async writeStatus(cluster: Cluster, contents: ClusterContents, ready: DesiredCondition): Promise<ReconcileResult | void> {
    const key = formatKey(keyOf(cluster));
    const current = cluster.status ?? {};
    const next = {
      ...current,
      ...clusterCounts(cluster, contents),
      observedGeneration: cluster.metadata.generation,
      conditions: setConditions(current.conditions, [ready], this.now()),
    };
    if (semanticallyEqual(next, current)) return;
    const onlyTaskCounts = semanticallyEqual(
      { ...next, runningTasksCount: 0, pendingTasksCount: 0 },
      { ...current, runningTasksCount: 0, pendingTasksCount: 0 },
    );
    const intervalMs = this.deps.taskCountsReportIntervalMs ?? 5_000;
    const sinceLastMs = this.now().getTime() - (this.lastWrite.get(key) ?? -Infinity);
    if (onlyTaskCounts && sinceLastMs < intervalMs) return { requeueAfterMs: intervalMs - sinceLastMs };
    const written = await this.deps.store.updateStatus(clusters, { ...cluster, status: next });
    this.clusters.mutated(written);
    this.lastWrite.set(key, this.now().getTime());
  }
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
  options: Pick<ClusterControllerDeps, 'taskCountsReportIntervalMs'> = {},
): void {
  const informer = <T extends KubeObject>(type: ResourceType) => manager.informerFor<T>(type, namespace);
  const deps: ClusterControllerDeps = {
    store: manager.store,
    events: manager.events,
    clusters: informer<Cluster>(clusters),
    containerInstances: informer<ContainerInstance>(containerInstances),
    tasks: informer<Task>(tasks),
    services: informer<Service>(services),
    providers,
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
        old.status?.status !== next.status?.status,
    })
    // Tasks matter to a cluster as they start, stop or land on an instance (its counts, termination
    // protection); a second's batching turns a rollout's thousands of task changes into a few reconciles.
    .watch(deps.tasks, clusterOf, {
      update: (old, next) => old.status?.lastStatus !== next.status?.lastStatus || old.spec.containerInstance !== next.spec.containerInstance,
      delayMs: 1_000,
    })
    .watch(deps.services, clusterOf);
}
