import type { TaskStatus } from '../../../api';

/**
 * ECS's deployment circuit breaker: a deployment whose tasks keep failing to launch is marked FAILED
 * once its failed launches reach half its desired count, at least 3 and at most 200.
 *
 *   desired 1    → ceil(0.5)  = 1   → 3
 *   desired 10   → ceil(5)    = 5   → 5
 *   desired 1000 → ceil(500)  = 500 → 200
 */
export function circuitBreakerThreshold(desiredCount: number): number {
  return Math.min(200, Math.max(3, Math.ceil(0.5 * desiredCount)));
}

/** The stoppedReason the service scheduler gives a task it replaces for failing its health checks (ECS's words). */
export const healthCheckFailureReason = 'Task failed container health checks';

/**
 * A failed launch: a task that stopped before it ever became RUNNING-and-healthy (the lifecycle
 * only sets startedAt on reaching RUNNING, which needs passing health checks), and stopped because
 * of itself: it could not start, an essential container exited, or the scheduler replaced it for
 * failing its health checks. Tasks stopped by a user, by a scale-in or by a lost instance are not
 * the revision's fault and do not count.
 */
export function isFailedLaunch(status: TaskStatus | undefined): boolean {
  if (status?.lastStatus !== 'STOPPED' || status.startedAt !== undefined) return false;
  switch (status.stopCode) {
    case 'TaskFailedToStart':
    case 'EssentialContainerExited':
      return true;
    case 'ServiceSchedulerInitiated':
      return status.stoppedReason === healthCheckFailureReason;
    default:
      return false;
  }
}

/** The rolloutStateReason of a deployment the breaker stopped, in ECS's words. */
export function circuitBreakerReason(failedTasks: number, threshold: number): string {
  return `ECS deployment circuit breaker: ${failedTasks} tasks failed to start (threshold ${threshold}).`;
}
