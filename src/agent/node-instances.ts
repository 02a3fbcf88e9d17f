import { clusters as clusterType, type Cluster, type ContainerInstance } from '../api';
import type { InstanceProvider } from '../ecs/instance-provider';
import { PodIndex, type NodeObject, type PodObject } from '../ecs/pods';
import type { Manager } from '../runtime/manager';
import { nodes as nodeType, pods as podType } from '../store/builtin-types';
import type { AgentHost, AgentHostOptions } from './agent-host';
import { KubernetesRuntime } from './runtime/kubernetes/kubernetes-runtime';

export interface NodeInstanceOptions {
  manager: Manager;
  host: AgentHost;
  namespace?: string;
  /** Whether the API server takes pod-level resources (task-level cpu and memory on the Pod itself). */
  podLevelResources: boolean;
}

/**
 * The instances of node groups of Nodes: each mirrored instance gets an in-process agent whose runtime
 * runs its tasks as Pods bound to the Node. No heartbeat Lease: the Node's readiness is the connection.
 * Terminating the agent (the Node left the group) deletes its Pods.
 */
export function nodeInstanceProvider(options: NodeInstanceOptions): InstanceProvider {
  const { manager, host } = options;
  const pods = new PodIndex(manager.informerFor<PodObject>(podType));
  const nodes = manager.informerFor<NodeObject>(nodeType);
  const clusters = manager.informerFor<Cluster>(clusterType, options.namespace);
  const groupOf = (instance: ContainerInstance) =>
    clusters.get(instance.metadata.namespace, instance.spec.cluster)?.spec.nodeGroups?.find((group) => group.name === instance.spec.nodeGroup);
  return {
    launch: (instance) => {
      const nodeName = instance.spec.nodeName!;
      const runtime = new KubernetesRuntime({
        store: manager.store,
        pods,
        nodeName,
        instanceUid: instance.metadata.uid!,
        clock: manager.clock,
        podLevelResources: options.podLevelResources,
        scheduling: () => {
          const tolerations = groupOf(instance)?.nodes?.tolerations;
          return tolerations?.length ? { tolerations } : {};
        },
        version: () => nodes.get(undefined, nodeName)?.status?.nodeInfo?.containerRuntimeVersion ?? 'unknown',
      });
      return host.attach(instance, runtime, { heartbeat: false });
    },
    terminate: (name, namespace) => host.detach({ namespace, name }),
  };
}

/**
 * The runtime of a cluster's Fargate Pods (AgentHost's fargatePods): unbound Pods, placed by the scheduler
 * the profile names onto the Nodes it selects, in its runtime class. Their own identity label is the pool's
 * (`fargate-<cluster uid>`), so a cluster created again under the same name never adopts the old one's Pods.
 */
export function fargatePodRuntimes(options: Pick<NodeInstanceOptions, 'manager' | 'podLevelResources'>): NonNullable<AgentHostOptions['fargatePods']> {
  const { manager } = options;
  const pods = new PodIndex(manager.informerFor<PodObject>(podType));
  return (pool, scheduling) =>
    new KubernetesRuntime({
      store: manager.store,
      pods,
      instanceUid: `fargate-${pool.uid}`,
      clock: manager.clock,
      podLevelResources: options.podLevelResources,
      scheduling,
      fargate: true,
      version: () => 'Kubernetes Pods',
    });
}
