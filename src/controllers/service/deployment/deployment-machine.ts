import { and, assign, setup, stateIn } from 'xstate';
import type { ServiceDeployment } from '../../../api';
import { circuitBreakerReason } from './circuit-breaker';

/**
 * The state of one deployment of a Service, as ECS reports it: two independent dimensions,
 * hence a parallel machine.
 *
 *   status:   PRIMARY (the newest) → ACTIVE (superseded, still has tasks) → INACTIVE (no tasks left)
 *   rollout:  IN_PROGRESS → COMPLETED | FAILED, decided only while PRIMARY
 *
 * Like the task lifecycle it is never run as an actor: `decideDeployments` restores each stored
 * deployment, takes one `transition()` per event and collects the Kubernetes Events it asks for.
 */

export type DeploymentStatus = ServiceDeployment['status'];
export type RolloutState = ServiceDeployment['rolloutState'];

export interface DeploymentContext {
  id: string;
  serviceName: string;
  taskDefinition: string;
  rolloutStateReason?: string;
}

export type DeploymentEvent =
  /** What this deployment's tasks, and the others', look like now. */
  | {
      type: 'OBSERVED';
      desiredCount: number;
      /** RUNNING-and-healthy tasks of this deployment. */
      healthy: number;
      /** Tasks of this deployment that are not STOPPED. */
      live: number;
      /** Tasks of every other deployment that are not STOPPED. */
      othersLive: number;
      failedTasks: number;
      /** Failed launches that trip the circuit breaker; absent when it is not enabled. */
      failureThreshold?: number;
    }
  /** A newer deployment became PRIMARY. */
  | { type: 'SUPERSEDED' };

export interface RecordDeploymentEvent {
  kind: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export const deploymentMachine = setup({
  types: {
    context: {} as DeploymentContext,
    events: {} as DeploymentEvent,
    input: {} as DeploymentContext,
  },
  actions: {
    recordEvent: (_args, _event: RecordDeploymentEvent) => undefined,
  },
  guards: {
    breakerTripped: ({ event }) => event.type === 'OBSERVED' && event.failureThreshold !== undefined && event.failedTasks >= event.failureThreshold,
    steadyState: ({ event }) =>
      event.type === 'OBSERVED' && event.healthy === event.desiredCount && event.live === event.desiredCount && event.othersLive === 0,
    drained: ({ event }) => event.type === 'OBSERVED' && event.live === 0,
  },
}).createMachine({
  id: 'deployment',
  type: 'parallel',
  context: ({ input }) => ({ ...input, rolloutStateReason: input.rolloutStateReason ?? `ECS deployment ${input.id} in progress.` }),
  states: {
    status: {
      initial: 'PRIMARY',
      states: {
        PRIMARY: { on: { SUPERSEDED: 'ACTIVE' } },
        ACTIVE: { on: { OBSERVED: { guard: 'drained', target: 'INACTIVE' } } },
        INACTIVE: {},
      },
    },
    rollout: {
      initial: 'IN_PROGRESS',
      states: {
        IN_PROGRESS: {
          on: {
            OBSERVED: [
              {
                guard: and(['breakerTripped', stateIn('#deployment.status.PRIMARY')]),
                target: 'FAILED',
                actions: [
                  assign({
                    rolloutStateReason: ({ event }) =>
                      event.type === 'OBSERVED' ? circuitBreakerReason(event.failedTasks, event.failureThreshold ?? event.failedTasks) : undefined,
                  }),
                  {
                    type: 'recordEvent',
                    params: ({ context }) => ({
                      kind: 'Warning' as const,
                      reason: 'DeploymentFailed',
                      message: `service ${context.serviceName} deployment ${context.id} of ${context.taskDefinition} FAILED: ${context.rolloutStateReason}`,
                    }),
                  },
                ],
              },
              {
                guard: and(['steadyState', stateIn('#deployment.status.PRIMARY')]),
                target: 'COMPLETED',
                actions: [
                  assign({ rolloutStateReason: ({ context }) => `ECS deployment ${context.id} completed.` }),
                  {
                    type: 'recordEvent',
                    params: ({ context }) => ({
                      kind: 'Normal' as const,
                      reason: 'DeploymentCompleted',
                      message: `service ${context.serviceName} deployment ${context.id} of ${context.taskDefinition} completed.`,
                    }),
                  },
                  {
                    type: 'recordEvent',
                    params: ({ context }) => ({
                      kind: 'Normal' as const,
                      reason: 'SteadyState',
                      message: `service ${context.serviceName} has reached a steady state.`,
                    }),
                  },
                ],
              },
            ],
          },
        },
        COMPLETED: {},
        FAILED: {},
      },
    },
  },
});
