/**
 * What one agent observation of a task's containers means for the task. The agent reports facts
 * (container states, exit codes, health); the lifecycle needs one verdict, in ECS's order of
 * precedence: a container that never started fails the launch, an essential container that ran and
 * stopped ends the task, and only then do running and health decide how far the task has come.
 */

export type ContainerState = 'PENDING' | 'PULLED' | 'CREATED' | 'RUNNING' | 'STOPPED';
export type HealthState = 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';

export interface NetworkBinding {
  bindIP: string;
  containerPort: number;
  hostPort: number;
  protocol: 'tcp' | 'udp';
}

/** One container as the runtime (the agent's TaskRuntime port) observed it. */
export interface ContainerObservation {
  name: string;
  runtimeId?: string;
  lastStatus: ContainerState;
  exitCode?: number;
  /** Why it stopped or could not start, e.g. a pull error, OOMKilled. */
  reason?: string;
  healthStatus: HealthState;
  networkBindings: NetworkBinding[];
  startedAt?: string;
  finishedAt?: string;
}

export interface ContainersObserved {
  type: 'CONTAINERS_OBSERVED';
  containers: ContainerObservation[];
  /** Names of the essential containers (`essential` absent or true in the task definition). */
  essential: string[];
  /**
   * Names of the containers that define a healthCheck. Needed because a container without one
   * reports UNKNOWN forever, which an observation alone cannot tell from a check not yet run.
   */
  healthChecked: string[];
  pullStartedAt?: string;
  pullStoppedAt?: string;
}

export type ObservationVerdict =
  { kind: 'failedToStart'; reason: string } | { kind: 'essentialExited'; reason: string } | { kind: 'ready' } | { kind: 'activating' } | { kind: 'starting' };

/** ECS task health: only essential containers with a health check count; none at all is UNKNOWN. */
export function taskHealth(observed: ContainersObserved): HealthState {
  const checked = observed.containers.filter((c) => observed.essential.includes(c.name) && observed.healthChecked.includes(c.name));
  const expected = observed.essential.filter((name) => observed.healthChecked.includes(name));
  if (checked.some((c) => c.healthStatus === 'UNHEALTHY')) return 'UNHEALTHY';
  if (expected.length > 0 && checked.length === expected.length && checked.every((c) => c.healthStatus === 'HEALTHY')) return 'HEALTHY';
  return 'UNKNOWN';
}

export function assessObservation(observed: ContainersObserved): ObservationVerdict {
  const neverStarted = observed.containers.find((c) => c.lastStatus === 'STOPPED' && c.startedAt === undefined);
  if (neverStarted) return { kind: 'failedToStart', reason: failedToStartReason(neverStarted) };

  const byName = new Map(observed.containers.map((c) => [c.name, c]));
  const essential = observed.essential.map((name) => byName.get(name));
  const exited = essential.find((c) => c?.lastStatus === 'STOPPED');
  if (exited) return { kind: 'essentialExited', reason: essentialExitedReason(exited) };

  if (!essential.every((c) => c?.lastStatus === 'RUNNING')) return { kind: 'starting' };
  const needsHealth = observed.essential.some((name) => observed.healthChecked.includes(name));
  return !needsHealth || taskHealth(observed) === 'HEALTHY' ? { kind: 'ready' } : { kind: 'activating' };
}

function essentialExitedReason(container: ContainerObservation): string {
  const prefix = `Essential container in task exited: ${container.name}`;
  if (container.exitCode === undefined) return `${prefix}: ${container.reason ?? 'stopped'}`;
  const detail = container.reason ? ` (${container.reason})` : '';
  return `${prefix} exited with code ${container.exitCode}${detail}`;
}

function failedToStartReason(container: ContainerObservation): string {
  const detail = container.reason ?? (container.exitCode === undefined ? 'stopped before it started' : `exited with code ${container.exitCode}`);
  return `Task failed to start: ${container.name}: ${detail}`;
}
