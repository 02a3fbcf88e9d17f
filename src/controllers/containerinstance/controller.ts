import { containerInstanceLeaseLabel, containerInstances, instanceLeaseName, type ContainerInstance } from '../../api';
import type { ReconcileResult } from '../../runtime/controller';
import type { EventRecorder } from '../../runtime/events';
import type { SharedInformer } from '../../runtime/informer';
import type { Lease } from '../../runtime/leader-election';
import type { Manager } from '../../runtime/manager';
import type { ObjectKey } from '../../runtime/object-key';
import { semanticallyEqual } from '../../runtime/semantic-equal';
import { leases } from '../../store/builtin-types';
import { isStoreError, type ObjectStore } from '../../store/object-store';
import { decideInstanceStatus, leaseExpiry, leaseFresh, type ControlPlaneStatus } from './instance-status';

export interface InstanceControllerDeps {
  store: ObjectStore;
  events: EventRecorder;
  instances: SharedInformer<ContainerInstance>;
  leases: SharedInformer<Lease>;
  now?: () => number;
}

/**
 * The node lifecycle controller of Berth: keeps each ContainerInstance's registration state and
 * agent connection in status, from its spec and its heartbeat Lease. It writes only when one of its
 * fields changes (a merge patch of those fields, so it never contends with the agent's own), and
 * looks again when a fresh Lease would lapse.
 */
export class InstanceReconciler {
  private readonly now: () => number;

  constructor(private readonly deps: InstanceControllerDeps) {
    this.now = deps.now ?? (() => Date.now());
  }

  async reconcile(key: ObjectKey): Promise<ReconcileResult | void> {
    const instance = this.deps.instances.get(key.namespace, key.name);
    if (!instance) return;
    const lease = this.deps.leases.get(key.namespace, instanceLeaseName(key.name));
    const decision = decideInstanceStatus(instance, lease, this.now());
    const current = instance.status ?? {};
    const fields = Object.keys(decision.status) as (keyof ControlPlaneStatus)[];
    if (!fields.every((field) => semanticallyEqual(decision.status[field], current[field]))) {
      try {
        await this.deps.store.patch(containerInstances, key.namespace, key.name, { status: decision.status }, 'status');
      } catch (error) {
        if (isStoreError(error, 'NotFound')) return;
        throw error;
      }
      for (const event of decision.events) await this.deps.events.event(instance, event.kind, event.reason, event.message);
    }
    return decision.recheckAfterMs !== undefined ? { requeueAfterMs: decision.recheckAfterMs } : undefined;
  }
}

export function addContainerInstanceController(manager: Manager, namespace?: string): void {
  const deps: InstanceControllerDeps = {
    store: manager.store,
    events: manager.events,
    instances: manager.informerFor<ContainerInstance>(containerInstances, namespace),
    leases: manager.informerFor<Lease>(leases, namespace, { labelSelector: containerInstanceLeaseLabel }),
  };
  const reconciler = new InstanceReconciler(deps);
  manager
    .addController({ name: 'containerinstance', workers: 2, reconcile: (key) => reconciler.reconcile(key) })
    .watch(deps.instances)
    .watch(
      deps.leases,
      (lease) => {
        // The owner, not the label: a label value is cut to 63 characters, an instance's name is not.
        const instance = lease.metadata.ownerReferences?.find((o) => o.controller && o.kind === 'ContainerInstance')?.name;
        return instance ? { namespace: lease.metadata.namespace, name: instance } : undefined;
      },
      // A renewal of a fresh Lease only moves its lapse later (the check is already scheduled): nothing to do.
      // One after a lapse reconnects; one that moves the lapse earlier (a shorter duration) needs a new check.
      { update: (old, next) => !leaseFresh(old, Date.now()) || (leaseExpiry(next) ?? 0) < (leaseExpiry(old) ?? 0) },
    );
}
