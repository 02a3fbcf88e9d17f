/**
 * Pure mirroring of Kubernetes Nodes as ContainerInstances, for node groups of Nodes (`nodes.selector`):
 *
 *   registered CPU and memory ← the Node's allocatable (1 vCPU = 1,024 units; bytes → MiB, rounded down);
 *   attributes ← the well-known labels (topology.kubernetes.io/zone → ecs.availability-zone,
 *     node.kubernetes.io/instance-type → ecs.instance-type, kubernetes.io/arch → ecs.cpu-architecture,
 *     kubernetes.io/os → ecs.os-type), and every other label as a custom attribute of the same name;
 *   reservedByOthers ← what the Node's Pods that are not this cluster's tasks request, so placement counts
 *     a DaemonSet or another team's Deployment as taken, as kube-scheduler does;
 *   DRAINING ⇔ the Node is cordoned, both ways (see cordonSync).
 */
import type { Cluster, ContainerInstance, InstanceResources, NodeGroup } from '../../api';
import { availabilityZoneAttribute, cpuArchitectureAttribute, hostPathsAttribute, instanceTypeAttribute, osTypeAttribute } from '../../ecs/attributes';
import { boundedName } from '../../store/object-names';
import { nodeCordonedAnnotation, type NodeObject } from '../../ecs/pods';
import { cpuUnits, mebibytes } from '../../ecs/quantity';

/** The Pod fields mirroring reads. */
export interface PodFacts {
  namespace: string;
  labels?: Record<string, string>;
  phase?: string;
  containers: { requests?: Record<string, string>; hostPorts: { port: number; protocol: 'tcp' | 'udp' }[] }[];
  initContainers: { requests?: Record<string, string>; sidecar: boolean }[];
  /** Pod-level requests (spec.resources), when the Pod sets them. */
  podRequests?: Record<string, string>;
}

const wellKnown: Record<string, string> = {
  'topology.kubernetes.io/zone': availabilityZoneAttribute,
  'node.kubernetes.io/instance-type': instanceTypeAttribute,
  'kubernetes.io/arch': cpuArchitectureAttribute,
  'kubernetes.io/os': osTypeAttribute,
};

/** ECS's names for the architectures: Kubernetes' amd64 is ECS's x86_64. */
const architectures: Record<string, string> = { amd64: 'x86_64', arm64: 'arm64' };

/** The mirrored instance of `node` in `cluster`: `<cluster>-<node>`, hash-shortened when too long. */
export function nodeInstanceName(cluster: string, node: string): string {
  return boundedName(`${cluster}-${node}`);
}

export function nodeAttributes(node: NodeObject): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(node.metadata.labels ?? {})) {
    if (wellKnown[key]) continue;
    // The ecs. prefix is ECS's own (as a custom attribute it is refused); a Node label never takes it.
    if (!key.startsWith('ecs.')) attributes[key] = value;
  }
  for (const [label, attribute] of Object.entries(wellKnown)) {
    const value = node.metadata.labels?.[label];
    if (value !== undefined) attributes[attribute] = label === 'kubernetes.io/arch' ? (architectures[value] ?? value) : value;
  }
  return attributes;
}

export function nodeResources(node: NodeObject): InstanceResources {
  const allocatable = node.status?.allocatable ?? {};
  return { cpu: cpuUnits(allocatable.cpu), memory: mebibytes(allocatable.memory) };
}

/** The instance as it should be, given its Node and group; `status` is the instance's ACTIVE / DRAINING, decided by cordonSync. */
export function mirroredInstance(cluster: Cluster, group: NodeGroup, node: NodeObject, status: 'ACTIVE' | 'DRAINING'): ContainerInstance {
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'ContainerInstance',
    metadata: {
      name: nodeInstanceName(cluster.metadata.name, node.metadata.name),
      namespace: cluster.metadata.namespace,
      // Not the controller: the cluster controller manages only the instances it launched. The owner reference
      // still lets the garbage collector remove the mirror with its Cluster.
      ownerReferences: [{ apiVersion: cluster.apiVersion, kind: cluster.kind, name: cluster.metadata.name, uid: cluster.metadata.uid!, controller: false }],
    },
    spec: {
      cluster: cluster.metadata.name,
      nodeGroup: group.name,
      nodeName: node.metadata.name,
      attributes: { ...nodeAttributes(node), ...(group.nodes?.allowHostPaths && { [hostPathsAttribute]: 'allowed' }) },
      registeredResources: nodeResources(node),
      status,
    },
  };
}

