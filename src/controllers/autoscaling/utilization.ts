import type { Task, TaskDefinitionSpec } from '../../api';
import { taskRequirements } from '../../ecs/resources';

export type UtilizationMetric = 'ECSServiceAverageCPUUtilization' | 'ECSServiceAverageMemoryUtilization';
export type ScalingMetric = UtilizationMetric | 'ALBRequestCountPerTarget';
export type Statistic = 'Average' | 'Minimum' | 'Maximum';

/** A datapoint of a service metric, and the tasks behind it. */
export interface Datapoint {
  value: number;
  /** RUNNING tasks whose usage went into it. */
  tasks: number;
  /** The newest report in it (milliseconds since the epoch): a datapoint no newer than the last is no new datapoint. */
  sampledAt: number;
}

/**
 * A service's CPU or memory utilization now, from what its RUNNING tasks' agents last reported, as ECS
 * computes it: units used over units reserved, × 100. Average over the service: Σ used / Σ reserved, so
 * two tasks reserving 256 units each and using 384 and 128 are at (384 + 128) / 512 × 100 = 100 %; Minimum
 * and Maximum take the least and most utilized task (50 % and 150 % there). A task can be above 100 %: a
 * container may use more CPU than it reserves when the instance has it free. Memory divides by what the task
 * reserves: memoryReservation where a container has one, else its memory limit (ecs/resources).
 * A report older than `maxAgeMs` is left out (its agent may be gone); undefined when no task is left, which
 * the alarms read as missing data.
 */
export function serviceUtilization(
  tasks: readonly Task[],
  specOf: (task: Task) => TaskDefinitionSpec | undefined,
  metric: UtilizationMetric,
  statistic: Statistic,
  now: number,
  maxAgeMs: number,
): Datapoint | undefined {
  const samples: { used: number; reserved: number }[] = [];
  let newest = 0;
  for (const task of tasks) {
    const usage = task.status?.usage;
    if (task.status?.lastStatus !== 'RUNNING' || !usage || now - Date.parse(usage.sampledAt) > maxAgeMs) continue;
    const spec = specOf(task);
    if (!spec) continue;
    const reserved = metric === 'ECSServiceAverageCPUUtilization' ? taskRequirements(spec).cpu : taskRequirements(spec).memory;
    if (reserved <= 0) continue;
    samples.push({ used: metric === 'ECSServiceAverageCPUUtilization' ? usage.cpuUnits : usage.memoryMiB, reserved });
    newest = Math.max(newest, Date.parse(usage.sampledAt));
  }
  if (samples.length === 0) return undefined;
  const percents = samples.map((sample) => (sample.used / sample.reserved) * 100);
  const value =
    statistic === 'Minimum'
      ? Math.min(...percents)
      : statistic === 'Maximum'
        ? Math.max(...percents)
        : (sum(samples.map((sample) => sample.used)) / sum(samples.map((sample) => sample.reserved))) * 100;
  return { value, tasks: samples.length, sampledAt: newest };
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
