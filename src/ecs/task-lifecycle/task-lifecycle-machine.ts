import { assign, setup } from 'xstate';
import type { HealthState } from './observation';
import type { TaskStatus } from '../../api';
import { assessObservation, taskHealth, type ContainersObserved } from './observation';

/**
 * The ECS task lifecycle as a pure XState machine. It never runs as an actor: `nextTaskStatus`
 * restores a snapshot from the stored TaskStatus, computes one `transition()` and hands the
 * resulting actions to the agent as an effect plan. Effects are therefore declared as named
 * actions whose implementations do nothing here; the agent's executor is what carries them out.
 *
 * PROVISIONING → PENDING → ACTIVATING → RUNNING → DEACTIVATING → STOPPING → DEPROVISIONING → STOPPED.
 * Berth has no load balancer to register with or network interface to detach, so DEACTIVATING and
 * DEPROVISIONING are passed through within one transition (the snapshot never rests there); the
 * order of the statuses, and of the effects, stays ECS's.
 */

export type TaskLastStatus = NonNullable<TaskStatus['lastStatus']>;
export type TaskStopCode = NonNullable<TaskStatus['stopCode']>;

export const taskStatusOrder: readonly TaskLastStatus[] = [
  'PROVISIONING',
  'PENDING',
  'ACTIVATING',
  'RUNNING',
  'DEACTIVATING',
  'STOPPING',
  'DEPROVISIONING',
  'STOPPED',
];

export interface TaskLifecycleContext {
  desiredStatus: 'RUNNING' | 'STOPPED';
  healthStatus: HealthState;
  stopCode?: TaskStopCode;
  stoppedReason?: string;
  /** Why the scheduler could not place the task yet; cleared once it is placed. */
  placementFailure?: string;
}

export type StopRequestCode = Extract<TaskStopCode, 'UserInitiated' | 'ServiceSchedulerInitiated' | 'TerminationNotice'>;

export type TaskEvent =
  /** The scheduler bound the task to a container instance (named when known) or to Fargate capacity. */
  | { type: 'PLACED'; containerInstance?: string }
  | { type: 'PLACEMENT_FAILED'; reason: string }
  | ContainersObserved
  /** The agent cannot launch the task at all, e.g. its task definition revision or a referenced Secret is missing. */
  | { type: 'LAUNCH_FAILED'; reason: string }
  | { type: 'STOP_REQUESTED'; reason: string; stopCode: StopRequestCode }
  /** The agent's stop finished: every container of the task has exited. */
  | { type: 'CONTAINERS_STOPPED' }
  /** The task's container instance is gone (deregistered, or its agent stopped reporting): nobody is left to stop the containers. */
  | { type: 'INSTANCE_LOST'; reason: string };

/** The task controller and the agent both name the event type this way. */
export type TaskLifecycleEvent = TaskEvent;

