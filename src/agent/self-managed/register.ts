import { clusters, containerInstances, type Cluster, type ContainerInstance, type ContainerInstanceSpec } from '../../api';
import { isStoreError, type ObjectStore } from '../../store/object-store';
import { RegistrationError } from './registration';

/**
 * Registers a self-managed host (ECS RegisterContainerInstance): the Cluster must exist and the node
 * group must be selfManaged, since Berth launches and removes the instances of managed groups itself.
 * Idempotent across restarts: an instance of the same name is updated in place, so it keeps its uid —
 * the identity its containers are labelled with, which is how a restarted agent re-adopts them — and
 * keeps spec.status: a host drained by hand stays DRAINING when its agent restarts.
 */
export async function registerInstance(
  store: ObjectStore,
  target: { namespace: string; name: string },
  spec: Omit<ContainerInstanceSpec, 'status'>,
): Promise<ContainerInstance> {
  const { namespace, name } = target;
  const cluster = await store.get<Cluster>(clusters, namespace, spec.cluster);
  if (!cluster) throw new RegistrationError(`cluster "${spec.cluster}" not found in namespace "${namespace}"`);
  const group = cluster.spec.nodeGroups?.find((g) => g.name === spec.nodeGroup);
  if (!group) throw new RegistrationError(`cluster "${spec.cluster}" has no node group "${spec.nodeGroup}"`);
  if (group.type !== 'selfManaged') {
    throw new RegistrationError(
      `node group "${spec.nodeGroup}" of cluster "${spec.cluster}" is ${group.type}: berth agent registers hosts of selfManaged node groups only`,
    );
  }

  for (;;) {
    const existing = await store.get<ContainerInstance>(containerInstances, namespace, name);
    try {
      if (!existing) {
        return await store.create<ContainerInstance>(containerInstances, {
          apiVersion: 'berth.dev/v1alpha1',
          kind: 'ContainerInstance',
          metadata: { name, namespace },
          spec: { ...spec, status: 'ACTIVE' },
        });
      }
      refuseForeign(existing, spec);
      return await store.update<ContainerInstance>(containerInstances, { ...existing, spec: { ...spec, status: existing.spec.status } });
    } catch (error) {
      // Someone wrote it between our read and write (a second agent start, a drain): read it again.
      if (!isStoreError(error, 'Conflict') && !isStoreError(error, 'AlreadyExists')) throw error;
    }
  }
}

/** An instance of that name that is not this host's to take over: launched by a cluster, of another cluster or group, or being removed. */
function refuseForeign(existing: ContainerInstance, spec: Omit<ContainerInstanceSpec, 'status'>): void {
  const name = existing.metadata.name;
  if (existing.metadata.ownerReferences?.some((ref) => ref.controller && ref.kind === 'Cluster')) {
    throw new RegistrationError(`container instance "${name}" was launched by cluster "${existing.spec.cluster}" (a managed instance): choose another --name`);
  }
  if (existing.spec.cluster !== spec.cluster || existing.spec.nodeGroup !== spec.nodeGroup) {
    throw new RegistrationError(
      `container instance "${name}" is registered to cluster "${existing.spec.cluster}", node group "${existing.spec.nodeGroup ?? ''}": deregister it (kubectl delete containerinstance ${name}) or choose another --name`,
    );
  }
  if (existing.metadata.deletionTimestamp)
    throw new RegistrationError(`container instance "${name}" is being deregistered: start the agent again once it is gone`);
}