/** The cluster's Nodes by group: each Node matched by its first group in spec order (a Node is one instance of a cluster). */
export function selectNodes(
  groups: readonly NodeGroup[],
  nodes: readonly NodeObject[],
  matches: (group: NodeGroup, node: NodeObject) => boolean,
): Map<string, NodeGroup> {
  const chosen = new Map<string, NodeGroup>();
  for (const group of groups) {
    if (!group.nodes) continue;
    for (const node of nodes) if (!chosen.has(node.metadata.name) && matches(group, node)) chosen.set(node.metadata.name, group);
  }
  return chosen;
}

export interface CordonDecision {
  /** The instance's spec.status from now on. */
  instanceStatus: 'ACTIVE' | 'DRAINING';
  /** Set the Node's spec.unschedulable to this (a drain or undrain through Berth), when it differs. */
  cordonNode?: boolean;
  /** The annotation's value to record. */
  seen: 'true' | 'false';
}

/**
 * Two-way sync of draining and cordoning. The side that changed since the last sync wins:
 *   kubectl cordon (Node true, seen false)                 → the instance turns DRAINING;
 *   berth drain (instance DRAINING, Node false, seen false) → the Node is cordoned;
 *   kubectl uncordon (Node false, seen true)               → ACTIVE again; berth undrain likewise uncordons.
 * A new mirror takes the Node's state.
 */
export function cordonSync(node: NodeObject, instance: ContainerInstance | undefined): CordonDecision {
  const cordoned = node.spec?.unschedulable === true;
  const seen = instance?.metadata.annotations?.[nodeCordonedAnnotation];
  if (!instance || seen === undefined || seen !== String(cordoned)) {
    return { instanceStatus: cordoned ? 'DRAINING' : 'ACTIVE', seen: cordoned ? 'true' : 'false' };
  }
  const draining = instance.spec.status === 'DRAINING';
  if (draining === cordoned) return { instanceStatus: instance.spec.status, seen: cordoned ? 'true' : 'false' };
  return { instanceStatus: instance.spec.status, cordonNode: draining, seen: draining ? 'true' : 'false' };
}

/**
 * What the Node's Pods that are not this cluster's tasks request: the larger of their containers' requests
 * summed and their largest init container's (as kube-scheduler counts a Pod; native sidecars add to both),
 * or the Pod-level requests where set; plus their host ports. Succeeded and Failed Pods hold nothing.
 */
export function reservedByOthers(pods: readonly PodFacts[], isOwnTask: (pod: PodFacts) => boolean): Required<InstanceResources> {
  let cpu = 0;
  let memory = 0;
  const tcp = new Set<number>();
  const udp = new Set<number>();
  for (const pod of pods) {
    if (pod.phase === 'Succeeded' || pod.phase === 'Failed' || isOwnTask(pod)) continue;
    const requests = podRequests(pod);
    cpu += requests.cpu;
    memory += requests.memory;
    for (const c of pod.containers) for (const { port, protocol } of c.hostPorts) (protocol === 'udp' ? udp : tcp).add(port);
  }
  return { cpu, memory, ports: [...tcp].sort((a, b) => a - b), udpPorts: [...udp].sort((a, b) => a - b) };
}

function podRequests(pod: PodFacts): { cpu: number; memory: number } {
  if (pod.podRequests) return { cpu: cpuUnits(pod.podRequests.cpu), memory: mebibytes(pod.podRequests.memory) };
  const sum = (list: { requests?: Record<string, string> }[]) =>
    list.reduce((total, c) => ({ cpu: total.cpu + cpuUnits(c.requests?.cpu), memory: total.memory + mebibytes(c.requests?.memory) }), { cpu: 0, memory: 0 });
  const sidecars = sum(pod.initContainers.filter((c) => c.sidecar));
  const regular = sum(pod.containers);
  let initCpu = 0;
  let initMemory = 0;
  for (const c of pod.initContainers.filter((i) => !i.sidecar)) {
    initCpu = Math.max(initCpu, cpuUnits(c.requests?.cpu) + sidecars.cpu);
    initMemory = Math.max(initMemory, mebibytes(c.requests?.memory) + sidecars.memory);
  }
  return { cpu: Math.max(regular.cpu + sidecars.cpu, initCpu), memory: Math.max(regular.memory + sidecars.memory, initMemory) };
}
