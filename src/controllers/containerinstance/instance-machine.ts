import { setup } from 'xstate';

/**
 * The control plane's view of one container instance, as ECS reports it: two independent
 * dimensions, hence a parallel machine, evaluated with `transition()` like the task and deployment
 * machines (never run as an actor).
 *
 *   registration: ACTIVE ⇄ DRAINING (spec.status) → INACTIVE (deregistering: the object is being deleted)
 *   agent:        CONNECTED ⇄ DISCONNECTED (the instance's heartbeat Lease is fresh, or has lapsed)
 *
 * An instance whose agent stops reporting is disconnected (ECS: agentConnected false): no new task is
 * placed there, and the tasks on it are left to a user or to the agent's return.
 */

export type Registration = 'ACTIVE' | 'DRAINING' | 'INACTIVE';
export type AgentState = 'CONNECTED' | 'DISCONNECTED';

export type InstanceEvent = {
  type: 'OBSERVED';
  draining: boolean;
  deregistering: boolean;
  /** The Lease was renewed within its duration. */
  leaseFresh: boolean;
};

export interface RecordInstanceEvent {
  kind: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export const instanceMachine = setup({
  types: { events: {} as InstanceEvent },
  actions: {
    recordEvent: (_args, _event: RecordInstanceEvent) => undefined,
  },
  guards: {
    deregistering: ({ event }) => event.deregistering,
    draining: ({ event }) => event.draining && !event.deregistering,
    active: ({ event }) => !event.draining && !event.deregistering,
    fresh: ({ event }) => event.leaseFresh,
    lapsed: ({ event }) => !event.leaseFresh,
  },
}).createMachine({
  id: 'containerInstance',
  type: 'parallel',
  states: {
    registration: {
      initial: 'ACTIVE',
      states: {
        ACTIVE: {
          on: {
            OBSERVED: [
              { guard: 'deregistering', target: 'INACTIVE' },
              { guard: 'draining', target: 'DRAINING' },
            ],
          },
        },
        DRAINING: {
          on: {
            OBSERVED: [
              { guard: 'deregistering', target: 'INACTIVE' },
              { guard: 'active', target: 'ACTIVE' },
            ],
          },
        },
        INACTIVE: {},
      },
    },
    agent: {
      initial: 'DISCONNECTED',
      states: {
        DISCONNECTED: {
          on: {
            OBSERVED: {
              guard: 'fresh',
              target: 'CONNECTED',
              actions: { type: 'recordEvent', params: { kind: 'Normal', reason: 'AgentConnected', message: 'the agent renews its heartbeat Lease' } },
            },
          },
        },
        CONNECTED: {
          on: {
            OBSERVED: {
              guard: 'lapsed',
              target: 'DISCONNECTED',
              actions: {
                type: 'recordEvent',
                params: {
                  kind: 'Warning',
                  reason: 'AgentDisconnected',
                  message: 'the agent stopped renewing its heartbeat Lease: no new tasks are placed here',
                },
              },
            },
          },
        },
      },
    },
  },
});
