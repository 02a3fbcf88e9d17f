// A stand-in for Cluster API in tests: what its MachineDeployment, MachineSet and Machine controllers and
// an infrastructure provider do together, reduced to what Berth relies on. Each MachineDeployment's
// spec.replicas becomes that many Machines, each Machine a kwok Node (annotated with its Machine, as
// Cluster API annotates Nodes, and labelled with the template's node.cluster.x-k8s.io/ labels, which Cluster
// API propagates); when replicas drop, the Machines go in MachineSet order: those marked with
// cluster.x-k8s.io/delete-machine first, then those without a Node, then the newest. A Machine's Node goes
// with it. The Node's size comes from the capacity annotations cluster-autoscaler reads on a MachineDeployment.
import { randomUUID } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { silentLogger } from '../../src/runtime/logger';
import { Manager } from '../../src/runtime/manager';
import { nodes, pods as podType } from '../../src/store/builtin-types';
import { KubeStore } from '../../src/store/kube/kube-store';
import { clusterNamespaceAnnotation, deleteMachineAnnotation, machineAnnotation } from '../../src/store/kube/scale-targets';
import { isStoreError, type KubeObject, type ResourceType } from '../../src/store/object-store';
import { kubectlOk, readEnvFile, testEnv } from '../env/env';

const capi = (kind: string, plural: string): ResourceType => ({
  group: 'cluster.x-k8s.io',
  version: 'v1beta1',
  kind,
  plural,
  namespaced: true,
  statusSubresource: true,
});
export const machineDeployments = capi('MachineDeployment', 'machinedeployments');
export const machines = capi('Machine', 'machines');

const deploymentNameLabel = 'cluster.x-k8s.io/deployment-name';
const nodeLabelPrefix = 'node.cluster.x-k8s.io/';
const capacityCpu = 'capacity.cluster-autoscaler.kubernetes.io/cpu';
const capacityMemory = 'capacity.cluster-autoscaler.kubernetes.io/memory';

export interface MachineDeployment extends KubeObject {
  spec: { replicas?: number; clusterName: string; template: { metadata?: { labels?: Record<string, string> } } };
  status?: { replicas?: number };
}

export interface Machine extends KubeObject {
  status?: { nodeRef?: { name: string } };
}

/** Applies the Cluster API CRDs the environment fetched (test/env/build-kube.sh) and waits until they are served. */
export async function installClusterApiCrds(): Promise<void> {
  const dir = readEnvFile().clusterApiCrds;
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', dir]);
  await kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', 'crd/machinedeployments.cluster.x-k8s.io', 'crd/machines.cluster.x-k8s.io']);
}

