import { clusters as clusterType, containerInstances, type Cluster, type ContainerInstance, type NodeGroup } from '../../api';
import { InstanceIndex } from '../../ecs/indexes';
import type { InstanceProvider } from '../../ecs/instance-provider';
import { LaunchedInstances } from '../../ecs/launched-instances';
import { nodeCordonedAnnotation, podLabels, PodIndex, type NodeObject, type PodObject } from '../../ecs/pods';
import type { ReconcileResult } from '../../runtime/controller';
import type { EventRecorder } from '../../runtime/events';
import type { SharedInformer } from '../../runtime/informer';
import type { Manager } from '../../runtime/manager';
import { formatKey, type ObjectKey } from '../../runtime/object-key';
import { semanticallyEqual } from '../../runtime/semantic-equal';
import { nodes as nodeType, pods as podType } from '../../store/builtin-types';
import { labelSelectorMatcher } from '../../store/label-selector';
import { boundedName, maxLabelValueLength } from '../../store/object-names';
import { isStoreError, type ObjectStore } from '../../store/object-store';
import { cordonSync, mirroredInstance, nodeInstanceName, reservedByOthers, selectNodes, type PodFacts } from './node-instance';

export interface NodeGroupControllerDeps {
  store: ObjectStore;
  events: EventRecorder;
  clusters: SharedInformer<Cluster>;
  nodes: SharedInformer<NodeObject>;
  pods: PodIndex;
  instances: SharedInformer<ContainerInstance>;
  instanceIndex: InstanceIndex;
  /** Starts the in-process agent of a mirrored instance (its tasks become Pods on the Node); stops it when the mirror goes. */
  provider: InstanceProvider;
}

/**
 * Node groups of Nodes: keeps one ContainerInstance per Node a group's selector matches, in the Node's
 * image (node-instance.ts), for each Cluster, and the agent that runs its tasks as Pods. Nodes join and
 * leave at any time and the mirror follows: a Node that goes, or stops matching, is deregistered (its
 * tasks are then lost to their services, which replace them). Keyed by Cluster.
 */
export class NodeGroupReconciler {
  private readonly launched: LaunchedInstances;

  constructor(private readonly deps: NodeGroupControllerDeps) {
    this.launched = new LaunchedInstances(() => deps.provider);
  }

  async reconcile(key: ObjectKey): Promise<ReconcileResult | void> {
    const { deps } = this;
    const cluster = deps.clusters.get(key.namespace, key.name);
    const mirrors = deps.instanceIndex.inCluster(key.namespace, key.name).filter((instance) => instance.spec.nodeName !== undefined);
    const groups = cluster && !cluster.metadata.deletionTimestamp ? (cluster.spec.nodeGroups ?? []) : [];
    const matchers = new Map(groups.flatMap((group) => (group.nodes ? [[group.name, labelSelectorMatcher(group.nodes.selector)] as const] : [])));
    const selected = selectNodes(groups, deps.nodes.list(), (group, node) => matchers.get(group.name)!(node.metadata.labels));
    const kept: ContainerInstance[] = [];
    for (const [nodeName, group] of selected) kept.push(await this.mirror(cluster!, group, deps.nodes.get(undefined, nodeName)!));
    for (const instance of mirrors) {
      if (selected.has(instance.spec.nodeName!)) continue;
      await deps.store.delete(containerInstances, instance.metadata.namespace, instance.metadata.name).catch((error: unknown) => {
        if (!isStoreError(error, 'NotFound')) throw error;
      });
      if (cluster) {
        await deps.events.event(
          cluster,
          'Normal',
          'NodeDeregistered',
          `Node ${instance.spec.nodeName} left node group ${instance.spec.nodeGroup}: container instance ${instance.metadata.name} deregistered`,
        );
      }
    }
    // The agents of the mirrors kept (started once), none for those deregistered (their Pods go with them).
    await this.launched.sync(formatKey(key), kept);
  }

