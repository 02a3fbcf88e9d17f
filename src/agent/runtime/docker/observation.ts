/**
 * TaskObservations from what the engine shows (container inspections) plus what only the runtime
 * knows (launch failures that left no container behind). Pure.
 */
import type Dockerode from 'dockerode';
import type { ContainerObservation, ContainerState, HealthState, NetworkBinding, TaskObservation } from '../../task-runtime';
import { stoppedBeforeStartReason } from '../container-order';
import { evaluateGate } from '../dependency-gate';
import type { DeclaredPort, TaskLayout } from '../task-layout';
import { inspectionScrubber } from './secret-scrubber';

/** Docker's zero time: a container that never started or never finished. */
const zeroTime = '0001-01-01T00:00:00Z';

export interface TaskFacts {
  taskUid: string;
  namespace: string;
  taskName: string;
  layout: TaskLayout;
  /** By container name (the dev.berth.container-name label). */
  inspections: Map<string, Dockerode.ContainerInspectInfo>;
  /** Containers that failed before Docker held them (pull, volume or create errors), with the reason. */
  launchFailures: Map<string, string>;
  /** A stop was asked for: containers that have not started never will. */
  stopRequested: boolean;
  pullStartedAt?: string;
  pullStoppedAt?: string;
}

export function taskObservation(facts: TaskFacts): TaskObservation {
  const { layout, inspections } = facts;
  const observations = new Map<string, ContainerObservation>();
  for (const container of layout.containers) {
    const inspection = inspections.get(container.name);
    const failure = facts.launchFailures.get(container.name);
    if (inspection) {
      observations.set(container.name, containerObservation(container.name, inspection, bindingsOf(container.name, container.ports, facts)));
    } else if (failure !== undefined) {
      observations.set(container.name, { ...notCreated(container.name), lastStatus: 'STOPPED', reason: failure });
    }
  }
  markUnreachable(layout, observations);
  const containers = layout.containers.map((c) => observations.get(c.name) ?? notCreated(c.name));
  return {
    taskUid: facts.taskUid,
    namespace: facts.namespace,
    taskName: facts.taskName,
    containers: facts.stopRequested ? containers.map(stoppedBeforeStart) : containers,
    ...(facts.pullStartedAt !== undefined && { pullStartedAt: facts.pullStartedAt }),
    ...(facts.pullStoppedAt !== undefined && { pullStoppedAt: facts.pullStoppedAt }),
  };
}

/**
 * A container still waiting (not created, or created but never started) whose dependency can never
 * meet its condition will never run: report it STOPPED with why. Repeated until nothing changes, since
 * one such container makes those waiting for it unreachable too.
 */
function markUnreachable(layout: TaskLayout, observations: Map<string, ContainerObservation>): void {
  for (let changed = true; changed;) {
    changed = false;
    for (const container of layout.containers) {
      const current = observations.get(container.name);
      if (current && current.lastStatus !== 'CREATED') continue;
      const gate = evaluateGate(container, layout, (name) => observations.get(name));
      if (gate.kind !== 'failed') continue;
      observations.set(container.name, { ...(current ?? notCreated(container.name)), lastStatus: 'STOPPED', reason: gate.reason });
      changed = true;
    }
  }
}

function stoppedBeforeStart(observation: ContainerObservation): ContainerObservation {
  if (observation.lastStatus !== 'PENDING' && observation.lastStatus !== 'CREATED') return observation;
  return { ...observation, lastStatus: 'STOPPED', reason: stoppedBeforeStartReason };
}

function notCreated(name: string): ContainerObservation {
  return { name, lastStatus: 'PENDING', healthStatus: 'UNKNOWN', networkBindings: [] };
}

/** Created and never started, nor failed to start: the only state in which Berth may start a container. */
export function neverStarted(inspection: Dockerode.ContainerInspectInfo): boolean {
  return inspection.State.Status === 'created' && inspection.State.Error === '';
}

export function containerObservation(name: string, inspection: Dockerode.ContainerInspectInfo, networkBindings: NetworkBinding[]): ContainerObservation {
  const { State: state } = inspection;
  const failedToStart = state.Status === 'created' && state.Error !== '';
  const lastStatus: ContainerState = failedToStart ? 'STOPPED' : statusOf(state.Status);
  const stopped = lastStatus === 'STOPPED';
  // The engine's error can echo the container's environment (runc quotes the entry it refuses): never its secrets.
  const error = state.Error ? inspectionScrubber(inspection).scrub(state.Error) : '';
  const reason = state.OOMKilled ? 'OOMKilled' : failedToStart ? `CannotStartContainerError: ${error}` : error || undefined;
  return {
    name,
    runtimeId: inspection.Id,
    lastStatus,
    ...(stopped && { exitCode: state.ExitCode }),
    ...(reason !== undefined && { reason }),
    healthStatus: healthOf(state.Health?.Status),
    networkBindings: lastStatus === 'RUNNING' ? networkBindings : [],
    ...(state.StartedAt !== zeroTime && { startedAt: state.StartedAt }),
    ...(stopped && state.FinishedAt !== zeroTime && { finishedAt: state.FinishedAt }),
  };
}

function statusOf(dockerStatus: string): ContainerState {
  switch (dockerStatus) {
    case 'created':
      return 'CREATED';
    case 'running':
    case 'paused':
    case 'restarting':
      return 'RUNNING';
    default: // exited, dead, removing
      return 'STOPPED';
  }
}

function healthOf(dockerHealth: string | undefined): HealthState {
  if (dockerHealth === 'healthy') return 'HEALTHY';
  if (dockerHealth === 'unhealthy') return 'UNHEALTHY';
  return 'UNKNOWN';
}

/**
 * bridge: the container's own published ports. awsvpc: the namespace owner publishes every port of the
 * task; each container reports the ones it declared. host: the container binds its declared ports on
 * the instance itself.
 */
function bindingsOf(name: string, declared: DeclaredPort[], facts: TaskFacts): NetworkBinding[] {
  switch (facts.layout.networkMode) {
    case 'none':
      return [];
    case 'host':
      return declared.map((p) => ({ bindIP: '0.0.0.0', containerPort: p.containerPort, hostPort: p.containerPort, protocol: p.protocol }));
    case 'bridge':
      return publishedPorts(facts.inspections.get(name));
    case 'awsvpc': {
      const owner = facts.layout.networkOwner ?? name;
      const isDeclared = (b: NetworkBinding) => declared.some((p) => p.containerPort === b.containerPort && p.protocol === b.protocol);
      return publishedPorts(facts.inspections.get(owner)).filter(isDeclared);
    }
  }
}

export function publishedPorts(inspection: Dockerode.ContainerInspectInfo | undefined): NetworkBinding[] {
  const ports = (inspection?.NetworkSettings.Ports ?? {}) as Record<string, Array<{ HostIp: string; HostPort: string }> | null>;
  return Object.entries(ports).flatMap(([key, bindings]) => {
    const [port, protocol] = key.split('/');
    if (protocol !== 'tcp' && protocol !== 'udp') return [];
    return (bindings ?? []).map((b) => ({ bindIP: b.HostIp, containerPort: Number(port), hostPort: Number(b.HostPort), protocol }));
  });
}
