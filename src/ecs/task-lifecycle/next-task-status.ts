import { transition } from 'xstate';
import type { ContainerObservation } from './observation';
import type { TaskContainerStatus, TaskStatus } from '../../api';
import { setConditions } from '../conditions';
import {
  taskLifecycleMachine,
  taskStatusOrder,
  type TaskEffect,
  type TaskEvent,
  type TaskLastStatus,
  type TaskLifecycleContext,
} from './task-lifecycle-machine';

export interface TaskTransition {
  status: TaskStatus;
  /** What the agent must do, in order. Empty when the event changes nothing. */
  effects: TaskEffect[];
}

/** The condition that explains a task waiting in PROVISIONING. */
export const placedCondition = 'Placed';

/** The API caps reasons at 1024 characters; a pull error can be longer. */
const maxReasonLength = 1024;

/**
 * One step of the task lifecycle, from the stored status: restore the machine's snapshot, take
 * the event, map the result back to a TaskStatus with its timestamps, and list the effects the
 * agent carries out. Pure: the same inputs always give the same output, so an agent that crashed
 * after writing status and before acting simply decides the same again.
 */
export function nextTaskStatus(current: TaskStatus | undefined, event: TaskEvent, now: Date): TaskTransition {
  const before = taskLifecycleMachine.resolveState({ value: current?.lastStatus ?? 'PROVISIONING', context: contextOf(current) });
  if (current && before.status === 'done') return { status: current, effects: [] };
  const [after, actions] = transition(taskLifecycleMachine, before, event);
  const lastStatus = after.value;
  const at = timestamp(now);
  const reached = (status: TaskLastStatus) => taskStatusOrder.indexOf(lastStatus) >= taskStatusOrder.indexOf(status);
  const observed = event.type === 'CONTAINERS_OBSERVED' ? event : undefined;

  const status: TaskStatus = {
    ...current,
    lastStatus,
    desiredStatus: after.context.desiredStatus,
    healthStatus: after.context.healthStatus,
    ...(after.context.stopCode ? { stopCode: after.context.stopCode } : {}),
    ...(after.context.stoppedReason !== undefined ? { stoppedReason: truncate(after.context.stoppedReason) } : {}),
    ...(observed ? { containers: observed.containers.map(containerStatus) } : {}),
    createdAt: current?.createdAt ?? at,
  };
  setIfAbsent(status, 'pullStartedAt', observed?.pullStartedAt);
  if (observed?.pullStoppedAt) status.pullStoppedAt = observed.pullStoppedAt;
  setIfAbsent(status, 'startedAt', lastStatus === 'RUNNING' ? at : undefined);
  setIfAbsent(status, 'stoppingAt', reached('DEACTIVATING') ? at : undefined);
  setIfAbsent(status, 'stoppedAt', lastStatus === 'STOPPED' ? at : undefined);

  const placement = placementCondition(before.value, lastStatus, before.context, after.context, event);
  if (placement) status.conditions = setConditions(current?.conditions, [placement], now);

  return { status, effects: actions.flatMap((action) => effectOf(action.type, action.params)) };
}

function contextOf(status: TaskStatus | undefined): TaskLifecycleContext {
  const placement = status?.conditions?.find((c) => c.type === placedCondition);
  return {
    desiredStatus: status?.desiredStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING',
    healthStatus: status?.healthStatus ?? 'UNKNOWN',
    ...(status?.stopCode ? { stopCode: status.stopCode } : {}),
    ...(status?.stoppedReason !== undefined ? { stoppedReason: status.stoppedReason } : {}),
    ...(placement?.status === 'False' ? { placementFailure: placement.message } : {}),
  };
}

function placementCondition(from: TaskLastStatus, to: TaskLastStatus, before: TaskLifecycleContext, after: TaskLifecycleContext, event: TaskEvent) {
  if (after.placementFailure !== undefined && after.placementFailure !== before.placementFailure) {
    return { type: placedCondition, status: 'False' as const, reason: 'PlacementFailed', message: after.placementFailure };
  }
  if (from === 'PROVISIONING' && to === 'PENDING' && event.type === 'PLACED') {
    const where = event.containerInstance ? `container instance ${event.containerInstance}` : 'its capacity';
    return { type: placedCondition, status: 'True' as const, reason: 'Placed', message: `the task is bound to ${where}` };
  }
  return undefined;
}

function effectOf(type: string, params: unknown): TaskEffect[] {
  switch (type) {
    case 'stopContainers':
    case 'removeContainers':
      return [{ type }];
    case 'recordEvent':
      return [{ type, ...(params as Omit<Extract<TaskEffect, { type: 'recordEvent' }>, 'type'>) }];
    default:
      return [];
  }
}

function containerStatus(container: ContainerObservation): TaskContainerStatus {
  return {
    name: container.name,
    lastStatus: container.lastStatus,
    healthStatus: container.healthStatus,
    networkBindings: container.networkBindings,
    ...(container.runtimeId ? { runtimeId: container.runtimeId } : {}),
    ...(container.exitCode !== undefined ? { exitCode: container.exitCode } : {}),
    ...(container.reason !== undefined ? { reason: truncate(container.reason) } : {}),
  };
}

function setIfAbsent(status: TaskStatus, field: 'pullStartedAt' | 'startedAt' | 'stoppingAt' | 'stoppedAt', value: string | undefined): void {
  if (status[field] === undefined && value !== undefined) status[field] = value;
}

function truncate(text: string): string {
  return text.length <= maxReasonLength ? text : `${text.slice(0, maxReasonLength - 1)}…`;
}

/** RFC 3339 to the second, as Kubernetes writes its own timestamps. */
function timestamp(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