  private async mirror(cluster: Cluster, group: NodeGroup, node: NodeObject): Promise<ContainerInstance> {
    const { deps } = this;
    const namespace = cluster.metadata.namespace!;
    const existing = deps.instances.get(namespace, nodeInstanceName(cluster.metadata.name, node.metadata.name));
    const cordon = cordonSync(node, existing);
    const desired = mirroredInstance(cluster, group, node, cordon.instanceStatus);
    desired.metadata.annotations = { ...existing?.metadata.annotations, [nodeCordonedAnnotation]: cordon.seen };
    // The Node first: the mirror's annotation then says "cordoned" only once it is (scale-in waits for that).
    if (cordon.cordonNode !== undefined) {
      await deps.store.patch(nodeType, undefined, node.metadata.name, { spec: { unschedulable: cordon.cordonNode ? true : null } });
    }
    let instance: ContainerInstance;
    if (!existing) {
      instance = await deps.store.create(containerInstances, desired);
      await deps.events.event(
        cluster,
        'Normal',
        'NodeRegistered',
        `Node ${node.metadata.name} joined node group ${group.name} as container instance ${instance.metadata.name}`,
      );
    } else if (!semanticallyEqual(existing.spec, desired.spec) || !semanticallyEqual(existing.metadata.annotations, desired.metadata.annotations)) {
      instance = await deps.store.update(containerInstances, {
        ...existing,
        metadata: { ...existing.metadata, annotations: desired.metadata.annotations },
        spec: desired.spec,
      });
    } else {
      instance = existing;
    }
    if (cordon.cordonNode !== undefined) {
      await deps.events.event(
        instance,
        'Normal',
        cordon.cordonNode ? 'NodeCordoned' : 'NodeUncordoned',
        `Node ${node.metadata.name} ${cordon.cordonNode ? 'cordoned: the instance is DRAINING' : 'uncordoned: the instance is ACTIVE'}`,
      );
    }
    const reserved = reservedByOthers(deps.pods.onNode(node.metadata.name).map(podFacts), (pod) => isClusterTask(pod, cluster));
    if (!semanticallyEqual(instance.status?.reservedByOthers, reserved)) {
      await deps.store.patch(containerInstances, namespace, instance.metadata.name, { status: { reservedByOthers: reserved } }, 'status');
    }
    return instance;
  }
}

/** A Pod of one of this cluster's tasks: its resources are the tasks', counted by placement already. */
function isClusterTask(pod: PodFacts, cluster: Cluster): boolean {
  return (
    pod.namespace === cluster.metadata.namespace &&
    pod.labels?.[podLabels.taskUid] !== undefined &&
    pod.labels[podLabels.cluster] === boundedName(cluster.metadata.name, maxLabelValueLength)
  );
}

function podFacts(pod: PodObject): PodFacts {
  const spec = pod.spec;
  return {
    namespace: pod.metadata.namespace!,
    ...(pod.metadata.labels && { labels: pod.metadata.labels }),
    ...(pod.status?.phase && { phase: pod.status.phase }),
    containers: (spec?.containers ?? []).map((c) => ({
      ...(c.resources?.requests && { requests: c.resources.requests }),
      hostPorts: (c.ports ?? []).flatMap((p) =>
        p.hostPort ? [{ port: p.hostPort, protocol: p.protocol === 'UDP' ? ('udp' as const) : ('tcp' as const) }] : [],
      ),
    })),
    initContainers: (spec?.initContainers ?? []).map((c) => ({
      ...(c.resources?.requests && { requests: c.resources.requests }),
      sidecar: c.restartPolicy === 'Always',
    })),
    ...(spec?.resources?.requests && { podRequests: spec.resources.requests }),
  };
}

/** Adds the controller of node groups of Nodes; `provider` runs each mirrored instance's tasks as Pods. */
export function addNodeGroupController(manager: Manager, provider: InstanceProvider, namespace?: string): void {
  const instances = manager.informerFor<ContainerInstance>(containerInstances, namespace);
  const deps: NodeGroupControllerDeps = {
    store: manager.store,
    events: manager.events,
    clusters: manager.informerFor<Cluster>(clusterType, namespace),
    nodes: manager.informerFor<NodeObject>(nodeType),
    pods: new PodIndex(manager.informerFor<PodObject>(podType)),
    instances,
    instanceIndex: new InstanceIndex(instances),
    provider,
  };
  const reconciler = new NodeGroupReconciler(deps);
  const withNodeGroups = () =>
    deps.clusters
      .list()
      .filter((cluster) => cluster.spec.nodeGroups?.some((group) => group.nodes !== undefined))
      .map((cluster) => ({ namespace: cluster.metadata.namespace, name: cluster.metadata.name }));
  const clustersOnNode = (nodeName: string | undefined) =>
    nodeName ? deps.instanceIndex.ofNode(nodeName).map((i) => ({ namespace: i.metadata.namespace, name: i.spec.cluster })) : [];
  manager
    .addController({ name: 'nodegroup', workers: 2, reconcile: (key) => reconciler.reconcile(key) })
    .watch(deps.clusters)
    .watch(instances, (instance) => (instance.spec.nodeName ? { namespace: instance.metadata.namespace, name: instance.spec.cluster } : undefined), {
      // The agent's status reports (what is left, what runs) are not the mirror's business.
      update: (old, next) => !semanticallyEqual(old.spec, next.spec) || !semanticallyEqual(old.metadata.annotations, next.metadata.annotations),
    })
    .watch(deps.nodes, withNodeGroups, {
      // Heartbeats move only timestamps: what the mirror reads is labels, allocatable, cordoning and readiness.
      update: (old, next) =>
        !semanticallyEqual(old.metadata.labels, next.metadata.labels) ||
        !semanticallyEqual(old.status?.allocatable, next.status?.allocatable) ||
        old.spec?.unschedulable !== next.spec?.unschedulable,
    })
    .watch(deps.pods.informer, (pod) => clustersOnNode(pod.spec?.nodeName), {
      update: (old, next) => old.status?.phase !== next.status?.phase || old.spec?.nodeName !== next.spec?.nodeName,
      delayMs: 1000,
    });
}
