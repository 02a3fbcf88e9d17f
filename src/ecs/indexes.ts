import { serviceLabel, type ContainerInstance, type Service, type Task } from '../api';
import type { SharedInformer } from '../runtime/informer';
import { isAdmitted } from './resources';
import { parseTaskDefinitionRef } from './revisions/revisions';

/**
 * The secondary keys controllers look objects up by, registered on the shared informers (a name is
 * registered once, whoever asks first). Every key is namespaced, `namespace/value`, because the same
 * service or instance name means different objects in different namespaces. With them a reconcile
 * reads "the tasks of service web" or "the services of cluster prod" without scanning every object,
 * which is what keeps a reconcile's cost proportional to its own object at 10,000 tasks.
 */

const inNamespace = (namespace: string | undefined, value: string) => `${namespace ?? ''}/${value}`;

const tasksByServiceIndex = 'byService';
const tasksByInstanceIndex = 'byInstance';
const tasksByUidIndex = 'byUid';
const awaitingPlacementByClusterIndex = 'awaitingPlacementByCluster';
const byClusterIndex = 'byCluster';
const servicesByFamilyIndex = 'byFamily';

/** Task indexes: by owning service, by container instance, by uid, by cluster, and those awaiting placement by cluster. */
export class TaskIndex {
  constructor(private readonly informer: SharedInformer<Task>) {
    informer.addIndexer(tasksByServiceIndex, (task) => {
      const owner = task.metadata.labels?.[serviceLabel];
      return owner ? [inNamespace(task.metadata.namespace, owner)] : [];
    });
    informer.addIndexer(tasksByInstanceIndex, (task) =>
      task.spec.containerInstance ? [inNamespace(task.metadata.namespace, task.spec.containerInstance)] : [],
    );
    informer.addIndexer(tasksByUidIndex, (task) => (task.metadata.uid ? [task.metadata.uid] : []));
    informer.addIndexer(awaitingPlacementByClusterIndex, (task) =>
      !isAdmitted(task) && task.status?.lastStatus !== 'STOPPED' ? [inNamespace(task.metadata.namespace, task.spec.cluster)] : [],
    );
    informer.addIndexer(byClusterIndex, (task) => [inNamespace(task.metadata.namespace, task.spec.cluster)]);
  }

  ofService(namespace: string | undefined, service: string): Task[] {
    return this.informer.byIndex(tasksByServiceIndex, inNamespace(namespace, service));
  }

  onInstance(namespace: string | undefined, instance: string): Task[] {
    return this.informer.byIndex(tasksByInstanceIndex, inNamespace(namespace, instance));
  }

  withUid(uid: string): Task | undefined {
    return this.informer.byIndex(tasksByUidIndex, uid)[0];
  }

  /** Tasks the scheduler has yet to place, or (bound at creation) to admit to their instance. */
  awaitingPlacementIn(namespace: string | undefined, cluster: string): Task[] {
    return this.informer.byIndex(awaitingPlacementByClusterIndex, inNamespace(namespace, cluster));
  }

  /** Whether any task of the cluster awaits placement or admission; O(1), for event handlers that run on every task change. */
  anyAwaitingPlacementIn(namespace: string | undefined, cluster: string): boolean {
    return this.informer.countByIndex(awaitingPlacementByClusterIndex, inNamespace(namespace, cluster)) > 0;
  }

  inCluster(namespace: string | undefined, cluster: string): Task[] {
    return this.informer.byIndex(byClusterIndex, inNamespace(namespace, cluster));
  }
}

/** Service indexes: by cluster, and by the task definition family they run. */
export class ServiceIndex {
  constructor(private readonly informer: SharedInformer<Service>) {
    informer.addIndexer(byClusterIndex, (service) => [inNamespace(service.metadata.namespace, service.spec.cluster)]);
    informer.addIndexer(servicesByFamilyIndex, (service) => [
      inNamespace(service.metadata.namespace, parseTaskDefinitionRef(service.spec.taskDefinition).family),
    ]);
  }

  inCluster(namespace: string | undefined, cluster: string): Service[] {
    return this.informer.byIndex(byClusterIndex, inNamespace(namespace, cluster));
  }

  ofFamily(namespace: string | undefined, family: string): Service[] {
    return this.informer.byIndex(servicesByFamilyIndex, inNamespace(namespace, family));
  }
}

const instancesByNodeIndex = 'byNodeName';

/** Container instances by cluster, and by the Node they mirror (every cluster's instance of it). */
export class InstanceIndex {
  constructor(private readonly informer: SharedInformer<ContainerInstance>) {
    informer.addIndexer(byClusterIndex, (instance) => [inNamespace(instance.metadata.namespace, instance.spec.cluster)]);
    informer.addIndexer(instancesByNodeIndex, (instance) => (instance.spec.nodeName ? [instance.spec.nodeName] : []));
  }

  ofNode(nodeName: string): ContainerInstance[] {
    return this.informer.byIndex(instancesByNodeIndex, nodeName);
  }

  inCluster(namespace: string | undefined, cluster: string): ContainerInstance[] {
    return this.informer.byIndex(byClusterIndex, inNamespace(namespace, cluster));
  }
}
