import { containerInstances, type ContainerInstance } from '../api';
import { drainReasonAnnotation } from '../controllers/cluster/node-group-plan';
import { isStoreError, type ObjectStore } from '../store/object-store';
import { connect, type Lines } from './connection';

export type InstanceStatusChange = 'drain' | 'undrain';

export interface DrainFlags {
  change: InstanceStatusChange;
  /** The instance's name (from `instance/NAME`). */
  name: string;
  namespace?: string;
  kubeconfig?: string;
}

/** What a change did, worded as kubectl cordon words it (`node/x cordoned`, `node/x already uncordoned`). */
export type ChangeOutcome = { found: false } | { found: true; changed: boolean };

/**
 * Drains an instance by hand (ECS UpdateContainerInstancesState DRAINING) or makes it ACTIVE again:
 * spec.status is what the scheduler and the service scheduler already read (no new tasks land; service
 * tasks move elsewhere within their deployment limits; standalone tasks finish).
 *
 * The cluster controller marks the managed instances it drains for scale-in with an annotation, and
 * reactivates only those: a drain by hand removes the mark, so the instance stays DRAINING until
 * undrained by hand, whatever the node group's size does. One merge patch, so it never conflicts with
 * the agent's or the controllers' writes.
 */
export async function changeInstanceStatus(store: ObjectStore, namespace: string, name: string, change: InstanceStatusChange): Promise<ChangeOutcome> {
  const instance = await store.get<ContainerInstance>(containerInstances, namespace, name);
  if (!instance) return { found: false };
  const status = change === 'drain' ? 'DRAINING' : 'ACTIVE';
  const marked = instance.metadata.annotations?.[drainReasonAnnotation] !== undefined;
  if (instance.spec.status === status && !marked) return { found: true, changed: false };
  try {
    await store.patch(containerInstances, namespace, name, { metadata: { annotations: { [drainReasonAnnotation]: null } }, spec: { status } });
  } catch (error) {
    if (isStoreError(error, 'NotFound')) return { found: false };
    throw error;
  }
  return { found: true, changed: true };
}

/** `berth drain|undrain instance/NAME`: kubectl's output and exit codes (1 with kubectl's NotFound line). */
export async function runDrain(flags: DrainFlags, output: Lines): Promise<number> {
  const { store, namespace } = connect(flags);
  const outcome = await changeInstanceStatus(store, namespace, flags.name, flags.change);
  if (!outcome.found) {
    output.err(`Error from server (NotFound): containerinstances.berth.dev "${flags.name}" not found`);
    return 1;
  }
  const done = flags.change === 'drain' ? 'drained' : 'undrained';
  output.out(`containerinstance.berth.dev/${flags.name} ${outcome.changed ? '' : 'already '}${done}`);
  return 0;
}