/** A MachineDeployment of `replicas` Nodes of the given size, whose Nodes carry `nodeLabels` (each key prefixed node.cluster.x-k8s.io/). */
export function machineDeployment(
  name: string,
  namespace: string,
  replicas: number,
  size: { cpu: string; memory: string },
  nodeLabels: Record<string, string>,
): MachineDeployment {
  const labels = Object.fromEntries(Object.entries(nodeLabels).map(([key, value]) => [`${nodeLabelPrefix}${key}`, value]));
  const infrastructure = { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1', kind: 'KwokMachineTemplate', name };
  return {
    apiVersion: 'cluster.x-k8s.io/v1beta1',
    kind: 'MachineDeployment',
    metadata: { name, namespace, annotations: { [capacityCpu]: size.cpu, [capacityMemory]: size.memory } },
    spec: {
      clusterName: 'kwok',
      replicas,
      selector: { matchLabels: { [deploymentNameLabel]: name } },
      template: {
        metadata: { labels: { [deploymentNameLabel]: name, ...labels } },
        spec: { clusterName: 'kwok', bootstrap: { dataSecretName: 'none' }, infrastructureRef: infrastructure },
      },
    } as MachineDeployment['spec'],
  };
}

export interface MachineController {
  /** Machines deleted so far: whether each had been marked for deletion, its Node, whether that was cordoned, and the Pods still on it. */
  readonly deleted: { machine: string; node?: string; marked: boolean; cordoned?: boolean; podsOnNode: number }[];
  stop(): Promise<void>;
}

export async function startMachineController(
  namespace: string,
  extraNodeLabels: (machine: string) => Record<string, string> = () => ({}),
): Promise<MachineController> {
  const config = new KubeConfig();
  config.loadFromFile(testEnv().kubeconfig);
  const store = new KubeStore(config);
  const manager = new Manager({ store, logger: silentLogger(), metricsServer: false, healthServer: false, leaderElection: false });
  const deployments = manager.informerFor<MachineDeployment>(machineDeployments, namespace);
  const machineCache = manager.informerFor<Machine>(machines, namespace);
  const deleted: MachineController['deleted'] = [];
  // What this controller created or deleted that its cache does not show yet (its expectations).
  const created = new Set<string>();
  const gone = new Set<string>();

  const reconcile = async (deploymentName: string) => {
    const deployment = deployments.get(namespace, deploymentName);
    if (!deployment) return;
    const cached = machineCache.list().filter((m) => m.metadata.labels?.[deploymentNameLabel] === deploymentName);
    for (const m of cached) created.delete(m.metadata.name);
    for (const name of gone) if (!cached.some((m) => m.metadata.name === name)) gone.delete(name);
    if (created.size > 0) return; // the next Machine event brings the cache up to date
    const live = cached.filter((m) => !m.metadata.deletionTimestamp && !gone.has(m.metadata.name));
    const replicas = deployment.spec.replicas ?? 1;
    // MachineSet deletion order: marked, then without a Node, then the newest.
    const rank = (m: Machine) => (m.metadata.annotations?.[deleteMachineAnnotation] !== undefined ? 0 : m.status?.nodeRef ? 2 : 1);
    const ordered = [...live].sort(
      (a, b) =>
        rank(a) - rank(b) ||
        (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') ||
        b.metadata.name.localeCompare(a.metadata.name),
    );
    for (const machine of ordered.slice(0, Math.max(0, live.length - replicas))) {
      const node = machine.status?.nodeRef?.name;
      let podsOnNode = 0;
      let cordoned: boolean | undefined;
      if (node) {
        const pods = await store.list<KubeObject & { status?: { phase?: string } }>(podType, undefined, { fieldSelector: `spec.nodeName=${node}` });
        podsOnNode = pods.items.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length;
        cordoned = (await store.get<KubeObject & { spec?: { unschedulable?: boolean } }>(nodes, undefined, node))?.spec?.unschedulable === true;
        await store.delete(nodes, undefined, node).catch(ignoreNotFound);
      }
      gone.add(machine.metadata.name);
      await store.delete(machines, namespace, machine.metadata.name).catch(ignoreNotFound);
      deleted.push({ machine: machine.metadata.name, ...(node && { node, cordoned }), marked: rank(machine) === 0, podsOnNode });
    }
    for (let i = live.length; i < replicas; i++) await addMachine(deployment);
    if (deployment.status?.replicas !== replicas) await store.patch(machineDeployments, namespace, deploymentName, { status: { replicas } }, 'status');
  };

  const addMachine = async (deployment: MachineDeployment) => {
    const name = `${deployment.metadata.name}-${randomUUID().slice(0, 6)}`;
    created.add(name);
    const template = deployment.spec.template.metadata?.labels ?? {};
    const machine = await store.create<Machine>(machines, {
      apiVersion: 'cluster.x-k8s.io/v1beta1',
      kind: 'Machine',
      metadata: {
        name,
        namespace,
        labels: template,
        ownerReferences: [{ apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'MachineDeployment', name: deployment.metadata.name, uid: deployment.metadata.uid! }],
      },
      spec: {
        clusterName: 'kwok',
        bootstrap: { dataSecretName: 'none' },
        infrastructureRef: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1', kind: 'KwokMachine', name },
      },
    } as Machine);
    const cpu = deployment.metadata.annotations?.[capacityCpu] ?? '4';
    const memory = deployment.metadata.annotations?.[capacityMemory] ?? '8Gi';
    await store.create(nodes, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        annotations: { 'kwok.x-k8s.io/node': 'fake', [machineAnnotation]: name, [clusterNamespaceAnnotation]: namespace },
        labels: {
          type: 'kwok',
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          ...Object.fromEntries(Object.entries(template).filter(([key]) => key.startsWith(nodeLabelPrefix))),
          ...extraNodeLabels(name),
        },
      },
      spec: { taints: [{ key: 'kwok.x-k8s.io/node', value: 'fake', effect: 'NoSchedule' }] },
      status: { capacity: { cpu, memory, pods: '110' }, allocatable: { cpu, memory, pods: '110' } },
    } as KubeObject);
    await store.patch(machines, namespace, machine.metadata.name, { status: { nodeRef: { apiVersion: 'v1', kind: 'Node', name } } }, 'status');
  };

  manager
    .addController({ name: 'test-machinedeployments', reconcile: (key) => reconcile(key.name) })
    .watch(deployments)
    .watch(machineCache, (m) => {
      const owner = m.metadata.labels?.[deploymentNameLabel];
      return owner ? { namespace, name: owner } : undefined;
    });
  const running = manager.start();
  return {
    deleted,
    stop: async () => {
      await manager.stop();
      await running;
    },
  };
}

function ignoreNotFound(error: unknown): undefined {
  if (!isStoreError(error, 'NotFound')) throw error;
  return undefined;
}
