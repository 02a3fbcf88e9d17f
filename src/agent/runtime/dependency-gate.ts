/**
 * Whether a container may be created and started now, given what its dependencies are doing. Pure, and
 * shared by every runtime, so the Docker engine and the simulation order containers identically.
 */
import type { ContainerObservation } from '../task-runtime';
import type { Dependency, LayoutContainer, TaskLayout } from './task-layout';

export type Gate =
  | { kind: 'open' }
  | { kind: 'waiting'; on: Dependency }
  /** A dependency can never meet its condition: the container will never run. */
  | { kind: 'failed'; reason: string };

type ConditionState = { kind: 'met' } | { kind: 'pending' } | { kind: 'impossible'; why: string };

const met: ConditionState = { kind: 'met' };
const pending: ConditionState = { kind: 'pending' };
const impossible = (why: string): ConditionState => ({ kind: 'impossible', why });

/** `observed(name)` is undefined for a container nothing is known of yet (not created, not failed). */
export function evaluateGate(container: LayoutContainer, layout: TaskLayout, observed: (containerName: string) => ContainerObservation | undefined): Gate {
  let firstWait: Dependency | undefined;
  for (const dependency of container.dependencies) {
    const hasHealthCheck = layout.containers.find((c) => c.name === dependency.containerName)?.hasHealthCheck ?? false;
    const state = conditionState(dependency, observed(dependency.containerName), hasHealthCheck);
    if (state.kind === 'impossible') {
      return { kind: 'failed', reason: `dependsOn ${dependency.containerName} ${dependency.condition} can never be met: ${state.why}` };
    }
    if (state.kind === 'pending') firstWait ??= dependency;
  }
  return firstWait ? { kind: 'waiting', on: firstWait } : { kind: 'open' };
}

function conditionState(dependency: Dependency, observation: ContainerObservation | undefined, hasHealthCheck: boolean): ConditionState {
  if (dependency.condition === 'HEALTHY' && !hasHealthCheck) return impossible('it has no health check');
  if (!observation) return pending;
  const stopped = observation.lastStatus === 'STOPPED';
  // A container that stopped without a start time failed to launch (pull, create, start or its own dependencies).
  const ran = observation.lastStatus === 'RUNNING' || (stopped && observation.startedAt !== undefined);
  const neverRan = impossible(observation.reason ? `it never started (${observation.reason})` : 'it never started');

  switch (dependency.condition) {
    case 'CREATE':
      if (observation.runtimeId !== undefined) return met;
      return stopped ? impossible(observation.reason ? `it was never created (${observation.reason})` : 'it was never created') : pending;
    case 'START':
      if (ran) return met;
      return stopped ? neverRan : pending;
    case 'COMPLETE':
      if (stopped) return ran ? met : neverRan;
      return pending;
    case 'SUCCESS':
      if (!stopped) return pending;
      if (!ran) return neverRan;
      return observation.exitCode === 0 ? met : impossible(`it exited with code ${observation.exitCode ?? 'unknown'}`);
    case 'HEALTHY':
      if (stopped) return impossible('it stopped');
      return observation.lastStatus === 'RUNNING' && observation.healthStatus === 'HEALTHY' ? met : pending;
  }
}
