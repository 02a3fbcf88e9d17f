/**
 * A task's containers as its Pod shows them, in the terms of the task lifecycle (ContainerObservation):
 *
 *   no status yet, or waiting (ContainerCreating, PodInitializing)   → PENDING
 *   waiting in ImagePullBackOff (the kubelet gave up a pull, and backs off) → STOPPED, never started:
 *     "CannotPullContainerError: …", which fails the launch as ECS does
 *   waiting in another error (CreateContainerConfigError, …)          → STOPPED, never started, with it
 *   running                                                           → RUNNING (a native sidecar that has
 *     restarted is STOPPED with its last exit: ECS never restarts a container, so its exit counts)
 *   terminated                                                        → STOPPED, with exit code and reason
 *   a Pod the kubelet refused or evicted (phase Failed, no container ran: OutOfcpu, NodeAffinity, …) → every
 *     container STOPPED, never started, with the kubelet's reason: the task stops and its service places a
 *     new one
 *
 * Health (only for containers with a healthCheck, read from readiness): ready → HEALTHY; not ready after
 * having been ready, or once the start window (startPeriod + interval × retries) has passed → UNHEALTHY;
 * otherwise UNKNOWN.
 *   e.g. interval 5, retries 3, startPeriod 10: started 12:00:00, never ready → UNHEALTHY from 12:00:25.
 */
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { ContainerDefinition, TaskDefinitionSpec } from '../../../api';
import type { ContainerObservation, HealthState, NetworkBinding } from '../../../ecs/task-lifecycle/observation';
import { podName } from './pod-spec';

/** Waiting reasons of a container that is on its way: everything else is a failure to start. */
const startingReasons = new Set(['ContainerCreating', 'PodInitializing']);
const pullReasons = new Set(['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName']);

export interface PodObservationInput {
  /** The Pod as the store holds it (timestamps as strings; client-node's types say Date). */
  pod: Pick<V1Pod, 'spec' | 'status'> & { metadata?: { uid?: string } };
  spec: TaskDefinitionSpec;
  nowMs: number;
  /** Containers seen ready before (kept by the runtime): not ready again means UNHEALTHY at once. */
  everReady?: ReadonlySet<string>;
}

export function observePod({ pod, spec, nowMs, everReady = new Set() }: PodObservationInput): ContainerObservation[] {
  const statuses = new Map<string, V1ContainerStatus>();
  for (const status of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) statuses.set(status.name, status);
  const refused = pod.status?.phase === 'Failed' && statuses.size === 0;
  return spec.containerDefinitions.map((definition) => {
    const base = { name: definition.name, ...(pod.metadata?.uid && { runtimeId: pod.metadata.uid }) };
    if (refused) {
      const reason = [pod.status?.reason, pod.status?.message].filter(Boolean).join(': ') || 'the kubelet refused the Pod';
      return { ...base, lastStatus: 'STOPPED', reason, healthStatus: 'UNKNOWN', networkBindings: [] };
    }
    const status = statuses.get(podName(definition.name));
    return { ...base, ...containerState(status, definition, nowMs, everReady), networkBindings: bindings(pod, spec, definition) };
  });
}

type State = Pick<ContainerObservation, 'lastStatus' | 'exitCode' | 'reason' | 'healthStatus' | 'startedAt' | 'finishedAt'>;

function containerState(status: V1ContainerStatus | undefined, definition: ContainerDefinition, nowMs: number, everReady: ReadonlySet<string>): State {
  const state = status?.state;
  if (state?.terminated) {
    const t = state.terminated;
    return {
      lastStatus: 'STOPPED',
      exitCode: t.exitCode,
      ...(t.reason && t.reason !== 'Completed' && { reason: t.message ? `${t.reason}: ${t.message}` : t.reason }),
      healthStatus: 'UNKNOWN',
      ...(t.startedAt && { startedAt: iso(t.startedAt) }),
      ...(t.finishedAt && { finishedAt: iso(t.finishedAt) }),
    };
  }
  if (state?.running) {
    const last = status?.lastState?.terminated;
    if ((status?.restartCount ?? 0) > 0 && last) {
      return {
        lastStatus: 'STOPPED',
        exitCode: last.exitCode,
        ...(last.reason && last.reason !== 'Completed' && { reason: last.reason }),
        healthStatus: 'UNKNOWN',
        ...(last.startedAt && { startedAt: iso(last.startedAt) }),
        ...(last.finishedAt && { finishedAt: iso(last.finishedAt) }),
      };
    }
    const startedAt = state.running.startedAt ? iso(state.running.startedAt) : undefined;
    return { lastStatus: 'RUNNING', healthStatus: health(definition, status!, startedAt, nowMs, everReady), ...(startedAt && { startedAt }) };
  }
  const waiting = state?.waiting;
  if (waiting?.reason && !startingReasons.has(waiting.reason)) {
    if (waiting.reason === 'ErrImagePull') return { lastStatus: 'PENDING', healthStatus: 'UNKNOWN' }; // the kubelet still tries
    const detail = waiting.message ? `${waiting.reason}: ${waiting.message}` : waiting.reason;
    return { lastStatus: 'STOPPED', reason: pullReasons.has(waiting.reason) ? `CannotPullContainerError: ${detail}` : detail, healthStatus: 'UNKNOWN' };
  }
  return { lastStatus: 'PENDING', healthStatus: 'UNKNOWN' };
}

function health(
  definition: ContainerDefinition,
  status: V1ContainerStatus,
  startedAt: string | undefined,
  nowMs: number,
  everReady: ReadonlySet<string>,
): HealthState {
  const check = definition.healthCheck;
  if (!check) return 'UNKNOWN';
  if (status.ready) return 'HEALTHY';
  if (everReady.has(definition.name)) return 'UNHEALTHY';
  const windowMs = ((check.startPeriod ?? 0) + check.interval * check.retries) * 1000;
  return startedAt !== undefined && nowMs - Date.parse(startedAt) >= windowMs ? 'UNHEALTHY' : 'UNKNOWN';
}

/** Host ports on the node's address; awsvpc ports on the Pod's own. */
function bindings(pod: PodObservationInput['pod'], spec: TaskDefinitionSpec, definition: ContainerDefinition): NetworkBinding[] {
  const all = pod.spec?.containers.concat(pod.spec.initContainers ?? []) ?? [];
  const declared = all.find((c) => c.name === podName(definition.name))?.ports ?? [];
  const address = spec.networkMode === 'awsvpc' ? pod.status?.podIP : pod.status?.hostIP;
  if (!address) return [];
  // A sidecar's host ports are declared on a regular container (see pod-spec.ts): found by port and protocol.
  const published = (port: (typeof declared)[number]) =>
    port.hostPort ??
    pod.spec?.containers.flatMap((c) => c.ports ?? []).find((p) => p.containerPort === port.containerPort && p.protocol === port.protocol && p.hostPort)
      ?.hostPort;
  return declared.flatMap((port) => {
    const hostPort = spec.networkMode === 'bridge' ? published(port) : port.containerPort;
    if (hostPort === undefined) return [];
    return [{ bindIP: address, containerPort: port.containerPort, hostPort, protocol: port.protocol === 'UDP' ? ('udp' as const) : ('tcp' as const) }];
  });
}

/** client-node hands timestamps over as Date objects; the store's raw JSON has strings. */
function iso(value: Date | string): string {
  return (typeof value === 'string' ? new Date(value) : value).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
