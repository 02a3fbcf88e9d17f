import { containerInstanceLeaseLabel, containerInstances, instanceLeaseName, type ContainerInstance } from '../../api';
import type { ReconcileResult } from '../../runtime/controller';
import type { EventRecorder } from '../../runtime/events';
import type { SharedInformer } from '../../runtime/informer';
import type { Lease } from '../../runtime/leader-election';
import type { Manager } from '../../runtime/manager';
import type { ObjectKey } from '../../runtime/object-key';
import { semanticallyEqual } from '../../runtime/semantic-equal';
import { leases, nodes as nodeType } from '../../store/builtin-types';
import { InstanceIndex } from '../../ecs/indexes';
import type { NodeObject } from '../../ecs/pods';
import { isStoreError, type ObjectStore } from '../../store/object-store';
import { instanceMetrics, type InstanceMetrics } from './metrics';
import { decideInstanceStatus, decideNodeInstanceStatus, leaseExpiry, leaseFresh, type ControlPlaneStatus } from './instance-status';

export interface InstanceControllerDeps {
  store: ObjectStore;
  events: EventRecorder;
  instances: SharedInformer<ContainerInstance>;
  leases: SharedInformer<Lease>;
  /** The Nodes, where node groups of Nodes are served: a Node's instance is connected while the Node is Ready. */
  nodes?: SharedInformer<NodeObject>;
  metrics?: InstanceMetrics;
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
    if (!instance) {
      this.deps.metrics?.forget(key.namespace ?? '', key.name);
      return;
    }
    this.deps.metrics?.observe(instance);
    const decision = instance.spec.nodeName !== undefined ? this.nodeDecision(instance, instance.spec.nodeName) : this.leaseDecision(instance);
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

  private leaseDecision(instance: ContainerInstance) {
    const lease = this.deps.leases.get(instance.metadata.namespace, instanceLeaseName(instance.metadata.name));
    return decideInstanceStatus(instance, lease, this.now());
  }

  /** Without a Node informer (the embedded store has no Nodes) a Node's instance is never connected. */
  private nodeDecision(instance: ContainerInstance, nodeName: string) {
    const ready = this.deps.nodes?.get(undefined, nodeName)?.status?.conditions?.find((c) => c.type === 'Ready');
    return decideNodeInstanceStatus(
      instance,
      ready && { status: ready.status === 'True', ...(ready.lastHeartbeatTime && { heartbeatTime: String(ready.lastHeartbeatTime) }) },
    );
  }
}

/** `withNodes`: node groups of Nodes are served, so Nodes are watched for their readiness. */
export function addContainerInstanceController(manager: Manager, namespace?: string, withNodes = false): void {
  const deps: InstanceControllerDeps = {
    store: manager.store,
    events: manager.events,
    instances: manager.informerFor<ContainerInstance>(containerInstances, namespace),
    leases: manager.informerFor<Lease>(leases, namespace, { labelSelector: containerInstanceLeaseLabel }),
    ...(withNodes && { nodes: manager.informerFor<NodeObject>(nodeType) }),
    metrics: instanceMetrics(manager.registry),
  };
  const reconciler = new InstanceReconciler(deps);
  const controller = manager
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
  if (deps.nodes) {
    const byNode = new InstanceIndex(deps.instances);
    const ready = (node: NodeObject) => node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
    controller.watch(
      deps.nodes,
      (node) => byNode.ofNode(node.metadata.name).map((i) => ({ namespace: i.metadata.namespace, name: i.metadata.name })),
      // Only readiness matters here, not the heartbeat timestamps.
      { update: (old, next) => ready(old) !== ready(next) },
    );
  }
}
