import { transition } from 'xstate';
import type { ContainerInstance, ContainerInstanceStatus } from '../../api';
import type { Lease } from '../../runtime/leader-election';
import { instanceMachine, type AgentState, type RecordInstanceEvent, type Registration } from './instance-machine';

/** The fields of ContainerInstance status the control plane owns; the agent writes the rest (what is left, what runs). */
export type ControlPlaneStatus = Pick<ContainerInstanceStatus, 'status' | 'agentConnected' | 'lastHeartbeatTime' | 'observedGeneration'>;

export interface InstanceDecision {
  status: ControlPlaneStatus;
  events: RecordInstanceEvent[];
  /** When to look again without an event: the moment the Lease lapses unless renewed. */
  recheckAfterMs?: number;
}

/**
 * The instance's registration and connection, from its spec, whether it is being deleted, and its
 * heartbeat Lease. A Lease is fresh while renewTime + leaseDurationSeconds lies ahead:
 *   e.g. renewed 12:00:00.000 for 40 s, now 12:00:25: fresh, look again in 15 s;
 *        now 12:00:41: lapsed, agentConnected false.
 * lastHeartbeatTime records the renewal seen when the connection last changed, so a disconnected
 * instance says since when it is silent; the live heartbeat is the Lease (no status write per renewal).
 */
export function decideInstanceStatus(instance: ContainerInstance, lease: Lease | undefined, nowMs: number): InstanceDecision {
  const expiresMs = leaseExpiry(lease);
  return decide(instance, {
    fresh: leaseFresh(lease, nowMs),
    ...(lease?.spec?.renewTime && { heartbeatMs: Date.parse(lease.spec.renewTime) }),
    ...(leaseFresh(lease, nowMs) && expiresMs !== undefined && { recheckAfterMs: expiresMs - nowMs }),
  });
}

/**
 * The same for an instance that mirrors a Node: connected while the Node is Ready (its kubelet reports, and
 * the node lifecycle controller has not marked it otherwise), the Ready condition's heartbeat as the last
 * heartbeat. A Node's change is an event of its own, so nothing needs a recheck.
 */
export function decideNodeInstanceStatus(instance: ContainerInstance, ready: { status: boolean; heartbeatTime?: string } | undefined): InstanceDecision {
  return decide(instance, { fresh: ready?.status ?? false, ...(ready?.heartbeatTime && { heartbeatMs: Date.parse(ready.heartbeatTime) }) });
}

interface Heartbeat {
  fresh: boolean;
  heartbeatMs?: number;
  recheckAfterMs?: number;
}

function decide(instance: ContainerInstance, heartbeat: Heartbeat): InstanceDecision {
  const stored = instance.status ?? {};
  const registration: Registration = stored.status ?? 'ACTIVE';
  const agent: AgentState = stored.agentConnected ? 'CONNECTED' : 'DISCONNECTED';
  const before = instanceMachine.resolveState({ value: { registration, agent }, context: {} });
  const renewedMs = heartbeat.heartbeatMs;
  const fresh = heartbeat.fresh;
  const [after, actions] = transition(instanceMachine, before, {
    type: 'OBSERVED',
    draining: instance.spec.status === 'DRAINING',
    deregistering: instance.metadata.deletionTimestamp !== undefined,
    leaseFresh: fresh,
  });
  const value = after.value;
  const connected = value.agent === 'CONNECTED';
  const connectionChanged = connected !== Boolean(stored.agentConnected);
  return {
    status: {
      status: value.registration,
      agentConnected: connected,
      ...(connectionChanged && renewedMs !== undefined
        ? { lastHeartbeatTime: seconds(renewedMs) }
        : stored.lastHeartbeatTime
          ? { lastHeartbeatTime: stored.lastHeartbeatTime }
          : {}),
      observedGeneration: instance.metadata.generation,
    },
    events: actions.flatMap((action) => (action.type === 'recordEvent' ? [action.params] : [])),
    ...(heartbeat.recheckAfterMs !== undefined && { recheckAfterMs: heartbeat.recheckAfterMs }),
  };
}

/** When the Lease lapses unless renewed: renewTime + leaseDurationSeconds. */
export function leaseExpiry(lease: Lease | undefined): number | undefined {
  if (!lease?.spec?.renewTime) return undefined;
  return Date.parse(lease.spec.renewTime) + (lease.spec.leaseDurationSeconds ?? 0) * 1000;
}

export function leaseFresh(lease: Lease | undefined, nowMs: number): boolean {
  const expiresMs = leaseExpiry(lease);
  return expiresMs !== undefined && expiresMs > nowMs;
}

function seconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
