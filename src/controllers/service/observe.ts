import type { Task } from '../../api';
import { isFailedLaunch, type DeploymentObservation } from './deployment';
import { emptyTally } from './deployment/rolling';
import { taskPhase } from './service-tasks';

/** What the service controller counts of its tasks for one decision. */
export interface ServiceObservation {
  deployments: DeploymentObservation[];
  /** `status.countedFailedTasks` to write with the decision: the counted failures that still exist, and the new ones. */
  countedFailedTasks: string[];
}

export interface ObserveOptions {
  now: Date;
  gracePeriodSeconds: number;
  /** `status.countedFailedTasks` as stored. */
  counted: readonly string[] | undefined;
  /** Whether the named container instance is draining (or deregistering): its tasks are to be replaced. */
  draining(instance: string): boolean;
}

/**
 * The service's tasks grouped by deployment (their `startedBy`), counted the way the rolling
 * arithmetic needs, and its failed launches split into those status already counts and the new ones.
 *
 *   e.g. counted [u1, u2]; STOPPED failed tasks u2, u3 exist (u1 was pruned): u3 is new, 1 failed
 *        launch to add to its deployment's failedTasks; countedFailedTasks becomes [u2, u3].
 */
export function observeService(tasks: readonly Task[], options: ObserveOptions): ServiceObservation {
  const counted = new Set(options.counted ?? []);
  const stillCounted: string[] = [];
  const byDeployment = new Map<string, DeploymentObservation>();
  for (const task of tasks) {
    const id = task.spec.startedBy ?? '';
    let entry = byDeployment.get(id);
    if (!entry) {
      entry = { deploymentId: id, taskDefinition: task.spec.taskDefinition, tasks: { ...emptyTally }, draining: { ...emptyTally }, newFailedLaunches: 0 };
      byDeployment.set(id, entry);
    }
    const phase = taskPhase(task, options.now, options.gracePeriodSeconds);
    if (phase === 'stopped') {
      if (!isFailedLaunch(task.status)) continue;
      const uid = task.metadata.uid!;
      if (!counted.has(uid)) entry.newFailedLaunches++;
      stillCounted.push(uid);
      continue;
    }
    entry.tasks[phase]++;
    const instance = task.spec.containerInstance;
    if (instance !== undefined && options.draining(instance)) entry.draining[phase]++;
  }
  return { deployments: [...byDeployment.values()], countedFailedTasks: stillCounted.sort() };
}
