import { clusters, containerInstances, services, tasks, type Cluster, type ContainerInstance, type Service, type Task } from '../../api';
import type { ReconcileContext } from '../../runtime/controller';
import type { EventRecorder } from '../../runtime/events';
import type { SharedInformer } from '../../runtime/informer';
import type { Manager } from '../../runtime/manager';
import { formatKey, keyOf, type ObjectKey } from '../../runtime/object-key';
import { isStoreError, KubeObject, ObjectStore, ResourceType, StoreError } from '../../store/object-store';
import { DesiredCondition, setConditions } from '../shared/conditions';
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
  type TasksByInstance,
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
  now?: () => Date;
}

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

  constructor(private readonly deps: ClusterControllerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.launched = new LaunchedInstances(deps.providers);
  }

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<void> {
    const cluster = this.deps.clusters.get(key.namespace, key.name);
    if (!cluster) {
      await this.launched.sync(formatKey(key), []);
      return;
    }
    const contents = this.contentsOf(cluster);
    const launched = contents.instances.filter((instance) => isLaunchedBy(instance, cluster));
    await this.launched.sync(formatKey(key), launched);
    if (cluster.metadata.deletionTimestamp) return this.finalize(cluster, contents, launched, context);
    if (!cluster.metadata.finalizers?.includes(clusterFinalizer)) {
      // The update wakes this controller again, with the finalizer in the cache.
      await this.deps.store.update(clusters, {
        ...cluster,
        metadata: { ...cluster.metadata, finalizers: [...(cluster.metadata.finalizers ?? []), clusterFinalizer] },
      });
      return;
    }

    const tasksByInstance = groupByInstance(contents.tasks);
    const managedGroups = (cluster.spec.nodeGroups ?? []).filter(isManagedNodeGroup);
    const changes: PlannedChange[] = managedGroups.map((group) => ({
      subject: `node group ${group.name}`,
      plan: planNodeGroupInstances(
        cluster,
        group,
        launched.filter((instance) => instance.spec.nodeGroup === group.name),
        tasksByInstance,
      ),
    }));
    const wanted = new Set(managedGroups.map((group) => group.name));
    const orphaned = launched.filter((instance) => !wanted.has(instance.spec.nodeGroup ?? ''));
    if (orphaned.length > 0) changes.push({ subject: 'removed node groups', plan: planRetiredInstances(orphaned, 'node-group-removed', tasksByInstance) });

    for (const change of changes) await this.carryOut(cluster, change, context);
    await this.writeStatus(cluster, contents, readyCondition(cluster.metadata.generation, changes));
  }

  private async finalize(cluster: Cluster, contents: ClusterContents, launched: ContainerInstance[], context: ReconcileContext): Promise<void> {
    if (!cluster.metadata.finalizers?.includes(clusterFinalizer)) return;
    if (contents.instances.length === 0) {
      context.log.info('every instance is gone, releasing the cluster');
      await this.deps.store.update(clusters, {
        ...cluster,
        metadata: { ...cluster.metadata, finalizers: cluster.metadata.finalizers.filter((f) => f !== clusterFinalizer) },
      });
      return;
    }
    const change: PlannedChange = { subject: 'launched instances', plan: planRetiredInstances(launched, 'cluster-deleted', groupByInstance(contents.tasks)) };
    await this.carryOut(cluster, change, context);
    // Self-managed hosts are drained so nothing new lands, but only their agents (or a user) deregister them.
    const selfManaged = contents.instances.filter((instance) => !isLaunchedBy(instance, cluster) && !instance.metadata.deletionTimestamp);
    for (const instance of selfManaged) {
      if (instance.spec.status !== 'DRAINING') await this.drain(cluster, instance, 'cluster-deleted', context);
    }
    await this.writeStatus(cluster, contents, deletingCondition(cluster.metadata.generation, [change], selfManaged));
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
    for (const instance of plan.delete) {
      await this.deps.store
        .delete(containerInstances, instance.metadata.namespace, instance.metadata.name, { preconditionUid: instance.metadata.uid })
        .catch((error: unknown) => {
          if (!isStoreError(error, 'NotFound')) throw error;
        });
      context.log.info('terminated instance', { instance: instance.metadata.name });
      await this.deps.events.event(cluster, 'Normal', 'InstanceTerminated', `node group ${instance.spec.nodeGroup}: terminated ${instance.metadata.name}`);
    }
    for (const instance of plan.create) {
      const created = await this.deps.store.create(containerInstances, instance).catch((error: unknown) => {
        // Our cache was behind: the instance exists already. Retry once the informer has caught up.
        if (isStoreError(error, 'AlreadyExists'))
          throw new StoreError('Conflict', `container instance ${instance.metadata.name} already exists; instance cache is stale`);
        throw error;
      });
      await this.launched.launch(formatKey(keyOf(cluster)), created);
      context.log.info('launched instance', { instance: created.metadata.name });
      await this.deps.events.event(
        cluster,
        'Normal',
        'InstanceLaunched',
        `node group ${created.spec.nodeGroup}: launched ${created.metadata.name} to scale out`,
      );
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
    const inCluster = <T extends KubeObject & { spec: { cluster: string } }>(objects: T[]) => objects.filter((object) => object.spec.cluster === name);
    return {
      instances: inCluster(this.deps.containerInstances.list(namespace)),
      services: inCluster(this.deps.services.list(namespace)),
      tasks: inCluster(this.deps.tasks.list(namespace)),
    };
  }

  private async writeStatus(cluster: Cluster, contents: ClusterContents, ready: DesiredCondition): Promise<void> {
    const current = cluster.status ?? {};
    const next = {
      ...current,
      ...clusterCounts(cluster, contents),
      observedGeneration: cluster.metadata.generation,
      conditions: setConditions(current.conditions, [ready], this.now()),
    };
    if (semanticallyEqual(next, current)) return;
    await this.deps.store.updateStatus(clusters, { ...cluster, status: next });
  }
}

function groupByInstance(clusterTasks: readonly Task[]): TasksByInstance {
  const byInstance = new Map<string, Task[]>();
  for (const task of clusterTasks) {
    const instance = task.spec.containerInstance;
    if (instance !== undefined) byInstance.set(instance, [...(byInstance.get(instance) ?? []), task]);
  }
  return byInstance;
}

/**
 * Wires the reconciler to the manager's shared informers: Clusters, ContainerInstances, Tasks and
 * Services, each of the last three mapped to the Cluster its spec.cluster names. `providers` start
 * and stop the hosts of managed instances; the default starts nothing.
 */
export function addClusterController(manager: Manager, namespace?: string, providers: InstanceProviders = noopInstanceProviders): void {
  const informer = <T extends KubeObject>(type: ResourceType) => manager.informerFor<T>(type, namespace);
  const deps: ClusterControllerDeps = {
    store: manager.store,
    events: manager.events,
    clusters: informer<Cluster>(clusters),
    containerInstances: informer<ContainerInstance>(containerInstances),
    tasks: informer<Task>(tasks),
    services: informer<Service>(services),
    providers,
  };
  const reconciler = new ClusterReconciler(deps);
  const clusterOf = (object: KubeObject & { spec: { cluster: string } }): ObjectKey => ({ namespace: object.metadata.namespace, name: object.spec.cluster });
  manager
    .addController({ name: 'cluster', reconcile: (key, context) => reconciler.reconcile(key, context) })
    .watch(deps.clusters)
    .watch(deps.containerInstances, clusterOf)
    .watch(deps.tasks, clusterOf)
    .watch(deps.services, clusterOf);
}
