/** Task Pods (the Kubernetes data plane), as both the agents that run them and the controllers that count them see them. */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { serviceLabel } from '../api';
import type { SharedInformer } from '../runtime/informer';
import type { KubeObject } from '../store/object-store';

/** Labels of every task Pod, for selectors and `kubectl get pods -l`. */
export const podLabels = {
  cluster: 'berth.dev/cluster',
  service: serviceLabel,
  family: 'berth.dev/family',
  revision: 'berth.dev/revision',
  taskUid: 'berth.dev/task-uid',
  /** The ContainerInstance the Pod runs for, by uid: an agent lists and sweeps only its own. */
  instanceUid: 'berth.dev/container-instance-uid',
} as const;

/**
 * On a Node's mirrored instance: the cordon state of the Node last seen ('true' / 'false'), so a change
 * tells who moved (see controllers/nodes), and scale-in knows the Node is cordoned before it is removed.
 */
export const nodeCordonedAnnotation = 'berth.dev/node-cordoned';

/** A Node as the store hands it over. */
export type NodeObject = KubeObject & Pick<V1Node, 'spec' | 'status'>;

/** A Pod as the store hands it over: the object meta Berth's informers index, and the Pod's spec and status. */
export type PodObject = KubeObject & Pick<V1Pod, 'spec' | 'status'>;

const podsByNodeIndex = 'byNode';
const podsByTaskUidIndex = 'byTaskUid';

/** Pod indexes: by the Node it is bound to, and by the task it runs (its berth.dev/task-uid label). */
export class PodIndex {
  constructor(readonly informer: SharedInformer<PodObject>) {
    informer.addIndexer(podsByNodeIndex, (pod) => (pod.spec?.nodeName ? [pod.spec.nodeName] : []));
    informer.addIndexer(podsByTaskUidIndex, (pod) => {
      const uid = pod.metadata.labels?.[podLabels.taskUid];
      return uid ? [uid] : [];
    });
  }

  onNode(nodeName: string): PodObject[] {
    return this.informer.byIndex(podsByNodeIndex, nodeName);
  }

  ofTask(taskUid: string): PodObject | undefined {
    return this.informer.byIndex(podsByTaskUidIndex, taskUid)[0];
  }
}

/** A Pod that holds its node's resources and ports: not yet succeeded or failed. */
export function isActivePod(pod: PodObject): boolean {
  return pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}
