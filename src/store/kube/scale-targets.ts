import { nodes } from '../builtin-types';
import { StoreError, type KubeObject, type ObjectStore, type ResourceType } from '../object-store';
import { objectPath } from './kube-store';
import type { RestClient } from './rest-client';

interface TargetRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
}

interface ApiResourceList {
  resources: { name: string; kind: string; namespaced: boolean }[];
}

interface ApiGroup {
  preferredVersion?: { version: string };
}

interface Scale {
  spec?: { replicas?: number };
}

/** What marks a Machine for deletion, as cluster-autoscaler marks it (the value is when). */
export const deleteMachineAnnotation = 'cluster.x-k8s.io/delete-machine';
/** On a Node, the Machine behind it, and that Machine's namespace (set by Cluster API's Machine controller). */
export const machineAnnotation = 'cluster.x-k8s.io/machine';
export const clusterNamespaceAnnotation = 'cluster.x-k8s.io/cluster-namespace';

/**
 * Scale targets on the API server: the resource of a target's apiVersion and kind is found by discovery
 * (as the HPA's RESTMapper finds it) and must serve /scale; reads go straight to the server, writes
 * through `store` (the manager's, which refuses them once this replica is no longer the leader).
 */
export class KubeScaleTargets {
  private readonly resources = new Map<string, Promise<ResourceType>>();
  private machine: Promise<ResourceType | undefined> | undefined;

  constructor(
    private readonly rest: RestClient,
    private readonly store: ObjectStore,
  ) {}

  async replicas(target: TargetRef): Promise<number> {
    const type = await this.resourceOf(target.apiVersion, target.kind);
    const scale = await this.rest.request<Scale>('GET', `${objectPath(type, target.namespace, target.name)}/scale`);
    return scale.spec?.replicas ?? 0;
  }

  async setReplicas(target: TargetRef, replicas: number): Promise<void> {
    const type = await this.resourceOf(target.apiVersion, target.kind);
    await this.store.patch(type, target.namespace, target.name, { spec: { replicas } }, 'scale');
  }

  async markMachineForDeletion(nodeName: string): Promise<boolean> {
    const node = await this.store.get(nodes, undefined, nodeName);
    const machine = node?.metadata.annotations?.[machineAnnotation];
    const namespace = node?.metadata.annotations?.[clusterNamespaceAnnotation];
    if (!machine || !namespace) return false;
    const type = await this.machineType();
    if (!type) return false;
    const current = await this.store.get<KubeObject>(type, namespace, machine);
    if (!current) return false;
    if (current.metadata.annotations?.[deleteMachineAnnotation] === undefined) {
      await this.store.patch(type, namespace, machine, { metadata: { annotations: { [deleteMachineAnnotation]: new Date().toISOString() } } });
    }
    return true;
  }

  /** Cluster API's Machine at the group's preferred version, found once (undefined while the group is not served). */
  private async machineType(): Promise<ResourceType | undefined> {
    this.machine ??= this.rest.request<ApiGroup>('GET', '/apis/cluster.x-k8s.io').then((group) => {
      const version = group.preferredVersion?.version;
      return version ? this.resourceOf(`cluster.x-k8s.io/${version}`, 'Machine') : undefined;
    });
    const found = this.machine;
    // Not served yet (Cluster API installed later): asked again next time.
    const type = await found.catch(() => undefined);
    if (!type && this.machine === found) this.machine = undefined;
    return type;
  }

  /** The resource serving `kind` in `apiVersion`, which must have a /scale subresource for scaling (checked when it is scaled). */
  private resourceOf(apiVersion: string, kind: string): Promise<ResourceType> {
    const key = `${apiVersion}/${kind}`;
    let found = this.resources.get(key);
    if (!found) {
      found = this.discover(apiVersion, kind);
      // A failed discovery (the CRD not installed yet) is tried again next time.
      found.catch(() => this.resources.delete(key));
      this.resources.set(key, found);
    }
    return found;
  }

  private async discover(apiVersion: string, kind: string): Promise<ResourceType> {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    const list = await this.rest.request<ApiResourceList>('GET', group === '' ? `/api/${version}` : `/apis/${group}/${version}`);
    const resource = list.resources.find((r) => r.kind === kind && !r.name.includes('/'));
    if (!resource) throw new StoreError('NotFound', `the API server serves no kind ${kind} in ${apiVersion}`);
    if (kind !== 'Machine' && !list.resources.some((r) => r.name === `${resource.name}/scale`)) {
      throw new StoreError('Invalid', `${kind} (${resource.name}.${group}) has no /scale subresource: it cannot be a node group's scale target`);
    }
    return { group, version, kind, plural: resource.name, namespaced: resource.namespaced, statusSubresource: false };
  }
}
