/**
 * The arithmetic of capacity-provider managed scaling, as ECS defines it (ecs-semantics.md, "Scaling the
 * instances themselves"): the reservation metric and the size it calls for, bounded by the scaling steps
 * and the group's minSize..maxSize.
 */

export interface ScalingBounds {
  minSize: number;
  maxSize: number;
  /** Fewest instances a scale-out adds. */
  minimumScalingStepSize: number;
  /** Most instances a scale-out adds, or a scale-in removes. */
  maximumScalingStepSize: number;
}

/**
 * The capacity provider reservation, M / N × 100, rounded to a whole percent, with ECS's special cases
 * for a group with no instance running:
 *   M 4, N 2 → 200 (twice the instances running are needed);  M 3, N 4 → 75;  M 1, N 3 → 33;
 *   N 0, M 2 → 200 (scale out: nothing runs what is needed);  N 0, M 0 → 100 (nothing needed, nothing runs).
 */
export function reservationPercent(instancesNeeded: number, instancesRunning: number): number {
  if (instancesRunning === 0) return instancesNeeded > 0 ? 200 : 100;
  return Math.round((instancesNeeded / instancesRunning) * 100);
}

/**
 * The size at which the reservation meets targetCapacity: the smallest N with M / N × 100 <= target,
 * i.e. ceil(M × 100 / target):
 *   M 3, target 100 → 3 (no spare instance);  M 3, target 50 → 6 (as many spare as used);
 *   M 3, target 75 → 4 (3 / 4 = 75 %);  M 0 → 0 (the bounds then keep minSize).
 */
export function sizeForTarget(instancesNeeded: number, targetCapacity: number): number {
  return Math.ceil((instancesNeeded * 100) / targetCapacity);
}

/** `size` moved into minSize..maxSize. */
export function withinBounds(size: number, { minSize, maxSize }: Pick<ScalingBounds, 'minSize' | 'maxSize'>): number {
  return Math.min(Math.max(size, minSize), maxSize);
}

/**
 * The desired size after one scale-out from `current` towards `wanted` (> current): the step is at
 * least minimumScalingStepSize and at most maximumScalingStepSize, and the result stays in minSize..maxSize:
 *   current 2, wanted 7, steps 1..3, max 10 → 5 (a step of 5 capped at 3);
 *   current 2, wanted 3, steps 2..10, max 10 → 4 (a step of 1 raised to 2);
 *   current 9, wanted 12, steps 1..10, max 10 → 10 (maxSize).
 */
export function scaleOutSize(current: number, wanted: number, bounds: ScalingBounds): number {
  const step = Math.min(Math.max(wanted - current, bounds.minimumScalingStepSize), bounds.maximumScalingStepSize);
  return withinBounds(current + step, bounds);
}

/**
 * The desired size after one scale-in from `current` towards `wanted` (< current). Only instances
 * that run no task may go (managed termination protection), so no more than `removable` of them, and
 * at most maximumScalingStepSize at once, never below minSize (nor below `wanted`):
 *   current 6, wanted 2, 3 empty, max step 10, min 1 → 3 (3 instances still run tasks);
 *   current 6, wanted 2, 6 empty, max step 2, min 1 → 4;
 *   current 3, wanted 0, 3 empty, max step 10, min 1 → 1 (minSize).
 */
export function scaleInSize(current: number, wanted: number, removable: number, bounds: ScalingBounds): number {
  const floor = Math.max(wanted, bounds.minSize);
  const remove = Math.max(0, Math.min(current - floor, removable, bounds.maximumScalingStepSize));
  return current - remove;
}
