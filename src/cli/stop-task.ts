import { tasks, type Task } from '../api';
import { stopTask } from '../controllers/service/task-actions';
import type { ObjectStore } from '../store/object-store';
import { connect, type Connection, type ConnectionFlags, type Lines } from './connection';

export interface StopTaskFlags extends ConnectionFlags {
  /** The task's name (from `task/NAME`). */
  name: string;
  /** ECS StopTask's `reason`: what the task's stoppedReason says. */
  reason?: string;
}

/** What ECS writes as the stoppedReason of a task a user stopped without a reason. */
export const defaultStopReason = 'Task stopped by user';

export type StopOutcome = 'not-found' | 'stopped' | 'already-stopped';

/**
 * ECS StopTask through the same write the service scheduler makes (desiredStatus STOPPED and the
 * stop-reason annotation the agent turns into stoppedReason, stopCode UserInitiated for a standalone
 * task). A task already asked to stop keeps the reason it was first given, as ECS keeps the first.
 */
export async function stopTaskByName(store: ObjectStore, namespace: string, name: string, reason = defaultStopReason): Promise<StopOutcome> {
  const task = await store.get<Task>(tasks, namespace, name);
  if (!task) return 'not-found';
  if (task.spec.desiredStatus === 'STOPPED' || task.status?.lastStatus === 'STOPPED') return 'already-stopped';
  return (await stopTask(store, task, reason)) ? 'stopped' : 'not-found';
}

/** `berth stop-task task/NAME [--reason TEXT]`: kubectl's wording and exit codes. */
export async function runStopTask(flags: StopTaskFlags, output: Lines, connection: Connection = connect(flags)): Promise<number> {
  const outcome = await stopTaskByName(connection.store, connection.namespace, flags.name, flags.reason);
  if (outcome === 'not-found') {
    output.err(`Error from server (NotFound): tasks.berth.dev "${flags.name}" not found`);
    return 1;
  }
  output.out(`task.berth.dev/${flags.name} ${outcome === 'stopped' ? 'stopped' : 'already stopped'}`);
  return 0;
}
