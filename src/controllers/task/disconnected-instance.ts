import type { ContainerInstance } from '../../api';

/**
 * What becomes of the tasks of an instance whose agent stopped reporting (its heartbeat Lease lapsed,
 * `agentConnected: false`). ECS leaves them alone and waits for the agent; Berth does what Kubernetes'
 * taint-based eviction does for the pods of a NotReady node: after a grace period the tasks are
 * STOPPED, so their services replace them elsewhere within their deployment limits. A host that is
 * merely restarting its agent comes back within the grace and keeps its tasks.
 *
 * The grace counts from the last heartbeat the instance controller recorded (`lastHeartbeatTime`, the
 * last renewal of the Lease before it lapsed), or from the instance's creation when it never reported:
 *   e.g. last renewal 12:00:00, Lease of 40 s, grace 5 m: disconnected from 12:00:40, tasks stopped at 12:05:00;
 *        with a grace of 20 s (shorter than the Lease) the tasks stop as soon as it shows disconnected, 12:00:40.
 */
export const defaultDisconnectedInstanceGraceMs = 5 * 60_000;

export type DisconnectedVerdict = { evict: true; reason: string } | { evict: false; recheckAfterMs?: number };

export function disconnectedInstanceVerdict(instance: ContainerInstance, graceMs: number, nowMs: number): DisconnectedVerdict {
  if (instance.status?.agentConnected !== false) return { evict: false };
  const since = instance.status.lastHeartbeatTime ?? instance.metadata.creationTimestamp;
  const sinceMs = since ? Date.parse(since) : nowMs;
  const evictAtMs = sinceMs + graceMs;
  if (nowMs < evictAtMs) return { evict: false, recheckAfterMs: evictAtMs - nowMs };
  const heard = instance.status.lastHeartbeatTime ? `its agent last reported at ${instance.status.lastHeartbeatTime}` : 'its agent never reported';
  return {
    evict: true,
    reason: `Task stopped because container instance ${instance.metadata.name} is disconnected: ${heard}, more than ${formatGrace(graceMs)} ago`,
  };
}

/** 300000 → 5m0s, 20000 → 20s, 1500 → 1.5s: as Go prints a duration, which the flag takes. */
export function formatGrace(ms: number): string {
  if (ms < 60_000) return `${ms / 1000}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${(ms - minutes * 60_000) / 1000}s`;
}
