/**
 * Target tracking's new capacity, as Application Auto Scaling sizes it: the running tasks scaled by how far
 * the metric is from its target, rounded up, so scale-out never adds too little and scale-in never removes
 * too much. AWS does not publish the formula; this one (the Kubernetes HPA's too) fits what it documents:
 *   4 tasks at 80 % CPU, target 50 %: 4 × 80 / 50 = 6.4 → 7 tasks (3 added, where 2.4 were needed);
 *   10 tasks at 20 % CPU, target 50 %: 10 × 20 / 50 = 4 → 4 tasks (6 removed, the load then sits at 50 %);
 *   10 tasks at 41 %, target 50 %: 8.2 → 9 tasks (1 removed, not 1.8: 9 tasks run at 45.6 %, under the target).
 * It starts from the tasks that reported the metric, not desiredCount, as ECS starts from the running count:
 * tasks still starting carry no load yet and would make the service look less busy than it is.
 */
export function targetTrackingCapacity(runningTasks: number, metricValue: number, targetValue: number): number {
  // 1e-9 absorbs floating-point error: 3 × 50 / 50 must be 3, not ceil(3.0000000000000004) = 4.
  return Math.max(0, Math.ceil((runningTasks * metricValue) / targetValue - 1e-9));
}

/**
 * The alarms target tracking keeps for each metric, as AAS creates them: AlarmHigh when the metric is above the
 * target for 3 datapoints in a row (3 minutes at ECS's 1-minute datapoints), AlarmLow when it is below 90 % of
 * the target for 15 in a row. The low threshold is why a service at 46 % on a 50 % target is left alone:
 * removing a task would push the rest over the target.
 */
export const targetTrackingAlarms = {
  high: { datapointsToAlarm: 3, thresholdFactor: 1 },
  low: { datapointsToAlarm: 15, thresholdFactor: 0.9 },
} as const;
