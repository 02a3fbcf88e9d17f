import { hasRoom, rollingBounds, type TaskHealth } from './rolling';

/**
 * One step of a DAEMON service rollout. A daemon runs one task per eligible instance and has no
 * surge (maximumPercent ≤ 100): on each instance the old task is stopped first and the new one is
 * started there once the old is STOPPED. minimumHealthyPercent bounds how many instances may be
 * without a healthy task at once:
 *
 *   floor = ceil(minimumHealthyPercent × N / 100) instances with a healthy task, N = eligible instances
 *   so at most N − floor instances are in transition at a time.
 *
 * e.g. N = 4, min 50 %:  floor 2; with all 4 healthy, 2 old tasks stop, 2 new start on those
 *      instances once the old are STOPPED; when those are healthy the other 2 follow.
 *      N = 4, min 0 % (the DAEMON default): all 4 old tasks stop at once.
 *      N = 3, min 100 %: floor 3 would stall every rollout (a daemon never surges), so it is
 *      lowered to 2: one instance at a time, as Kubernetes' DaemonSet moves at least one node.
 *
 * Tasks that are not healthy never hold the rollout back: an old task that is still starting or
 * unhealthy on an instance is stopped at once (the instance is not serving anyway), and an
 * unhealthy new task is stopped so that it can be replaced.
 */

export interface DaemonInstanceState {
  instance: string;
  /** false once the instance drains, deregisters or stops meeting the placement constraints: its tasks go. */
  eligible: boolean;
  /** The task of an older deployment on the instance, if any. */
  old?: TaskHealth;
  /** The task of the PRIMARY deployment on the instance, if any. */
  new?: TaskHealth;
}

export interface DaemonStep {
  floor: number;
  /** Instances to start a PRIMARY task on. */
  startOn: string[];
  /** Instances whose old task to stop. */
  stopOldOn: string[];
  /** Instances whose PRIMARY task to stop: unhealthy, or the instance is no longer eligible. */
  stopNewOn: string[];
}

export function planDaemonStep(instances: DaemonInstanceState[], minimumHealthyPercent: number): DaemonStep {
  const ordered = [...instances].sort((a, b) => a.instance.localeCompare(b.instance));
  const eligible = ordered.filter((i) => i.eligible);
  const bounds = rollingBounds(eligible.length, minimumHealthyPercent, 100);
  const floor = hasRoom(eligible.length, bounds) ? bounds.floor : eligible.length - 1;
  const step: DaemonStep = { floor, startOn: [], stopOldOn: [], stopNewOn: [] };
  const live = (health: TaskHealth | undefined) => health !== undefined && health !== 'stopping';

  for (const { instance, old, new: current } of ordered.filter((i) => !i.eligible)) {
    if (live(old)) step.stopOldOn.push(instance);
    if (live(current)) step.stopNewOn.push(instance);
  }

  const replaceable: string[] = [];
  for (const { instance, old, new: current } of eligible) {
    if (current === 'unhealthy') step.stopNewOn.push(instance);
    if (!live(old)) {
      if (old === undefined && current === undefined) step.startOn.push(instance);
    } else if (current === 'healthy' || old !== 'healthy') {
      step.stopOldOn.push(instance);
    } else if (current === undefined) {
      replaceable.push(instance);
    }
  }

  const healthyInstances = eligible.filter((i) => i.old === 'healthy' || i.new === 'healthy').length;
  step.stopOldOn.push(...replaceable.slice(0, Math.max(0, healthyInstances - floor)));
  return step;
}
