import type { Service } from '../api';

/** Where a Service's rollout stands, for `berth rollout status`: kubectl rollout status's questions, asked of ECS deployments. */
export type RolloutProgress =
  { state: 'waiting'; message: string } | { state: 'progressing' | 'complete' | 'failed'; revision: string; running: number; desired: number; message: string };

/**
 * The PRIMARY deployment decides: COMPLETED is done (exit 0), FAILED is done badly (exit 1, with the reason the
 * circuit breaker gave); until then, its running tasks out of its desired count, and what older deployments
 * still run. A status older than the spec (observedGeneration behind) is not judged yet: the controller has
 * not seen the change, as kubectl waits for a Deployment's observedGeneration.
 *   e.g. web:7 2 of 4 tasks running, web:6 still runs 2 → "web:7: 2 of 4 new tasks running, 2 old still running".
 */
export function rolloutProgress(service: Service): RolloutProgress {
  const status = service.status;
  const name = service.metadata.name;
  if (!status || (status.observedGeneration ?? 0) < (service.metadata.generation ?? 0)) {
    return { state: 'waiting', message: `Waiting for service ${name} to be observed by the operator...` };
  }
  const primary = status.deployments?.find((d) => d.status === 'PRIMARY');
  if (!primary) return { state: 'waiting', message: `Waiting for service ${name}'s first deployment...` };
  const older = (status.deployments ?? []).filter((d) => d !== primary && d.status !== 'INACTIVE');
  const oldRunning = older.reduce((sum, d) => sum + d.runningCount, 0);
  const base = { revision: primary.taskDefinition, running: primary.runningCount, desired: primary.desiredCount };
  if (primary.rolloutState === 'FAILED') {
    return {
      ...base,
      state: 'failed',
      message: `service ${name} rollout to ${primary.taskDefinition} failed: ${primary.rolloutStateReason ?? 'no reason given'}`,
    };
  }
  if (primary.rolloutState === 'COMPLETED' && older.length === 0) {
    return { ...base, state: 'complete', message: `service ${name} successfully rolled out ${primary.taskDefinition} (${primary.runningCount} tasks running)` };
  }
  const pending = primary.pendingCount > 0 ? `, ${primary.pendingCount} pending` : '';
  const old = older.length > 0 ? `, ${oldRunning} old still running` : '';
  return {
    ...base,
    state: 'progressing',
    message: `Waiting for service ${name} rollout to finish: ${primary.runningCount} of ${primary.desiredCount} new tasks running${pending}${old}...`,
  };
}