export interface RecordTaskEvent {
  kind: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export type TaskEffect = { type: 'stopContainers' } | { type: 'removeContainers' } | ({ type: 'recordEvent' } & RecordTaskEvent);

interface StopCause {
  stopCode: TaskStopCode;
  stoppedReason: string;
}

function observation(event: TaskEvent): ContainersObserved {
  if (event.type !== 'CONTAINERS_OBSERVED') throw new Error(`expected CONTAINERS_OBSERVED, got ${event.type}`);
  return event;
}

function stopCause(event: TaskEvent): StopCause {
  switch (event.type) {
    case 'STOP_REQUESTED':
      return { stopCode: event.stopCode, stoppedReason: event.reason };
    case 'LAUNCH_FAILED':
      return { stopCode: 'TaskFailedToStart', stoppedReason: event.reason };
    case 'INSTANCE_LOST':
      return { stopCode: 'TerminationNotice', stoppedReason: event.reason };
    case 'CONTAINERS_OBSERVED': {
      const verdict = assessObservation(event);
      if (verdict.kind === 'failedToStart') return { stopCode: 'TaskFailedToStart', stoppedReason: verdict.reason };
      if (verdict.kind === 'essentialExited') return { stopCode: 'EssentialContainerExited', stoppedReason: verdict.reason };
      throw new Error(`observation does not stop the task: ${verdict.kind}`);
    }
    default:
      throw new Error(`${event.type} does not stop the task`);
  }
}

/** The Event is named after the stop code; stops nobody asked for are warnings. */
function stopEvent(context: TaskLifecycleContext): RecordTaskEvent {
  const stopCode = context.stopCode ?? 'UserInitiated';
  const requested = stopCode === 'UserInitiated' || stopCode === 'ServiceSchedulerInitiated';
  return { kind: requested ? 'Normal' : 'Warning', reason: stopCode, message: context.stoppedReason ?? '' };
}

const byObservation =
  (verdict: 'failedToStart' | 'essentialExited' | 'ready' | 'activating') =>
  ({ event }: { event: TaskEvent }) =>
    assessObservation(observation(event)).kind === verdict;

/** The actions of every transition that begins a stop: record why, once, and say so. */
const beginStop = [{ type: 'beginStop' }, { type: 'recordEvent', params: ({ context }: { context: TaskLifecycleContext }) => stopEvent(context) }] as const;

export const taskLifecycleMachine = setup({
  types: {
    context: {} as TaskLifecycleContext,
    events: {} as TaskEvent,
  },
  actions: {
    stopContainers: () => undefined,
    removeContainers: () => undefined,
    recordEvent: (_args, _event: RecordTaskEvent) => undefined,
    beginStop: assign(({ event }) => ({ desiredStatus: 'STOPPED' as const, ...stopCause(event) })),
    updateHealth: assign({ healthStatus: ({ event }) => taskHealth(observation(event)) }),
  },
  guards: {
    failedToStart: byObservation('failedToStart'),
    essentialExited: byObservation('essentialExited'),
    ready: byObservation('ready'),
    activating: byObservation('activating'),
    newPlacementFailure: ({ context, event }) => event.type === 'PLACEMENT_FAILED' && event.reason !== context.placementFailure,
    // ECS keeps the first reason a task was given to stop: later ones describe the stop, not its cause.
    stopping: ({ context }) => context.desiredStatus === 'STOPPED',
    allContainersStopped: ({ event }) => observation(event).containers.every((c) => c.lastStatus === 'STOPPED'),
  },
}).createMachine({
  id: 'task',
  initial: 'PROVISIONING',
  context: { desiredStatus: 'RUNNING', healthStatus: 'UNKNOWN' },
  on: {
    INSTANCE_LOST: [
      { guard: 'stopping', target: '.STOPPED' },
      { target: '.STOPPED', actions: beginStop },
    ],
  },
  states: {
    PROVISIONING: {
      on: {
        PLACED: { target: 'PENDING', actions: assign({ placementFailure: undefined }) },
        // Recorded once per distinct reason: the scheduler retries placement on every reconcile.
        PLACEMENT_FAILED: {
          guard: 'newPlacementFailure',
          actions: [
            assign({ placementFailure: ({ event }) => event.reason }),
            { type: 'recordEvent', params: ({ event }) => ({ kind: 'Warning' as const, reason: 'PlacementFailed', message: event.reason }) },
          ],
        },
        // Nothing runs yet, so there is nothing to stop or remove.
        STOP_REQUESTED: { target: 'STOPPED', actions: beginStop },
        // Refused before placement, e.g. a RunTask of a deregistered revision (ECS refuses the call).
        LAUNCH_FAILED: { target: 'STOPPED', actions: beginStop },
      },
    },
    PENDING: {
      on: {
        CONTAINERS_OBSERVED: [
          { guard: 'failedToStart', target: 'DEACTIVATING', actions: beginStop },
          { guard: 'essentialExited', target: 'DEACTIVATING', actions: beginStop },
          { guard: 'ready', target: 'RUNNING', actions: 'updateHealth' },
          { guard: 'activating', target: 'ACTIVATING', actions: 'updateHealth' },
        ],
        LAUNCH_FAILED: { target: 'DEACTIVATING', actions: beginStop },
        STOP_REQUESTED: { target: 'DEACTIVATING', actions: beginStop },
      },
    },
    ACTIVATING: {
      on: {
        CONTAINERS_OBSERVED: [
          { guard: 'failedToStart', target: 'DEACTIVATING', actions: beginStop },
          { guard: 'essentialExited', target: 'DEACTIVATING', actions: beginStop },
          { guard: 'ready', target: 'RUNNING', actions: 'updateHealth' },
          { actions: 'updateHealth' },
        ],
        LAUNCH_FAILED: { target: 'DEACTIVATING', actions: beginStop },
        STOP_REQUESTED: { target: 'DEACTIVATING', actions: beginStop },
      },
    },
    RUNNING: {
      entry: { type: 'recordEvent', params: { kind: 'Normal', reason: 'TaskRunning', message: 'every essential container is running and healthy' } },
      on: {
        CONTAINERS_OBSERVED: [
          { guard: 'essentialExited', target: 'DEACTIVATING', actions: beginStop },
          // Whether an unhealthy task is replaced is the service scheduler's call (grace period), not the task's.
          { actions: 'updateHealth' },
        ],
        STOP_REQUESTED: { target: 'DEACTIVATING', actions: beginStop },
      },
    },
    DEACTIVATING: { always: 'STOPPING' },
    STOPPING: {
      entry: 'stopContainers',
      on: {
        CONTAINERS_STOPPED: 'DEPROVISIONING',
        // Level-triggered: an observation showing every container exited is as good as the stop's own report.
        CONTAINERS_OBSERVED: { guard: 'allContainersStopped', target: 'DEPROVISIONING' },
      },
    },
    DEPROVISIONING: { entry: 'removeContainers', always: 'STOPPED' },
    STOPPED: { type: 'final' },
  },
});
